"""Slack's HTTP mode: the one door every request from the internet comes through.

Each POST to /slack/events is checked in this order before Bolt sees it, and refused at the
first check it fails, with one log line that never holds the body or the signature:
1. the body is at most the limit (413, before it is read past the limit: bot/http_limits.py);
2. the timestamp header is a whole number of seconds within five minutes of now (401);
3. the signature is Slack's HMAC-SHA256 over `v0:timestamp:body` with our signing secret (401);
4. the body is what Slack sends: a JSON object, or form fields with a JSON-object `payload`,
   with the fields our listeners read (400): a forged-but-signed or broken payload never
   reaches a listener, so it cannot turn into a 500 or a dropped connection;
5. the signature has not been applied before (a replay within the window is answered 200, like
   any request, and applied zero times: this check runs in the work after the ack). The
   signature, with its timestamp, is recorded in the database, so the check holds across
   restarts and between processes sharing the database. Slack's own retries of an event are
   new requests with a new signature; they are applied once by their event_id, as before.

A request that passes is answered 200 at once and its work handed to the app's bounded pool
after the response is sent (bot/slack/dispatch.py); only Slack's own checks (url_verification,
ssl_check) are answered by Bolt, since the answer is their response.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.http_limits import (
    DEFAULT_MAX_BODY_BYTES,
    BadLength,
    BodyTooLarge,
    bad_request,
    read_body,
    too_large,
)
from bot.observability import metrics
from bot.observability.health import Readiness, health_routes
from bot.observability.logs import WithoutRequestContent
from bot.observability.requests import Observed, work_done
from bot.slack.dispatch import SlackApp, sender_of
from bot.slack.events import CHANNEL
from bot.storage import Storage, StorageError

if TYPE_CHECKING:
    from bot.settings import Settings

EVENTS_PATH = "/slack/events"
"""Bolt's default path, also the request URL in manifest.yml."""
REPLAY_WINDOW = 5 * 60
"""Seconds a signed request is accepted after its timestamp (Slack's own advice)."""
TIMESTAMP = re.compile(r"[0-9]{1,12}")

log = logging.getLogger("bot.slack.http")


# ---- what Bolt may log ---------------------------------------------------------------------------
def bolt_logger() -> logging.Logger:
    """The logger handed to Bolt: Bolt copies its filters to every logger it makes. Bolt writes
    request bodies (and, for a bad signature, the signature) into some of its messages; those
    are replaced by a neutral line (bot/observability/logs.py), whatever handler is set up."""
    logger = logging.getLogger("bot.slack.bolt")
    if not any(isinstance(f, WithoutRequestContent) for f in logger.filters):
        logger.addFilter(WithoutRequestContent())
    return logger


