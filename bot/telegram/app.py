"""The Telegram channel: python-telegram-bot (asyncio) translating updates to neutral events and
replies to messages, with every answer stored by the service before anything is sent.

Where the work happens: PTB fetches updates (long polling, or a webhook whose secret_token is
checked on every request) and runs `TelegramChannel.on_update` for each, several users at once
but one update at a time per user (a lock per user id, so two quick presses keep their order).
The service is synchronous (SQLite) and runs in a worker thread (`asyncio.to_thread`), as does
drawing a chart; the event loop only waits on the network.

Nothing about an assessment lives here: state is in SQLite, decisions are the engine's, looks are
bot/telegram/render.py's. A redelivered update carries the same update_id, which the service
records in the same transaction as the answer (`delivery_key`), so it is applied once. Sends are
retried (Telegram's 429 retry_after, and network errors with backoff) by the rate limiter; a send
that still fails is logged and skipped: the answer is already stored, and /resume shows the
current question.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import secrets
import signal
import threading
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext, suppress
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import SecretStr
from telegram import CallbackQuery, Message, Update
from telegram import User as TgUser
from telegram.constants import ChatType
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.charts import matrix_png, radar_png
from bot.errors import UsageError
from bot.pulse.service import PulseService, PulseSettings, pulse_settings
from bot.service import AssessmentService
from bot.settings import Settings
from bot.storage import StorageWriteError
from bot.telegram.render import (
    DATA_FORGET_YES,
    PARSE_MODE,
    TelegramMessage,
    answered_text,
    chart_caption,
    command_menu,
    forget_confirm,
    language_choice,
    messages_for,
    notice,
    own_action,
    pressed_label,
    private_notice,
    settled_text,
    toast,
)
from bot.telegram.texts import tt
from bot.telegram.webhook import WebhookConfig, WebhookServer
from flows.events import COMMANDS, Event, Kind, from_payload, from_text
from flows.i18n import DEFAULT_LANGUAGE, normalise_language, t
from flows.model_schema import LANGUAGES
from flows.pulse import PulseInputError, check_timezone
from flows.replies import Answered, Reply, ResultCard, Say

if TYPE_CHECKING:  # bot.telegram.pulse builds on this module
    from bot.telegram.pulse import ChatPacer, TelegramPulse

CHANNEL = "telegram"
ALLOWED_UPDATES = ["message", "callback_query"]
TOKEN_PATTERN = re.compile(r"\d+:[A-Za-z0-9_-]{35}")
SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")
EXPORT_FILE = "maturity-bot-export.json"
POLL_TIMEOUT = 30
"""Seconds a getUpdates long poll may wait for an update."""
OVERALL_RATE = 30
"""Messages a second Telegram accepts from one bot (to different chats)."""

PULSE_DEEP_LINK = "pulse"
"""`/start pulse`: a pulse member opening the private chat from the join button's link."""
FORGET_WORDS = {"forget", "vergeet"}
EXPORT_WORDS = {"export", "exporteer"}
LANG_WORDS = {word for word, kind in COMMANDS.items() if kind is Kind.LANG}

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
        **limits: float,
    ) -> None:
        """`limits`: AIORateLimiter's flood limits (overall_max_rate, group_max_rate, ...).
        Without an overall one given, Telegram's 30 a second is kept as a steady rate (one
        request every 1/30 s): AIORateLimiter's own default, a bucket of 30 refilled over a
        second, lets 60 through in the first second of a team's round."""
        if "overall_max_rate" not in limits:
            limits.update(overall_max_rate=1, overall_time_period=1 / OVERALL_RATE)
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


class UserLocks:
    """One update at a time per user, any number of users at once. Holds no state that matters
    across a restart: a lock exists only while an update of that user is being handled."""

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: Counter[int] = Counter()

    @asynccontextmanager
    async def hold(self, user_id: int) -> AsyncIterator[None]:
        lock = self._locks.setdefault(user_id, asyncio.Lock())
        self._waiting[user_id] += 1
        try:
            async with lock:
                yield
        finally:
            self._waiting[user_id] -= 1
            if not self._waiting[user_id]:
                del self._waiting[user_id]
                del self._locks[user_id]


