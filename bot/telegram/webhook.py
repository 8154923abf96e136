"""Telegram's webhook: our own small Starlette server in front of the Application's update queue.

Why not PTB's built-in webhook server (tornado): it reads a body of up to 100 MB before anything
is checked, and answers a request with the right secret but a body that is not JSON with a 500.
This one checks, in order, and stops at the first failure with one log line (never the body):
1. the secret Telegram sends in X-Telegram-Bot-Api-Secret-Token (403);
2. the body is at most the limit (413, before it is read past it: bot/http_limits.py);
3. the body is a JSON object that is an Update (400; nothing is queued, so nothing is stored).
Then the update goes to the Application's queue, exactly as PTB's own server does it, and is
handled like a polled one (its update_id recorded with its effect, so a redelivery is a no-op).

Beside the webhook: /healthz, /readyz and /metrics (bot/observability/health.py), and with
MATURITY_WEB_URL the dashboard's pages (bot/web), so one process serves both. Each webhook
request gets a request id; an update's handling carries it into its log lines and is timed from
the request's arrival to its end, by two handlers around ours (one group before, one after).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

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
from bot.observability.logs import REQUEST_ID
from bot.observability.requests import ARRIVED, Observed, work_done
from bot.telegram.updates import CHANNEL

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
READINESS = "maturity_readiness"
"""The key in `Application.bot_data` of what /readyz checks (set by build_application)."""
DASHBOARD_ROUTES = "maturity_dashboard_routes"
"""The key in `Application.bot_data` of the dashboard's routes (bot/web), served after ours."""
MAX_IN_FLIGHT = 10_000
"""Arrivals kept for updates not handled yet; past it the oldest are forgotten (not timed)."""

log = logging.getLogger("bot.telegram.webhook")


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    """The public URL Telegram posts to (setWebhook)."""
    listen: str
    port: int
    secret: str
    """Telegram sends it in X-Telegram-Bot-Api-Secret-Token; requests without it get 403."""
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    @property
    def path(self) -> str:
        return urlsplit(self.url).path.strip("/")


def update_from(body: bytes, app: Application) -> Update | None:
    """The Update in a webhook body, or None when the body is not one."""
    try:
        data = json.loads(body)
    except ValueError:  # UnicodeDecodeError included
        return None
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        return None
    try:
        return Update.de_json(data, app.bot)
    except Exception:  # PTB raises what the field parsers raise (KeyError, TypeError, ...)
        return None


class Arrivals:
    """The request id and arrival time of each webhook update on its way through PTB's queue:
    PTB handles an update in a task of its own, so the request's context does not go with it.
    The handler of group -1 puts them back into the handling task's context; the one of group
    1 (after ours, which handles every update in group 0) times the end and forgets them."""

    def __init__(self) -> None:
        self.waiting: dict[int, tuple[str | None, float | None]] = {}

    def arrived(self, update: Update) -> None:
        if len(self.waiting) >= MAX_IN_FLIGHT:
            self.waiting.pop(next(iter(self.waiting)))
        self.waiting[update.update_id] = (REQUEST_ID.get(), ARRIVED.get())

    async def begin(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        request_id, arrived = self.waiting.get(update.update_id, (None, None))
        REQUEST_ID.set(request_id)
        ARRIVED.set(arrived)

    async def end(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if self.waiting.pop(update.update_id, None) is not None:
            work_done(CHANNEL)

    def install(self, app: Application) -> None:
        app.add_handler(TypeHandler(Update, self.begin), group=-1)
        app.add_handler(TypeHandler(Update, self.end), group=1)


def webhook_app(app: Application, config: WebhookConfig) -> Starlette:
    """POST /<path of the webhook URL>, checked as the module says, onto `app.update_queue`;
    and the health routes, with what `app.bot_data[READINESS]` says to check."""
    secret = config.secret.encode()
    arrivals = Arrivals()
    arrivals.install(app)

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, secret):
            log.warning("refused a webhook request: wrong or missing secret token")
            metrics.refused(CHANNEL, "unsigned")
            return PlainTextResponse("forbidden", status_code=403)
        try:
            body = await read_body(request, config.max_body_bytes)
        except BodyTooLarge:
            log.warning("refused a webhook request: body over %s bytes", config.max_body_bytes)
            metrics.refused(CHANNEL, "too_large")
            return too_large(config.max_body_bytes)
        except BadLength:
            metrics.refused(CHANNEL, "bad_payload")
            return bad_request("bad Content-Length")
        update = update_from(body, app)
        if update is None:
            log.warning("refused a webhook request: the body is not a Telegram update")
            metrics.refused(CHANNEL, "bad_payload")
            return bad_request("the body is not a Telegram update")
        arrivals.arrived(update)
        await app.update_queue.put(update)
        return Response(status_code=200)

    path = "/" + config.path
    readiness: Readiness | None = app.bot_data.get(READINESS)
    return Starlette(
        routes=[
            Route(path, receive, methods=["POST"]),
            *health_routes(readiness),
            *app.bot_data.get(DASHBOARD_ROUTES, []),  # last: its Mount takes every other path
        ],
        middleware=[Middleware(Observed, channel=CHANNEL, paths=[path])],
    )


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: the bot's loop already turns Ctrl-C and SIGTERM
    into a clean stop of the whole Application, the server included."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WebhookServer:
    """The webhook's HTTP server on the running loop. The port is bound in `start`, before
    Telegram is told the URL, so a port in use stops start-up with OSError (one line for the
    operator, see bot/telegram/app.py run_telegram) and Telegram never posts to a dead URL."""

    def __init__(self, app: Application, config: WebhookConfig) -> None:
        self.app = app
        self.config = config
        self._server: _Server | None = None
        self._task: asyncio.Task | None = None
        self._socket: socket.socket | None = None

    async def start(self, allowed_updates: list[str]) -> None:
        sock = socket.socket(socket.AF_INET6 if ":" in self.config.listen else socket.AF_INET)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.config.listen, self.config.port))
        except OSError:
            sock.close()
            raise
        self._socket = sock
        config = uvicorn.Config(
            webhook_app(self.app, self.config),
            log_level="warning",
            lifespan="off",
            access_log=False,
            log_config=None,  # uvicorn's lines go through the bot's logging (text or JSON)
        )
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
                raise OSError("the webhook server stopped at start-up")
            await asyncio.sleep(0.01)
        await self.app.bot.set_webhook(
            url=self.config.url,
            secret_token=self.config.secret,
            allowed_updates=allowed_updates,
        )

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(Exception):
                await self._task
        if self._socket is not None:
            self._socket.close()
        self._server = self._task = self._socket = None