# ---- checks --------------------------------------------------------------------------------------
class SignedRequests:
    """Steps 2, 3 and 5 above: is this request from Slack, and is it the first time we see it?"""

    def __init__(
        self,
        signing_secret: str,
        storage: Storage | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.verifier = SignatureVerifier(signing_secret)
        self.storage = storage
        self.clock = clock

    def refusal(self, headers: Mapping[str, str], body: bytes) -> str | None:
        """Why the request is not Slack's, or None when it is."""
        stamp = headers.get("x-slack-request-timestamp", "").strip()
        if not TIMESTAMP.fullmatch(stamp):
            return "missing or malformed X-Slack-Request-Timestamp"
        if abs(self.clock() - int(stamp)) > REPLAY_WINDOW:
            return "X-Slack-Request-Timestamp outside the 5-minute window"
        signature = headers.get("x-slack-signature", "")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return "the body is not UTF-8"
        expected = self.verifier.generate_signature(timestamp=stamp, body=text)
        if not signature or expected is None or not _same(expected, signature):
            return "bad signature"
        return None

    def first_time(self, headers: Mapping[str, str]) -> bool:
        """Record the (verified) signature; False for a replay. If the database cannot record it,
        the request goes on: the answer it carries cannot be stored either, and the user is
        told so by the service, which is better than a silent refusal."""
        if self.storage is None:
            return True
        signature = headers.get("x-slack-signature", "")
        stamp = int(headers.get("x-slack-request-timestamp", "0"))
        try:
            return self.storage.first_signed_request(
                signature, stamp, oldest=int(self.clock()) - 2 * REPLAY_WINDOW
            )
        except StorageError as exc:
            log.warning("could not record a request for replay protection: %s", type(exc).__name__)
            return True


def _same(expected: str, given: str) -> bool:
    import hmac

    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


@dataclass(frozen=True)
class SlackPayload:
    """A signed body our listeners can read, parsed once."""

    data: dict[str, Any]
    """The JSON object (an event, or an interaction's `payload`), or a slash command's fields."""
    answered_by_bolt: bool = False
    """Slack's own checks (url_verification, ssl_check): Bolt's answer is the response itself,
    so they are dispatched before responding, not acknowledged first."""


def read_payload(content_type: str, text: str) -> SlackPayload | str:
    """The parsed body, or why a signed body is not a request our listeners can read. Parsed
    the way Bolt parses it (bolt's request/internals.py parse_body), so what passes here parses
    there."""
    if content_type == "application/json" or text.startswith("{"):
        data = _json_object(text)
        if data is None:
            return "the body is not a JSON object"
        problem = _event_problem(data)
        if problem is not None:
            return problem
        return SlackPayload(data, answered_by_bolt=data.get("type") == "url_verification")
    if "payload" in text:
        payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
        data = _json_object(payload) if payload is not None else None
        if data is None:
            return "payload is not a JSON object"
        return _interaction_problem(data) or SlackPayload(data)
    fields = dict(parse_qsl(text, keep_blank_values=True))
    if fields.get("ssl_check"):
        return SlackPayload(fields, answered_by_bolt=True)  # Slack checking our certificate
    if fields.get("command"):
        missing = [name for name in ("team_id", "user_id") if not fields.get(name)]
        return f"a slash command without {', '.join(missing)}" if missing else SlackPayload(fields)
    return "neither an event, an interaction nor a slash command"


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _event_problem(data: dict[str, Any]) -> str | None:
    kind = data.get("type")
    if kind == "url_verification":
        return (
            None if isinstance(data.get("challenge"), str) else "url_verification without challenge"
        )
    if kind == "event_callback":
        event = data.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "event_callback without an event"
        return None
    return "an unknown request type"


def _interaction_problem(data: dict[str, Any]) -> str | None:
    user = data.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        return "an interaction without a user"
    if data.get("type") == "block_actions":
        actions = data.get("actions")
        if not isinstance(actions, list) or not actions:
            return "block_actions without actions"
        first = actions[0]
        if not isinstance(first, dict) or not isinstance(first.get("action_id"), str):
            return "block_actions whose action has no action_id"
        return None
    return "an unknown interaction type"


# ---- the server ----------------------------------------------------------------------------------
def web_app(
    bolt_app: SlackApp,
    storage: Storage | None = None,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    signing_secret: str | None = None,
    scheduler: Callable[[], bool] | None = None,
    settings: Settings | None = None,
) -> Starlette:
    """HTTP mode: POST /slack/events, checked as the module says, acknowledged at once, and
    then dispatched to Bolt in the app's work pool (bot/slack/dispatch.py). `storage` keeps the
    signatures already applied; `signing_secret` defaults to the one Bolt was built with.

    Beside it, in OAuth mode, GET /slack/install and /slack/oauth_redirect (`oauth_routes`);
    /healthz, /readyz (the service's database; `scheduler` says whether this process
    runs the pulse scheduler) and /metrics (bot/observability/health.py); each request to
    /slack/events gets a request id and is timed (bot/observability/requests.py). With
    `settings` that set MATURITY_WEB_URL, the dashboard's pages after all of them (bot/web)."""
    secret = signing_secret if signing_secret is not None else bolt_app._signing_secret
    guard = SignedRequests(secret or "", storage)
    dispatch = bolt_app.ack_first

    async def events(request: Request) -> Response:
        try:
            body = await read_body(request, max_body_bytes)
        except BodyTooLarge:
            log.warning("refused a request to %s: body over %s bytes", EVENTS_PATH, max_body_bytes)
            metrics.refused(CHANNEL, "too_large")
            return too_large(max_body_bytes)
        except BadLength:
            metrics.refused(CHANNEL, "bad_payload")
            return bad_request("bad Content-Length")
        headers = request.headers
        refused = guard.refusal(headers, body)
        if refused is not None:
            log.warning("refused a request to %s: %s", EVENTS_PATH, refused)
            metrics.refused(CHANNEL, "unsigned")
            return PlainTextResponse("invalid request", status_code=401)
        text = body.decode("utf-8")
        content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        payload = read_payload(content_type, text)
        if isinstance(payload, str):
            log.warning("refused a signed request: %s", payload)
            metrics.refused(CHANNEL, "bad_payload")
            return bad_request(payload)
        if payload.answered_by_bolt:
            if not await asyncio.to_thread(guard.first_time, headers):
                return _replayed()
            bolt_request = to_bolt_request(request, body)
            answer: BoltResponse = await asyncio.to_thread(bolt_app.dispatch, bolt_request)
            return to_starlette_response(answer)
        if dispatch.admit():
            parsed = ParsedRequest(payload.data, text, request.query_params, headers)
            work = partial(_apply_once, bolt_app, guard, headers, parsed)
            return Response(
                status_code=200, background=BackgroundTask(_later, dispatch.pool.start, work)
            )
        metrics.refused(CHANNEL, "busy")
        sender = sender_of(payload.data, grid=bolt_app.oauth_flow is not None)
        busy = await asyncio.to_thread(dispatch.busy_ack, sender)
        if busy is not None:
            return JSONResponse(busy)
        return Response(
            status_code=200, background=BackgroundTask(_later, dispatch.notify_busy, sender)
        )

    database = storage if storage is not None else bolt_app.ack_first.service.storage
    readiness = Readiness(database, scheduler)
    return Starlette(
        routes=[
            Route(EVENTS_PATH, events, methods=["POST"]),
            *oauth_routes(bolt_app),
            *health_routes(readiness),
            *dashboard_routes(database, settings, bolt_app),
        ],
        middleware=[Middleware(Observed, channel=CHANNEL, paths=[EVENTS_PATH])],
    )


def dashboard_routes(
    storage: Storage, settings: Settings | None, bolt_app: SlackApp
) -> list[BaseRoute]:
    """The dashboard (bot/web), when `settings` give it a MATURITY_WEB_URL: one process serves
    Slack and the pages the sign-in links open. Last in the routes: its Mount takes every path
    Slack's own routes did not."""
    if settings is None or not settings.maturity_web_url:
        return []
    from bot.web.app import web_routes

    return web_routes(storage, settings, bolt_app.ack_first.service.models)


def oauth_routes(bolt_app: SlackApp) -> list[Route]:
    """OAuth mode (bot/slack/oauth.py): GET /slack/install and /slack/oauth_redirect, answered
    by Bolt's own OAuth flow (state issued, then checked once against our store and the
    browser's cookie; the code exchanged; the token stored). None without OAuth."""
    flow = bolt_app.oauth_flow
    if flow is None:
        return []

    async def install(request: Request) -> Response:
        answer = await asyncio.to_thread(flow.handle_installation, to_bolt_request(request, b""))
        return to_starlette_response(answer)

    async def redirect(request: Request) -> Response:
        answer = await asyncio.to_thread(flow.handle_callback, to_bolt_request(request, b""))
        return to_starlette_response(answer)

    return [
        Route(flow.install_path, install, methods=["GET"]),
        Route(flow.redirect_uri_path, redirect, methods=["GET"]),
    ]


class ParsedRequest(BoltRequest):
    """A BoltRequest of a body this module parsed already: Bolt would parse it again, and the
    percent-decoding of an interaction's payload (it carries the whole pressed message) was
    the largest single cost per answer. Built through Bolt's constructor for a parsed body
    (the one Socket Mode uses), then marked as the HTTP request it is."""

    def __init__(
        self, data: dict[str, Any], text: str, query: Mapping[str, str], headers: Mapping[str, str]
    ) -> None:
        super().__init__(body=data, query=dict(query), headers=dict(headers), mode="socket_mode")
        self.raw_body = text
        self.mode = "http"


def _apply_once(
    bolt_app: SlackApp, guard: SignedRequests, headers: Mapping[str, str], request: ParsedRequest
) -> None:
    """The work of an acknowledged request, in a pool thread: record its signature (a replay
    is answered 200 like any request, and applied zero times), then let Bolt run the listener.
    Both happen here, not on the event loop, which only acknowledges."""
    if not guard.first_time(headers):
        _replayed()
        return
    try:
        bolt_app.dispatch(request)
    finally:
        work_done(CHANNEL)


def _replayed() -> Response:
    log.warning("refused a replayed request (its signature was applied before)")
    metrics.refused(CHANNEL, "replay")
    return Response(status_code=200)


async def _later(call: Callable[[Any], None], argument: Any) -> None:
    """A background task that runs after the response is sent (so the ack goes first); async,
    so Starlette calls it on the event loop: `call` only hands work to a thread."""
    call(argument)