def command_word(text: str) -> tuple[str, str | None, str] | None:
    """'/forget@SomeBot now' -> ('forget', 'SomeBot', 'now'); None for text that is no command."""
    if not text.startswith("/"):
        return None
    head, _, rest = text[1:].partition(" ")
    word, _, target = head.partition("@")
    return word.lower(), target or None, rest.strip()


# ---- the channel ---------------------------------------------------------------------------------
class TelegramChannel:
    """The update handler. Holds the service only: no conversation state of its own."""

    def __init__(self, service: AssessmentService, pacer: ChatPacer | None = None) -> None:
        """`pacer`: spaces the messages into each chat (the pulse's sends to whole teams);
        replies to a user's own press or message go out at once."""
        self.service = service
        self.locks = UserLocks()
        self.pacer = pacer
        self.pulse: TelegramPulse | None = None
        """Team pulse checks (`/pulse`, the join button), set by `build_application`."""

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Every update PTB receives (one TypeHandler, no ConversationHandler: the state is the
        service's), one at a time per user; pulse commands and join presses one at a time per
        chat instead, so a long `/pulse now` in a group does not hold up its sender's private
        chat."""
        user = update.effective_user
        if user is None:
            return  # channel posts: nobody to assess
        chat = update.effective_chat
        if (
            self.pulse is not None
            and chat is not None
            and self.pulse.wants(update, context.bot.username)
        ):
            async with self.locks.hold(chat.id):
                await self.pulse.on_update(update, context.bot)
            return
        if user.is_bot:
            return  # other bots
        async with self.locks.hold(user.id):
            try:
                if update.callback_query is not None:
                    await self.on_press(update, update.callback_query, context.bot)
                elif update.message is not None:
                    await self.on_message(update, update.message, user, context.bot)
            except StorageWriteError as exc:
                # forget, a confirmation, an export's record: nothing was changed, say so
                log.error("update %s could not be saved: %s", update.update_id, exc)
                if chat is not None:
                    lang = await self.language(user)
                    await self.send(context.bot, chat.id, notice(t("not_saved", lang)))

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        error = context.error
        log.error("update %s failed: %s", update_id, type(error).__name__, exc_info=error)

    # ---- typed messages ----------------------------------------------------------------------
    async def on_message(self, update: Update, message: Message, user: TgUser, bot: Any) -> None:
        """Typed text: commands only Telegram has (/forget, /export, a bare /lang) are answered
        here; everything else goes to the core as `from_text` would read it."""
        text = message.text
        command = command_word(text) if text else None
        if (
            command is not None
            and command[1]
            and command[1].lower() != (bot.username or "").lower()
        ):
            return  # /start@OtherBot in a group: not for us
        if message.chat.type != ChatType.PRIVATE:
            known = command is not None and (
                command[0] in COMMANDS or command[0] in FORGET_WORDS | EXPORT_WORDS
            )
            if known and await self.first_delivery(update):
                lang = await self.language(user)
                await self.send(bot, message.chat.id, private_notice(lang, bot.username))
            return
        chat_id = message.chat.id
        if text is None:
            if await self.first_delivery(update):
                await self.send(bot, chat_id, notice(tt("text_only", await self.language(user))))
            return
        if command is not None and command[0] in FORGET_WORDS:
            if await self.first_delivery(update):
                await self.send(bot, chat_id, forget_confirm(await self.language(user)))
            return
        if command is not None and command[0] in EXPORT_WORDS:
            if await self.first_delivery(update):
                await self.export(bot, chat_id, user)
            return
        if command is not None and command[0] in LANG_WORDS and not command[2]:
            if await self.first_delivery(update):
                await self.send(bot, chat_id, language_choice(await self.language(user)))
            return
        if command is not None and command[0] == "start" and command[2] == PULSE_DEEP_LINK:
            if await self.first_delivery(update):  # from the join button: the chat is open now
                await self.send(bot, chat_id, notice(tt("pulse_ready", await self.language(user))))
            return
        if command is not None:  # drop the @BotName that from_text would keep in an argument
            text = "/" + command[0] + (" " + command[2] if command[2] else "")
        await self.run(update, bot, chat_id, user, from_text(text))

    # ---- button presses ----------------------------------------------------------------------
    async def on_press(self, update: Update, query: CallbackQuery, bot: Any) -> None:
        """A button: the core's payloads go to `from_payload` (a damaged or unknown one is
        STALE), the adapter's own (tg:...) are language and erasure confirmations."""
        user = query.from_user
        message = query.message if isinstance(query.message, Message) else None
        chat_id = message.chat.id if message is not None else user.id
        if message is not None and message.chat.type != ChatType.PRIVATE:
            if await self.first_delivery(update):
                lang = await self.language(user)
                await self.call(
                    "answerCallbackQuery",
                    bot.answer_callback_query(query.id, text=toast(tt("private_only", lang))),
                )
            return
        data = query.data or ""
        own = own_action(data)
        if own is None:
            event = from_payload(data)
        elif own[0] == "lang":
            event = Event(Kind.LANG, own[1])
        elif own[0] == "forget":
            await self.forget(update, bot, chat_id, query, confirmed=data == DATA_FORGET_YES)
            return
        else:
            event = Event(Kind.STALE)
        await self.run(update, bot, chat_id, user, event, query=query)

    # ---- the one path every event takes -----------------------------------------------------
    async def run(
        self,
        update: Update,
        bot: Any,
        chat_id: int,
        user: TgUser,
        event: Event,
        query: CallbackQuery | None = None,
    ) -> None:
        """Store first (service), then show: a failed send never loses the stored answer."""
        handled = await asyncio.to_thread(
            self.service.handle,
            CHANNEL,
            str(user.id),
            event,
            lang_hint=user.language_code,
            delivery_key=delivery_key(update),
        )
        if handled.duplicate:
            log.info("update %s was handled before; not applied again", update.update_id)
            return
        lang = handled.user.lang
        replies = list(handled.replies)
        if event.kind is Kind.HELP and replies:
            replies.insert(1, Say(tt("help_note", lang)))
        if query is not None:
            replies = await self.settle(bot, query, replies)
        await self.deliver(bot, chat_id, replies, lang)

    async def settle(self, bot: Any, query: CallbackQuery, replies: list[Reply]) -> list[Reply]:
        """Acknowledge a press and change the pressed message: an answer replaces the question
        (the chat reads as a transcript), an error shows as a short notice and the stale
        buttons go, any other press leaves a note of what was pressed. Returns the replies
        still to send."""
        error = next((r for r in replies if isinstance(r, Say) and r.is_error), None)
        answered = next((r for r in replies if isinstance(r, Answered)), None)
        await self.call(
            "answerCallbackQuery",
            bot.answer_callback_query(query.id, text=toast(error.text) if error else None),
        )
        rest = [r for r in replies if r is not error]
        message = query.message if isinstance(query.message, Message) else None
        if message is None:
            return rest
        where = {"chat_id": message.chat.id, "message_id": message.message_id}
        if answered is not None:
            await self.call(
                "editMessageText",
                bot.edit_message_text(answered_text(answered), parse_mode=PARSE_MODE, **where),
            )
            return [r for r in rest if r is not answered]
        if error is not None or message.text is None:
            await self.call("editMessageReplyMarkup", bot.edit_message_reply_markup(**where))
            return rest
        label = pressed_label(message.reply_markup, query.data or "", message.text)
        await self.call(
            "editMessageText",
            bot.edit_message_text(
                settled_text(message.text_html, label), parse_mode=PARSE_MODE, **where
            ),
        )
        return rest

    async def deliver(self, bot: Any, chat_id: int, replies: list[Reply], lang: str) -> bool:
        """Send the replies as messages; True when Telegram accepted every one of them."""
        sent: list[Message | None] = []
        for reply in replies:
            if isinstance(reply, Answered):  # a typed answer: confirm what was understood
                sent.append(await self.send(bot, chat_id, TelegramMessage(answered_text(reply))))
                continue
            for message in messages_for(reply, lang):
                sent.append(await self.send(bot, chat_id, message))
            if isinstance(reply, ResultCard) and reply.chart is not None:
                png = await asyncio.to_thread(draw, radar_png, reply.chart)
                chart = reply.chart
                sent.append(await self.send_photo(bot, chat_id, png, chart.title, chart.key))
            if isinstance(reply, Say) and reply.chart is not None:
                png = await asyncio.to_thread(draw, matrix_png, reply.chart)
                chart = reply.chart
                sent.append(await self.send_photo(bot, chat_id, png, chart.title, chart.key))
        return all(message is not None for message in sent)

    # ---- forget and export --------------------------------------------------------------------
    async def forget(
        self, update: Update, bot: Any, chat_id: int, query: CallbackQuery, *, confirmed: bool
    ) -> None:
        if not await self.first_delivery(update):
            return
        lang = await self.language(query.from_user)
        await self.call("answerCallbackQuery", bot.answer_callback_query(query.id))
        message = query.message if isinstance(query.message, Message) else None
        if message is not None and message.text is not None:
            label = pressed_label(message.reply_markup, query.data or "")
            await self.call(
                "editMessageText",
                bot.edit_message_text(
                    settled_text(message.text_html, label),
                    chat_id=message.chat.id,
                    message_id=message.message_id,
                    parse_mode=PARSE_MODE,
                ),
            )
        if not confirmed:
            await self.send(bot, chat_id, notice(tt("forget_cancelled", lang)))
            return
        erased = await asyncio.to_thread(self.service.forget, CHANNEL, str(query.from_user.id))
        await self.send(bot, chat_id, notice(tt("forgotten" if erased else "forget_nothing", lang)))

    async def export(self, bot: Any, chat_id: int, user: TgUser) -> None:
        lang = await self.language(user)
        data = await asyncio.to_thread(self.service.export, CHANNEL, str(user.id))
        if data is None:
            await self.send(bot, chat_id, notice(tt("export_nothing", lang)))
            return
        content = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
        sent = await self.call(
            "sendDocument",
            bot.send_document(
                chat_id,
                document=content,
                filename=EXPORT_FILE,
                caption=tt("export_caption", lang),
            ),
        )
        if sent is None:
            await self.send(bot, chat_id, notice(tt("export_failed", lang)))

    # ---- helpers -------------------------------------------------------------------------------
    async def language(self, user: TgUser) -> str:
        """The stored language, or for a first contact the one Telegram reports."""
        stored = await asyncio.to_thread(self.service.language, CHANNEL, str(user.id))
        return stored or normalise_language(user.language_code)

    async def first_delivery(self, update: Update) -> bool:
        """For updates the service does not handle (forget, export, notices): record the
        update_id, so a redelivery is not applied twice."""
        first = await asyncio.to_thread(self.service.first_delivery, CHANNEL, delivery_key(update))
        if not first:
            log.info("update %s was handled before; not applied again", update.update_id)
        return first

    async def send(self, bot: Any, chat_id: int, message: TelegramMessage) -> Message | None:
        async with self.turn(chat_id):
            return await self.call(
                "sendMessage",
                bot.send_message(
                    chat_id, message.text, parse_mode=PARSE_MODE, reply_markup=message.markup
                ),
            )

    async def send_photo(
        self, bot: Any, chat_id: int, png: bytes, title: str, key: str
    ) -> Message | None:
        async with self.turn(chat_id):
            return await self.call(
                "sendPhoto",
                bot.send_photo(
                    chat_id,
                    photo=png,
                    caption=chart_caption(title),
                    parse_mode=PARSE_MODE,
                    filename=f"chart-{key}.png",
                ),
            )

    def turn(self, chat_id: int) -> AbstractAsyncContextManager[None]:
        """The pacer's turn for one message into `chat_id` (none without a pacer)."""
        return self.pacer.turn(chat_id) if self.pacer is not None else nullcontext()

    @staticmethod
    async def call(what: str, request: Awaitable[Any]) -> Any:
        """One Telegram call (already retried by the rate limiter); a failure is logged by
        type (never with the token) and the bot goes on."""
        try:
            return await request
        except BadRequest as exc:
            if "not modified" in str(exc):
                return None
            log.warning("Telegram %s refused: %s", what, exc)
        except TelegramError as exc:
            log.warning("Telegram %s failed: %s", what, type(exc).__name__)
        return None


