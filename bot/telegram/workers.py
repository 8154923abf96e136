"""`maturity-bot telegram --webhook URL --workers N`: N processes of the webhook on one port
(bot/workers.py says how and why uvicorn's supervisor starts them).

`run` is the platform's runner: one process is `bot.telegram.app.run_telegram` as always; N are
started by the parent here after it checked, once, what every worker would (the settings, the
token with getMe, the port) and fixed the webhook's secret: a random one per start when
TELEGRAM_WEBHOOK_SECRET is not set, the same for all N, or Telegram's requests would be refused
by the workers whose secret it was not told last. Each worker builds the Application as one
process does and runs it inside the app's lifespan (what `bot.telegram.app.serve` does around
the webhook server there, but for the command menu, which the parent registered once):
initialise, the pulse (its scheduler runs in the one worker holding the scheduler lease),
setWebhook (each worker sets the same URL and secret: harmless, and no worker serves before
Telegram knows the URL), then the update queue.

Telegram's flood limit is the bot's, not a process's: each of N workers paces what it sends at
MATURITY_TELEGRAM_RATE / N messages a second. Polling stays one process: Telegram gives a bot's
updates to one getUpdates caller at a time (a second one gets 409 Conflict).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any

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
    from starlette.applications import Starlette
    from telegram.ext import Application

    from bot.service import AssessmentService
    from bot.settings import Settings
    from bot.telegram.webhook import WebhookConfig

FACTORY = "bot.telegram.workers:worker_app"

log = logging.getLogger("bot.telegram")


def run(settings: Settings, args: argparse.Namespace, service: AssessmentService) -> int:
    """`maturity-bot telegram [--webhook URL [--workers N]]`."""
    from bot.telegram.app import check_token, check_url, run_telegram, webhook_config

    workers = workers_of(args)
    if workers == 1:
        return run_telegram(settings, args, service)
    token = check_token(settings.telegram_bot_token)
    base_url = check_url(settings.telegram_base_url, "TELEGRAM_BASE_URL")
    webhook = webhook_config(args, settings)
    _logging(settings, token, webhook.secret)
    service.storage.close()  # migrated by now; each worker opens its own connections
    asyncio.run(check_bot(token, base_url))
    arguments = {"db": args.db, "webhook": webhook.url, "secret": webhook.secret}
    arguments["workers"] = workers
    return serve(FACTORY, host=args.listen, port=args.port, workers=workers, arguments=arguments)


async def check_bot(token: str, base_url: str | None) -> None:
    """getMe once in the parent: a refused token or an unreachable server is one line. The
    command menu is the bot's, not a worker's: it is registered here, once."""
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError

    from bot.telegram.app import register_commands

    where = base_url or "https://api.telegram.org/bot"
    try:
        async with Bot(token, **({"base_url": base_url} if base_url else {})) as bot:
            await register_commands(bot)  # initialising was getMe
    except InvalidToken:
        raise UsageError(f"the Bot API at {where} refused TELEGRAM_BOT_TOKEN") from None
    except NetworkError as exc:
        raise UsageError(f"cannot reach the Bot API at {where} ({type(exc).__name__})") from None


def _logging(settings: Settings, token: str, secret: str) -> None:
    from bot.telegram.app import setup_logging

    setup_logging(token, secret, log_format=settings.maturity_log_format)


def worker_app() -> Starlette:
    """One worker's app (uvicorn calls this in each worker process): the webhook's Starlette
    app over the Application `run_telegram` builds (with the dashboard's pages when
    MATURITY_WEB_URL is set), run by the lifespan."""
    with starting():
        from bot.observability import set_worker_name
        from bot.telegram.app import application_from_settings, check_token
        from bot.telegram.webhook import WebhookConfig, webhook_app

        arguments = worker_arguments()
        settings = worker_settings()
        token = check_token(settings.telegram_bot_token)
        webhook = WebhookConfig(
            arguments["webhook"], "", 0, arguments["secret"], settings.maturity_max_body_bytes
        )
        set_worker_name(worker_label(settings.maturity_worker_name))
        _logging(settings, token, webhook.secret)
        service = worker_service(settings, arguments.get("db"))
        workers = int(arguments.get("workers") or 1)
        app = application_from_settings(settings, service, token, workers=workers)
        server = webhook_app(app, webhook)
        server.router.lifespan_context = lifespan(app, webhook, service.storage.close)
    return server


def lifespan(app: Application, webhook: WebhookConfig, close: Callable[[], None]) -> Callable:
    """Run `app` while the worker serves, as `bot.telegram.app.serve` does in one process;
    then `close` the database. A failing start is reported to the parent."""
    from bot.telegram.app import ALLOWED_UPDATES

    @asynccontextmanager
    async def running(_: Any) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            stack.callback(close)
            try:
                await app.initialize()
                stack.push_async_callback(app.shutdown)
                if app.post_init is not None:
                    await app.post_init(app)  # the pulse
                if app.post_stop is not None:  # after the Application stopped, while it can send
                    stack.push_async_callback(app.post_stop, app)
                await app.bot.set_webhook(
                    url=webhook.url, secret_token=webhook.secret, allowed_updates=ALLOWED_UPDATES
                )
                await app.start()
                stack.push_async_callback(app.stop)
            except Exception as exc:  # uvicorn then ends the worker with STARTUP_FAILURE
                failed(exc, _telegram_reason(exc))
                raise
            log.info("webhook: this worker serves /%s", webhook.path)
            yield

    return running


def _telegram_reason(exc: Exception) -> str | None:
    """What the Bot API said, for an error of Telegram's (None: bot/workers.py words it)."""
    from telegram.error import TelegramError

    if isinstance(exc, TelegramError):
        return f"the Bot API answered {type(exc).__name__}: {exc.message}"
    return None
