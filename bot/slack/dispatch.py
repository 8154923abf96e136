"""Acknowledge first, work after, in both Slack modes.

Slack wants every request acknowledged within 3 seconds. Bolt's own way (lazy listeners with
`process_before_response=False`) runs the acknowledgement in the same small thread pool as the
work, so under load the ack queues behind the answers in progress (measured: ack p50 12 ms for
one user, 550 ms at 200 concurrent users, heading for Slack's limit near 1,000 in flight).

Here the ack never waits for work: the HTTP endpoint (bot/slack/http.py) and the Socket Mode
handler below reserve a place in `WorkPool`, answer Slack at once, and only then hand the
request to Bolt, which runs the listener in one of the pool's threads
(`process_before_response=True`, so Bolt's dispatch is the work itself). The pool is bounded:
when `max_pending` requests are waiting or in work, a new one is still acknowledged, nothing of
it is applied, and the user is told the bot is busy and to try again (a slash command in its
ack, a button or a message with a DM of its own), rather than waiting minutes or being dropped
silently. Only Slack's own checks (url_verification, ssl_check) are answered by Bolt before
the response, because their answer is the response.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.service import AssessmentService
from bot.slack.events import CHANNEL, external_id, workspace_of
from bot.slack.texts import st
from bot.storage import StorageError
from flows.i18n import normalise_language

NOTICE_BACKLOG = 100
"""Busy notices waiting to be posted at most; beyond that they are only logged."""

log = logging.getLogger("bot.slack.dispatch")


class WorkPool:
    """Threads for the work of acknowledged requests, with at most `max_pending` of them
    waiting or running: `reserve` a place first (cheap, never blocks), then `start` the work."""

    def __init__(self, threads: int, max_pending: int, executor: Executor | None = None) -> None:
        self._executor = executor or ThreadPoolExecutor(threads, thread_name_prefix="slack-work")
        self._max_pending = max_pending
        self._pending = 0
        self._lock = threading.Lock()

    @property
    def pending(self) -> int:
        """Requests waiting or in work now."""
        return self._pending

    def reserve(self) -> bool:
        with self._lock:
            if self._pending >= self._max_pending:
                return False
            self._pending += 1
            return True

    def start(self, work: Callable[[], object]) -> None:
        """Run reserved `work` in a thread; its place is given back when it ends, whatever
        happens. The work runs in a copy of the caller's context, so its log lines carry the
        request's id and its end can be timed from the request's arrival (bot/observability)."""
        context = contextvars.copy_context()
        try:
            self._executor.submit(context.run, self._run, work)
        except RuntimeError:  # shutting down: the request was acknowledged, say it was not done
            self._release()
            log.warning("a Slack request arrived while the bot was stopping; it was not handled")

    def _run(self, work: Callable[[], object]) -> None:
        try:
            work()
        except Exception:  # Bolt logs listener errors itself; this is a last resort
            log.exception("a Slack request's work failed")
        finally:
            self._release()

    def _release(self) -> None:
        with self._lock:
            self._pending -= 1

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking work; with `wait`, let the work in flight finish (before the database is
        closed)."""
        self._executor.shutdown(wait=wait)


@dataclass(frozen=True)
class Sender:
    """Who sent a request and where a busy notice reaches them."""

    team_id: str
    """The workspace key (bot/slack/member.py), as the app stores members in its mode."""
    user_id: str
    dm: str | None
    """The DM to post a notice in; None when there is none (a Home tab button)."""
    command: bool
    """A slash command: its notice goes in the ack itself."""