_CHARTS = threading.Lock()


def draw(render: Callable[[Any], bytes], spec: Any) -> bytes:
    """A chart in a worker thread, off the event loop; one at a time, because pyplot keeps
    global state that two threads drawing at once could mix up."""
    with _CHARTS:
        return render(spec)


def delivery_key(update: Update) -> str:
    return f"update:{update.update_id}"


# ---- building and running the bot ----------------------------------------------------------------
def build_application(
    service: AssessmentService,
    token: str,
    *,
    base_url: str | None = None,
    base_file_url: str | None = None,
    rate_limiter: RetryingRateLimiter | None = None,
    pulse: TelegramPulse | None = None,
) -> Application:
    """The PTB Application with our one handler; no network until it is initialised.

    `pulse` (default: the pulse with default settings) answers `/pulse` and the join button;
    its scheduler starts and stops with the Application through the post_init and post_stop
    hooks, which `serve` runs as `run_polling` would."""
    from bot.telegram.pulse import TelegramPulse

    builder = (
        ApplicationBuilder()
        .token(token)
        .rate_limiter(rate_limiter or RetryingRateLimiter())
        .concurrent_updates(64)
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
    app.add_handler(TypeHandler(Update, channel.on_update))
    app.add_error_handler(channel.on_error)
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
        log.info("polling Telegram as @%s", app.bot.username)
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


def check_token(value: SecretStr | None) -> str:
    token = value.get_secret_value().strip() if value is not None else ""
    if not token:
        raise UsageError(
            "TELEGRAM_BOT_TOKEN is not set: the token from @BotFather (see README, Telegram)"
        )
    if not TOKEN_PATTERN.fullmatch(token):
        raise UsageError(
            "TELEGRAM_BOT_TOKEN is malformed: expected <digits>:<35 characters> from @BotFather"
        )
    return token


def check_pulse(settings: Settings) -> PulseSettings:
    """The pulse settings, or one line naming the one that is wrong."""
    try:
        check_timezone(settings.maturity_timezone)
    except PulseInputError:
        raise UsageError(
            f"MATURITY_TIMEZONE is not a known time zone: {settings.maturity_timezone!r}"
        ) from None
    try:
        return pulse_settings(settings)
    except ValueError as exc:
        raise UsageError(f"MATURITY_PULSE_MIN_RESPONSES: {exc}") from None


def check_url(value: str | None, name: str) -> str | None:
    if not value:
        return None
    parsed = urlsplit(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise UsageError(f"{name} must be an http(s) URL, got {value!r}")
    return value


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


class RedactSecrets(logging.Filter):
    """Keeps the token out of every log line, tracebacks included (URLs carry it)."""

    def __init__(self, *secrets_: str) -> None:
        super().__init__()
        self.secrets = [s for s in secrets_ if s]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "<redacted>")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = self.redact(message), None
        if record.exc_info:  # another handler may have cached the traceback text already
            text = record.exc_text or logging.Formatter().formatException(record.exc_info)
            record.exc_text = self.redact(text)
        return True


def setup_logging(*secrets_: str) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # logs every URL, token included
    logging.getLogger("transitions").setLevel(logging.WARNING)  # a line per callback
    redact = RedactSecrets(*secrets_)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)


async def _run(app: Application, webhook: WebhookConfig | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError, RuntimeError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    await serve(app, stop, webhook=webhook)


def run_telegram(settings: Settings, args: argparse.Namespace, service: AssessmentService) -> int:
    """`maturity-bot telegram [--webhook URL --listen ADDR --port N]`: run until interrupted,
    with the pulse scheduler running beside the updates."""
    from bot.telegram.pulse import TelegramPulse

    token = check_token(settings.telegram_bot_token)
    base_url = check_url(settings.telegram_base_url, "TELEGRAM_BASE_URL")
    base_file_url = check_url(settings.telegram_base_file_url, "TELEGRAM_BASE_FILE_URL")
    webhook = webhook_config(args, settings) if args.webhook else None
    pulse = TelegramPulse(PulseService(service, check_pulse(settings)))
    setup_logging(token, webhook.secret if webhook else "")
    app = build_application(
        service,
        token,
        base_url=base_url,
        base_file_url=base_file_url or file_url_for(base_url),
        pulse=pulse,
    )
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
