"""Each platform request, seen from outside: an id for its log lines and its response, and
how long until it was acknowledged and until its work was done.

Why an ASGI wrapper and not code in the endpoints: the ack latency ends when the response
starts, which only the server's `send` sees, and the id must be set before the endpoint's first
log line. The wrapper sets both context variables in the request's own task; Starlette runs the
endpoint and its background task in that task, and the work pool copies the context into the
thread that does the work (bot/slack/dispatch.py), so the work's lines carry the same id and
the work's end can be timed from the arrival.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection, MutableMapping
from contextvars import ContextVar
from typing import Any

from bot.observability import metrics
from bot.observability.logs import REQUEST_ID, new_request_id

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

REQUEST_ID_HEADER = b"x-request-id"
ARRIVED: ContextVar[float | None] = ContextVar("maturity_request_arrived", default=None)
"""time.perf_counter() when the request being handled arrived."""


class Observed:
    """Wraps an ASGI app: requests to `paths` (a platform's endpoint, not /metrics or the
    health checks) get a new request id, returned in X-Request-Id, and their 2xx responses
    count in the ack latency of `channel`."""

    def __init__(self, app: ASGIApp, channel: str, paths: Collection[str]) -> None:
        self.app = app
        self.channel = channel
        self.paths = frozenset(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") not in self.paths:
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        arrived = time.perf_counter()
        id_token, arrived_token = REQUEST_ID.set(request_id), ARRIVED.set(arrived)

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or ())
                message["headers"] = [*headers, (REQUEST_ID_HEADER, request_id.encode())]
                if 200 <= message["status"] < 300:
                    metrics.acked(self.channel, time.perf_counter() - arrived)
            await send(message)

        try:
            await self.app(scope, receive, timed)
        finally:
            REQUEST_ID.reset(id_token)
            ARRIVED.reset(arrived_token)


def work_done(channel: str) -> None:
    """The current request's work ended: its reply latency (from its arrival). Outside a
    request (no arrival known) nothing is counted."""
    arrived = ARRIVED.get()
    if arrived is not None:
        metrics.replied(channel, time.perf_counter() - arrived)