def sender_of(body: dict[str, Any], *, grid: bool = False) -> Sender | None:
    """The user behind a parsed request body (HTTP and Socket Mode carry the same shapes);
    None when nobody is waiting for an answer (another bot's message, an edit, a join).
    `grid`: OAuth mode, where a Grid workspace is its organisation and team."""
    workspace = workspace_of(body, grid=grid)
    if body.get("command"):
        return Sender(workspace, str(body.get("user_id", "")), None, True)
    event = body.get("event")
    if isinstance(event, dict):
        user = event.get("user")
        if not isinstance(user, str) or event.get("bot_id") or event.get("subtype"):
            return None
        dm = event.get("channel") if event.get("channel_type") == "im" else None
        return Sender(workspace, user, dm, False)
    user = body.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        return None
    container = body.get("container") or {}
    dm = container.get("channel_id") if container.get("type") == "message" else None
    return Sender(workspace, user["id"], dm, False)


class AckFirst:
    """The dispatch both modes share: admit a request (or say busy), and run its work."""

    def __init__(self, bolt: App, service: AssessmentService, pool: WorkPool) -> None:
        self.bolt = bolt
        self.service = service
        self.pool = pool
        self._notices = WorkPool(1, NOTICE_BACKLOG)
        self.notice_client: Callable[[Sender], Any] = lambda sender: bolt.client
        """The Web API client that reaches a sender's workspace (OAuth mode: its own token)."""

    def admit(self) -> bool:
        """A place for one more request's work; False when the bot is too busy."""
        return self.pool.reserve()

    def busy_ack(self, sender: Sender | None) -> dict[str, Any] | None:
        """The ack of a refused slash command: an ephemeral line saying so, in the user's
        language; None for other requests (their notice is a DM: `notify_busy`)."""
        if sender is None or not sender.command:
            return None
        return {"response_type": "ephemeral", "text": st("busy", self.language(sender))}

    def notify_busy(self, sender: Sender | None) -> None:
        """Tell the sender of a refused button press or message, in their DM, in a thread of
        its own; with too many notices waiting, the refusal is only logged."""
        log.warning("too busy: a Slack request was acknowledged but not handled")
        if sender is None or sender.command or sender.dm is None:
            return
        if not self._notices.reserve():
            return
        dm = sender.dm
        self._notices.start(lambda: self._post_notice(sender, dm))

    def _post_notice(self, sender: Sender, dm: str) -> None:
        try:
            client = self.notice_client(sender)
            if client is None:
                log.warning("no installation for a busy notice's workspace; not sent")
                return
            client.chat_postMessage(channel=dm, text=st("busy", self.language(sender)))
        except SlackApiError as exc:
            log.warning("Slack chat.postMessage failed: %s", exc.response.get("error"))
        except (SlackClientError, OSError) as exc:
            log.warning("Slack chat.postMessage failed: %s", type(exc).__name__)

    def language(self, sender: Sender) -> str:
        """The stored language; a user we do not know yet gets the default (no Web API call:
        the bot is busy)."""
        try:
            stored = self.service.language(CHANNEL, external_id(sender.team_id, sender.user_id))
        except StorageError:  # the database is what is overloaded: still say something
            stored = None
        return normalise_language(stored)

    def shutdown(self, wait: bool = True) -> None:
        self.pool.shutdown(wait=wait)
        self._notices.shutdown(wait=wait)


class SlackApp(App):
    """Bolt's App with the dispatch that acknowledges first (set by bot/slack/app.py)."""

    ack_first: AckFirst


class AckFirstSocketModeHandler(SocketModeHandler):
    """Socket Mode: the envelope is acknowledged over the WebSocket before any work starts."""

    app: SlackApp

    def handle(self, socket: BaseSocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        dispatch = self.app.ack_first
        if req.type not in ("events_api", "slash_commands", "interactive"):
            super().handle(socket, req)  # anything else: Bolt answers as before
            return
        if dispatch.admit():
            socket.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            dispatch.pool.start(lambda: run_bolt_app(self.app, req))
            return
        sender = sender_of(req.payload if isinstance(req.payload, dict) else {})
        payload = dispatch.busy_ack(sender)
        socket.send_socket_mode_response(
            SocketModeResponse(envelope_id=req.envelope_id, payload=payload)
        )
        dispatch.notify_busy(sender)
