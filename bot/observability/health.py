"""/healthz, /readyz and /metrics: the routes both HTTP modes (Slack `--http`, the Telegram
webhook) serve beside their platform endpoint, for a load balancer and Prometheus.

- /healthz: 200 while the process's event loop answers (a liveness probe: restart me if not).
- /readyz: 200 when the database answers and its schema is exactly this version's, else 503
  with a short JSON reason (a readiness probe: send me no requests until it passes). It also
  says whether this process runs the pulse scheduler; a worker that does not is still ready
  (one scheduler among the workers is the rule, not a fault).
- /metrics: Prometheus' text format (bot/observability/metrics.py).

None of them reads a request body or says anything a user typed. /metrics and /readyz are
for the operator's network: a reverse proxy should expose only the platform endpoint.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.observability import metrics, worker_name

READINESS_TIMEOUT = 5.0
"""Seconds /readyz waits for the database (a writer holding the lock longer is not ready)."""
HEALTH_PATHS = ("/healthz", "/readyz", "/metrics")


class Database(Protocol):
    """What /readyz asks the storage (bot/storage/connection.py), on either backend."""

    def ping(self) -> bool: ...
    def schema_current(self) -> bool: ...


@dataclass(frozen=True)
class Readiness:
    """What /readyz asks."""

    database: Database
    scheduler: Callable[[], bool] | None = None
    """Whether this process runs the pulse scheduler now (holds its lease); None when it has
    none."""


def scheduler_running(holder: Any) -> bool:
    """Whether THIS process runs the pulse schedule now: the PulseScheduler of `holder` (Slack's
    PulseRuntime, the TelegramPulse: both keep theirs, or None, in `scheduler`) is started and
    holds the scheduler lease (bot/pulse/scheduler.py). Of the workers sharing a database, one
    says "running"; the others are just as ready."""
    pulse_scheduler = getattr(holder, "scheduler", None)
    return bool(pulse_scheduler is not None and pulse_scheduler.leading)


def health_routes(readiness: Readiness | None) -> list[Route]:
    """The three routes; without `readiness` /readyz says there is nothing to check with."""

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(request: Request) -> Response:
        if readiness is None:
            return _not_ready("no database to check", None)
        state = None
        if readiness.scheduler is not None:
            state = "running" if readiness.scheduler() else "not running"
        try:
            problem = await asyncio.wait_for(
                asyncio.to_thread(database_problem, readiness.database), READINESS_TIMEOUT
            )
        except TimeoutError:
            problem = f"the database did not answer within {READINESS_TIMEOUT:g} s"
        if problem is not None:
            return _not_ready(problem, state)
        return JSONResponse(_body("ready", state, database="ok"))

    async def metrics_text(request: Request) -> Response:
        text, content_type = metrics.exposition()
        return Response(text, media_type=content_type)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_text, methods=["GET"]),
    ]


def database_problem(database: Database) -> str | None:
    """Why the database is not ready, in a few words (never a driver's message: it can hold
    a host name or a user), or None."""
    if not database.ping():
        return "the database does not answer"
    if not database.schema_current():
        return "the database schema is not this version's (a newer or older maturity-bot's)"
    return None


def _not_ready(reason: str, scheduler: str | None) -> Response:
    return JSONResponse(_body("not ready", scheduler, reason=reason), status_code=503)


def _body(status: str, scheduler: str | None, **fields: str) -> dict[str, str]:
    body = {"status": status, **fields, "worker": worker_name()}
    if scheduler is not None:
        body["scheduler"] = scheduler
    return body
