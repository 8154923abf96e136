"""`maturity-bot slack --http --workers N`: N processes of the Slack HTTP app on one port
(bot/workers.py says how and why uvicorn's supervisor starts them).

`run` is the platform's runner: one process is `bot.slack.run.run_slack` as always; N are
started by the parent here after it checked, once, what every worker would check (the
settings, the bot token with auth.test, the port). Each worker then builds the same app as one
process does, with `worker_app`, from the settings and MATURITY_WORKER_ARGS, and starts and
stops its pulse runtime in the app's lifespan: the pulse scheduler runs in the one worker that
holds the scheduler lease, the others answer requests (and close a round its last answer
completed). Socket Mode has no port to share: several processes there are several
`maturity-bot slack` commands (Slack gives each event to one of an app's connections).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from bot.errors import UsageError
from bot.workers import (
    failed,
    serve,
    starting,
    worker_arguments,
    worker_label,
    worker_service,
    worker_settings,
    workers_of,
)

if TYPE_CHECKING:
    from slack_sdk import WebClient
    from starlette.applications import Starlette

    from bot.service import AssessmentService
    from bot.settings import Settings

FACTORY = "bot.slack.workers:worker_app"


def run(settings: Settings, args: argparse.Namespace, service: AssessmentService) -> int:
    """`maturity-bot slack [--http [--workers N]]`."""
    from bot.slack.run import client_from_settings, run_slack

    workers = workers_of(args)
    if workers == 1:
        return run_slack(settings, args, service)
    _logging(settings)
    service.storage.close()  # migrated by now; each worker opens its own connections
    client, _, _ = client_from_settings(settings, http=True)
    if client.token is not None:  # OAuth mode has no token of its own to check
        check_token(client)
    return serve(FACTORY, host=args.host, port=args.port, workers=workers, arguments=_args(args))


def _args(args: argparse.Namespace) -> dict[str, str | None]:
    return {"db": args.db}


def check_token(client: WebClient) -> None:
    """auth.test once in the parent: a refused token is one line, not N failing workers."""
    from slack_sdk.errors import SlackApiError, SlackClientError

    try:
        client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error", exc.response.status_code)
        raise UsageError(f"Slack refused the bot token: {error}") from None
    except (SlackClientError, OSError) as exc:
        raise UsageError(f"cannot reach the Slack Web API at {client.base_url}: {exc}") from None


def _logging(settings: Settings) -> None:
    from bot.observability.logs import setup_logging

    secrets = (settings.slack_bot_token, settings.slack_app_token, settings.slack_signing_secret)
    setup_logging(
        settings.maturity_log_format,
        secrets=[s.get_secret_value() for s in secrets if s is not None],
    )


def worker_app() -> Starlette:
    """One worker's app (uvicorn calls this in each worker process): the HTTP app of
    `run_slack`, built from the settings, with the pulse runtime started and stopped in its
    lifespan. A worker that cannot be built tells the parent why (bot/workers.py)."""
    with starting():
        from bot.observability import set_worker_name
        from bot.observability.health import scheduler_running
        from bot.slack.http import web_app
        from bot.slack.run import checked_app, client_from_settings, pulse_from_settings

        arguments = worker_arguments()
        settings = worker_settings()
        set_worker_name(worker_label(settings.maturity_worker_name))
        _logging(settings)
        client, signing_secret, _ = client_from_settings(settings, http=True)
        service = worker_service(settings, arguments.get("db"))
        pulse = pulse_from_settings(settings, service, client, http=True)
        app = checked_app(service, client, signing_secret, pulse, settings)
        server = web_app(
            app,
            service.storage,
            max_body_bytes=settings.maturity_max_body_bytes,
            scheduler=lambda: scheduler_running(pulse.runtime),
            settings=settings,
        )

        def stop() -> None:
            app.ack_first.shutdown(wait=True)  # the acknowledged work ends before the database
            pulse.stop()
            service.storage.close()

        server.router.lifespan_context = lifespan(pulse.start, stop)
    return server


def lifespan(start: Callable[[], None], stop: Callable[[], None]) -> Callable:
    """Starlette's lifespan: `start` before the worker serves, `stop` once it stopped serving
    (both block, so they run in a thread). A failing start is reported to the parent."""

    @asynccontextmanager
    async def running(_: object) -> AsyncIterator[None]:
        try:
            await asyncio.to_thread(start)
        except Exception as exc:  # uvicorn then ends the worker with STARTUP_FAILURE
            failed(exc)
            raise
        try:
            yield
        finally:
            await asyncio.to_thread(stop)

    return running
