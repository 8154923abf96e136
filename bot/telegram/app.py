"""The Telegram bot: python-telegram-bot (asyncio) with one update handler
(bot/telegram/updates.py), and the `maturity-bot telegram` command that runs it (long polling or
a webhook) with the team pulse's scheduler beside it.

Where the work happens: PTB fetches updates (long polling, or a webhook whose secret_token is
checked on every request) and runs `TelegramChannel.on_update` for each; sends are retried
(Telegram's 429 retry_after, and network errors with backoff) by the rate limiter here, and a
send that still fails is logged and skipped (bot/telegram/output.py): the answer is already
stored, and /resume shows the current question.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import secrets
import signal
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.error import BadRequest, InvalidToken, NetworkError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, TypeHandler

from bot.errors import UsageError
from bot.observability import set_worker_name
from bot.observability.health import Readiness, scheduler_running
from bot.observability.logs import RedactSecrets
from bot.observability.logs import setup_logging as setup
from bot.platforms import checked_pulse_settings
from bot.pulse.service import PulseService
from bot.service import AssessmentService
from bot.settings import Settings
from bot.telegram.bot_api import POOL_SIZE, bot_api_request
from bot.telegram.platform import check_token, check_url
from bot.telegram.render import command_menu
from bot.telegram.updates import CHANNEL, TelegramChannel, UserLocks, command_word
from bot.telegram.webhook import DASHBOARD_ROUTES, READINESS, WebhookConfig, WebhookServer
from flows.i18n import DEFAULT_LANGUAGE
from flows.model_schema import LANGUAGES

if TYPE_CHECKING:  # bot.telegram.pulse builds on this module
    from bot.telegram.pulse import TelegramPulse

__all__ = [  # what bot/telegram/pulse.py and the tests take from here
    "CHANNEL",
    "RedactSecrets",
    "RetryingRateLimiter",
    "TelegramChannel",
    "UserLocks",
    "WebhookConfig",
    "build_application",
    "check_token",
    "command_word",
    "file_url_for",
    "run_telegram",
    "serve",
]

ALLOWED_UPDATES = ["message", "callback_query"]
SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")
POLL_TIMEOUT = 30
"""Seconds a getUpdates long poll may wait for an update."""
OVERALL_RATE = 30
"""Messages a second Telegram accepts from one bot (to different chats)."""
CONCURRENCY = 128
"""Updates handled at once, as MATURITY_TELEGRAM_CONCURRENCY's default (bench/load_telegram.py)."""

log = logging.getLogger("bot.telegram")


