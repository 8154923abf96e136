"""The Telegram update handler: updates as neutral events, handed to the service, its replies
shown through `TelegramOutput` (bot/telegram/output.py), with every answer stored by the service
before anything is sent.

Where the work happens: PTB (wired in bot/telegram/app.py) runs `TelegramChannel.on_update` for
each update, several users at once but one update at a time per user (a lock per user id, so two
quick presses keep their order). The service is synchronous (SQLite) and runs in a worker thread
(`asyncio.to_thread`); the event loop only waits on the network.

Nothing about an assessment lives here: state is in SQLite, decisions are the engine's, looks are
bot/telegram/render.py's. A redelivered update carries the same update_id, which the service
records in the same transaction as the answer (`delivery_key`), so it is applied once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from telegram import CallbackQuery, Message, Update
from telegram import User as TgUser
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.service import AssessmentService
from bot.storage import StorageError, StorageWriteError
from bot.telegram.output import TelegramOutput, TelegramSender
from bot.telegram.render import (
    DATA_FORGET_YES,
    forget_confirm,
    language_choice,
    notice,
    own_action,
    private_notice,
    toast,
)
from bot.telegram.texts import tt
from flows.events import COMMANDS, Event, Kind, from_payload, from_text
from flows.i18n import normalise_language, t
from flows.replies import Reply

if TYPE_CHECKING:  # bot.telegram.pulse and .dashboard build on this module
    from bot.telegram.dashboard import TelegramDashboard
    from bot.telegram.pulse import TelegramPulse

CHANNEL = "telegram"
EXPORT_FILE = "maturity-bot-export.json"
PULSE_DEEP_LINK = "pulse"
"""`/start pulse`: a pulse member opening the private chat from the join button's link."""
FORGET_WORDS = {"forget", "vergeet"}
EXPORT_WORDS = {"export", "exporteer"}
DASHBOARD_WORDS = {"dashboard"}
LANG_WORDS = {word for word, kind in COMMANDS.items() if kind is Kind.LANG}

log = logging.getLogger("bot.telegram")


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
class TelegramChannel(TelegramSender):
    """The update handler. Holds the service only: no conversation state of its own."""

    def __init__(self, service: AssessmentService) -> None:
        """Unpaced: a user's own replies go out at once (the pulse sends through its own paced
        TelegramSender, bot/telegram/pulse.py)."""
        super().__init__()
        self.service = service
        self.locks = UserLocks()
        self.pulse: TelegramPulse | None = None
        """Team pulse checks (`/pulse`, the join button), set by `build_application`."""
        self.dashboard: TelegramDashboard | None = None
        """`/dashboard`'s sign-in link (bot/telegram/dashboard.py), set by `build_application`."""

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Every update PTB receives (one TypeHandler, no ConversationHandler: the state is the
        service's), one at a time per user; pulse commands and join presses one at a time per
        chat instead, so a long `/pulse now` in a group does not hold up its sender's private
        chat."""
        user = update.effective_user
        if user is None:
            return  # channel posts: nobody to assess
        chat = update.effective_chat
        pulse = self.pulse
        if pulse is None or chat is None or not pulse.wants(update, context.bot.username):
            pulse = None
        if pulse is None and user.is_bot:
            return  # other bots (an anonymous admin's /pulse writes as a bot: that one counts)
        async with self.locks.hold(chat.id if pulse is not None and chat else user.id):
            try:
                if pulse is not None:
                    await pulse.on_update(update, context.bot)
                elif update.callback_query is not None:
                    await self.on_press(update, update.callback_query, context.bot)
                elif update.message is not None:
                    await self.on_message(update, update.message, user, context.bot)
            except StorageWriteError as exc:
                # forget, a confirmation, an export's record, a pulse command: nothing was
                # changed, say so
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
                command[0] in COMMANDS
                or command[0] in FORGET_WORDS | EXPORT_WORDS | DASHBOARD_WORDS
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
        if command is not None and command[0] in DASHBOARD_WORDS and self.dashboard is not None:
            if await self.first_delivery(update):
                await self.dashboard.send_link(self, bot, chat_id, user)
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
        """Store first (service), then show: a failed send never loses the stored answer.
        "Make a board report" (a result's button, /report) is a sign-in link instead."""
        if event.kind is Kind.REPORT and self.dashboard is not None:
            if await self.first_delivery(update):
                if query is not None:
                    await self.call("answerCallbackQuery", bot.answer_callback_query(query.id))
                await self.dashboard.send_link(self, bot, chat_id, user, target="report")
            return
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
        output = TelegramOutput(self, bot, chat_id, handled.user.lang, query)
        await output.deliver(handled.replies, event=event)

    async def deliver(self, bot: Any, chat_id: int, replies: list[Reply], lang: str) -> bool:
        """Replies that answer no update of the user's (the pulse's invitations); True when
        Telegram accepted every message."""
        return await TelegramOutput(self, bot, chat_id, lang).deliver(replies)

    # ---- forget and export --------------------------------------------------------------------
    async def forget(
        self, update: Update, bot: Any, chat_id: int, query: CallbackQuery, *, confirmed: bool
    ) -> None:
        if not await self.first_delivery(update):
            return
        lang = await self.language(query.from_user)
        output = TelegramOutput(self, bot, chat_id, lang, query)
        await output.settle([])  # the confirmation loses its buttons, with the choice as a note
        if not confirmed:
            await output.send_text(tt("forget_cancelled", lang))
            return
        erased = await asyncio.to_thread(self.service.forget, CHANNEL, str(query.from_user.id))
        await output.send_text(tt("forgotten" if erased else "forget_nothing", lang))

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
        """The stored language, or for a first contact the one Telegram reports; that one too
        when the database cannot be read (it is down: the person is still told so)."""
        try:
            stored = await asyncio.to_thread(self.service.language, CHANNEL, str(user.id))
        except StorageError as exc:
            log.warning("the stored language could not be read: %s", exc)
            stored = None
        return stored or normalise_language(user.language_code)

    async def first_delivery(self, update: Update) -> bool:
        """For updates the service does not handle (forget, export, notices): record the
        update_id, so a redelivery is not applied twice."""
        first = await asyncio.to_thread(self.service.first_delivery, CHANNEL, delivery_key(update))
        if not first:
            log.info("update %s was handled before; not applied again", update.update_id)
        return first


def delivery_key(update: Update) -> str:
    return f"update:{update.update_id}"