# ---- retries -------------------------------------------------------------------------------------
class RetryingRateLimiter(AIORateLimiter):
    """Telegram's flood limits (AIORateLimiter), a 429's retry_after honoured `max_retries`
    times, and network errors (connection lost, 5xx, time-outs) retried with exponential
    backoff. Bad requests are not retried: sending them again would fail the same way."""

    def __init__(
        self,
        *,
        max_retries: int = 3,
        network_retries: int = 3,
        backoff: float = 0.5,
        rate: float = OVERALL_RATE,
        **limits: float,
    ) -> None:
        """`limits`: AIORateLimiter's flood limits (overall_max_rate, group_max_rate, ...).
        Without an overall one given, `rate` (Telegram's 30 a second; 0: none) is kept as a
        steady rate (one request every 1/rate s): AIORateLimiter's own default, a bucket of 30
        refilled over a second, lets 60 through in the first second of a team's round."""
        if "overall_max_rate" not in limits:
            if rate > 0:
                limits.update(overall_max_rate=1, overall_time_period=1 / rate)
            else:
                limits.update(overall_max_rate=0)
        super().__init__(max_retries=max_retries, **limits)
        self.network_retries = network_retries
        self.backoff = backoff

    async def process_request(
        self,
        callback: Callable[..., Awaitable[Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        attempt = 0
        while True:
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except BadRequest:
                raise
            except NetworkError as exc:
                if attempt >= self.network_retries:
                    raise
                delay = self.backoff * 2**attempt
                attempt += 1
                log.info(
                    "Telegram %s failed (%s); retry %d in %.2f s",
                    endpoint,
                    type(exc).__name__,
                    attempt,
                    delay,
                )
                await asyncio.sleep(delay)


# ---- building and running the bot ----------------------------------------------------------------
def build_application(
    service: AssessmentService,
    token: str,
    *,
    base_url: str | None = None,
    base_file_url: str | None = None,
    rate_limiter: RetryingRateLimiter | None = None,
    pulse: TelegramPulse | None = None,
    concurrency: int = CONCURRENCY,
    web_settings: Settings | None = None,
) -> Application:
    """The PTB Application with our one handler; no network until it is initialised.

    `concurrency`: updates handled at once; one user's stay in order all the same (`UserLocks`).
    Most of an update's time is spent waiting on the Bot API, so many at once is what keeps the
    bot busy; with the Bot API calls on aiohttp (bot/telegram/bot_api.py) it costs no more CPU
    per update than one at a time (measured: bench/load_telegram.py). The connection pool is kept
    larger than it, so an update never waits for a connection.

    `pulse` (default: the pulse with default settings) answers `/pulse` and the join button;
    its scheduler starts and stops with the Application through the post_init and post_stop
    hooks, which `serve` runs as `run_polling` would.

    `web_settings` with a MATURITY_WEB_URL: `/dashboard` sends a sign-in link, and the webhook
    server (when there is one) serves the dashboard's pages beside the webhook (bot/web)."""
    from bot.telegram.dashboard import TelegramDashboard
    from bot.telegram.pulse import TelegramPulse

    builder = (
        ApplicationBuilder()
        .token(token)
        .request(bot_api_request(pool_size=max(POOL_SIZE, 2 * concurrency)))
        .get_updates_request(bot_api_request(pool_size=1))
        .rate_limiter(rate_limiter or RetryingRateLimiter())
        .concurrent_updates(concurrency)
        .job_queue(None)  # timing lives in SQLite; the pulse has its own APScheduler
    )
    if base_url:
        builder = builder.base_url(base_url)
    if base_file_url:
        builder = builder.base_file_url(base_file_url)
    pulse = pulse or TelegramPulse(PulseService(service))
    builder = builder.post_init(pulse.post_init).post_stop(pulse.post_stop)
    app = builder.build()
    channel = TelegramChannel(service)
    pulse.attach(app.bot, channel)
    channel.pulse = pulse
    channel.dashboard = TelegramDashboard(web_settings)
    if web_settings is not None and web_settings.maturity_web_url:
        from bot.web.app import web_routes

        app.bot_data[DASHBOARD_ROUTES] = web_routes(service.storage, web_settings, service.models)
    app.add_handler(TypeHandler(Update, channel.on_update))
    app.add_error_handler(channel.on_error)
    # what the webhook's /readyz checks: the database, and whether the pulse scheduler runs
    app.bot_data[READINESS] = Readiness(service.storage, lambda: scheduler_running(pulse))
    return app


async def register_commands(bot: Any) -> None:
    """The command menu in each language, and English for every other language."""
    for lang in LANGUAGES:
        await TelegramChannel.call(
            "setMyCommands", bot.set_my_commands(command_menu(lang), language_code=lang)
        )
    await TelegramChannel.call("setMyCommands", bot.set_my_commands(command_menu(DEFAULT_LANGUAGE)))


async def serve(
    app: Application,
    stop: asyncio.Event,
    *,
    webhook: WebhookConfig | None = None,
    poll_timeout: float = POLL_TIMEOUT,
) -> None:
    """Run the bot until `stop` is set: getMe, the command menu, then polling or the webhook.

    The Application's post_init and post_stop hooks (the pulse scheduler) run here as in
    `run_polling`: post_init before updates are fetched, post_stop after the Application has
    stopped, while the bot can still send."""
    async with app:
        await register_commands(app.bot)
        if app.post_init is not None:
            await app.post_init(app)
        try:
            await _receive(app, stop, webhook, poll_timeout)
        finally:
            if app.post_stop is not None:
                await app.post_stop(app)


async def _receive(
    app: Application, stop: asyncio.Event, webhook: WebhookConfig | None, poll_timeout: float
) -> None:
    """Fetch and handle updates (polling or the webhook) until `stop` is set."""
    server = WebhookServer(app, webhook) if webhook is not None else None
    if server is not None:
        await server.start(ALLOWED_UPDATES)
        log.info("webhook: listening on %s:%s/%s", webhook.listen, webhook.port, webhook.path)
    else:
        await app.updater.start_polling(timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES)
        log.info(
            "polling Telegram as @%s, %d updates at a time",
            app.bot.username,
            app.concurrent_updates,
        )
    try:
        await app.start()
        await stop.wait()
    finally:
        if server is not None:
            await server.stop()
        if app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()


def file_url_for(base_url: str | None) -> str | None:
    """A self-hosted server's file URL next to its API URL ('.../bot' -> '.../file/bot')."""
    if base_url and base_url.rstrip("/").endswith("/bot"):
        return base_url.rstrip("/")[: -len("/bot")] + "/file/bot"
    return None


def webhook_config(args: argparse.Namespace, settings: Settings) -> WebhookConfig:
    check_url(args.webhook, "--webhook")
    if not 0 < args.port < 65536:
        raise UsageError(f"--port must be 1-65535, got {args.port}")
    if settings.telegram_webhook_secret is not None:
        secret = settings.telegram_webhook_secret.get_secret_value().strip()
        if not SECRET_PATTERN.fullmatch(secret):
            raise UsageError(
                "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
            )
    else:
        secret = secrets.token_urlsafe(32)  # Telegram learns it from setWebhook at start-up
    return WebhookConfig(
        args.webhook, args.listen, args.port, secret, settings.maturity_max_body_bytes
    )


def setup_logging(*secrets_: str, log_format: str = "text") -> None:
    """Text or JSON lines (bot/observability/logs.py) without the token or the webhook secret,
    tracebacks included (URLs carry the token), and httpx quiet (it logs every URL)."""
    setup(log_format, secrets=secrets_)


async def _run(app: Application, webhook: WebhookConfig | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError, RuntimeError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    try:
        await serve(app, stop, webhook=webhook)
    finally:  # PTB leaves the bot's HTTP sessions open when start-up fails (a refused token)
        await app.bot.shutdown()


def application_from_settings(
    settings: Settings, service: AssessmentService, token: str, *, workers: int = 1
) -> Application:
    """The Application `maturity-bot telegram` runs, from its settings (checked here): one
    process's, or each of `workers` webhook workers' (bot/telegram/workers.py), which pace what
    they send at MATURITY_TELEGRAM_RATE / workers."""
    from bot.telegram.pulse import TelegramPulse

    base_url = check_url(settings.telegram_base_url, "TELEGRAM_BASE_URL")
    base_file_url = check_url(settings.telegram_base_file_url, "TELEGRAM_BASE_FILE_URL")
    pulse = TelegramPulse(PulseService(service, checked_pulse_settings(settings)))
    return build_application(
        service,
        token,
        base_url=base_url,
        base_file_url=base_file_url or file_url_for(base_url),
        rate_limiter=RetryingRateLimiter(rate=settings.maturity_telegram_rate / max(1, workers)),
        pulse=pulse,
        concurrency=settings.maturity_telegram_concurrency,
        web_settings=settings,
    )


def run_telegram(settings: Settings, args: argparse.Namespace, service: AssessmentService) -> int:
    """`maturity-bot telegram [--webhook URL --listen ADDR --port N]`: run until interrupted,
    with the pulse scheduler running beside the updates."""
    token = check_token(settings.telegram_bot_token)
    base_url = check_url(settings.telegram_base_url, "TELEGRAM_BASE_URL")
    webhook = webhook_config(args, settings) if args.webhook else None
    set_worker_name(settings.maturity_worker_name)
    setup_logging(token, webhook.secret if webhook else "", log_format=settings.maturity_log_format)
    app = application_from_settings(settings, service, token)
    where = base_url or "https://api.telegram.org/bot"
    try:
        asyncio.run(_run(app, webhook))
    except InvalidToken:
        raise UsageError(f"the Bot API at {where} refused TELEGRAM_BOT_TOKEN") from None
    except NetworkError as exc:
        raise UsageError(f"cannot reach the Bot API at {where} ({type(exc).__name__})") from None
    except OSError as exc:
        if webhook is None:
            raise
        raise UsageError(
            f"cannot listen on {webhook.listen}:{webhook.port} ({exc.strerror or exc})"
        ) from None
    finally:
        service.storage.close()
    return 0
