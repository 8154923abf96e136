"""Team pulse checks in Telegram: the `TeamMessenger` the pulse core sends through, `/pulse` in
groups, the "Join the pulse" button, and the scheduler's life inside PTB's event loop.

No pulse logic lives here: schedules, rounds, reminders, anonymity and reports are
bot/pulse/service.py's. This module only translates. A team is a group chat (team id = the chat
id, team name = its title); a member is a Telegram user id, as the rest of the channel stores it.
A bot cannot list a group's members, so people join by pressing the button; the pulse then
reaches them in their private chat with the bot, which exists only once they have pressed Start
there.

Sending follows Telegram's flood limits: the rate limiter (bot/telegram/app.py) keeps the bot under
about 30 messages a second overall and 20 a minute per group and waits out a 429's retry_after;
`ChatPacer` adds the one-message-a-second per chat. So that pacing one chat does not hold up the
others, each member's first message is sent at once (the core learns whether the member can be
reached) and the rest go out from a bounded pool of tasks. A tick (`TelegramPulse.tick`, the
scheduler's and `/pulse now`'s) ends only when all it queued is sent, so a stopping bot knows
what to wait for.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from telegram import CallbackQuery, Chat, Message, Update
from telegram import User as TgUser
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from bot.pulse.scheduler import PulseScheduler, waker
from bot.pulse.service import PulseService
from bot.telegram.output import TelegramOutput, TelegramSender
from bot.telegram.render import (
    DATA_PULSE_JOIN,
    TelegramMessage,
    join_messages,
    link_notice,
    notice,
    notices,
    toast,
)
from bot.telegram.texts import tt
from bot.telegram.updates import CHANNEL, TelegramChannel, UserLocks, command_word
from flows.i18n import DEFAULT_LANGUAGE, t
from flows.pulse_commands import PulseHelp, Started, pulse_text
from flows.replies import Reply

TICK_SECONDS = 30.0
"""How often the scheduler looks for due rounds, reminders and closings."""
DM_CONCURRENCY = 32
"""Members whose pulse is being sent at once: with a few messages each, a second apart, enough to
keep the bot at its overall limit, few enough that people answering meanwhile are not queued
behind a whole round."""
STOP_GRACE = 60.0
"""Seconds a stopping bot waits for a running tick to finish sending."""
JOIN_WORDS = frozenset({"join", "meedoen"})
DEEP_LINK = "pulse"
"""`t.me/<bot>?start=pulse`: a joiner the bot cannot message yet opens the private chat here."""
ADMIN_STATUSES = frozenset({ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER})

log = logging.getLogger("bot.telegram.pulse")


class SendError(RuntimeError):
    """A member's pulse message was refused (they never pressed Start, or blocked the bot)."""


class ChatPacer:
    """At most one message per `interval` seconds into any one chat (Telegram allows about one
    a second per chat and answers bursts with 429s). The interval counts from the moment the
    previous message into the chat was accepted, so a wait in the rate limiter's queue cannot
    bring two messages closer together; a chat's messages go one at a time, and waiting for one
    chat never holds up another."""

    def __init__(
        self,
        interval: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self._turns = UserLocks()
        self._last: dict[int, float] = {}

    @asynccontextmanager
    async def turn(self, chat_id: int) -> AsyncIterator[None]:
        """Send one message into `chat_id` inside this block."""
        if self.interval <= 0:
            yield
            return
        async with self._turns.hold(chat_id):
            last = self._last.get(chat_id)
            if last is not None and last + self.interval > self.clock():
                await self.sleep(last + self.interval - self.clock())
            try:
                yield
            finally:
                now = self.clock()
                self._last[chat_id] = now
                if len(self._last) > 4096:  # forget chats that are free again
                    cutoff = now - self.interval
                    self._last = {c: at for c, at in self._last.items() if at > cutoff}


class TelegramTeamMessenger:
    """The pulse core's `TeamMessenger` over the Bot API. It works through the app's own
    TelegramChannel (its service and rendering: a pulse question looks and works like any other
    question) and sends with a paced sender: a team's messages go out under the per-chat limit."""

    channel = CHANNEL

    def __init__(
        self,
        bot: Any,
        app_channel: TelegramChannel,
        sender: TelegramSender,
        *,
        concurrency: int = DM_CONCURRENCY,
    ) -> None:
        self.bot = bot
        self.app_channel = app_channel
        self.sender = sender
        self._slots = asyncio.Semaphore(concurrency)
        self._sending: set[asyncio.Task[None]] = set()

    async def members(self, team: str) -> list[str] | None:
        """None: the Bot API cannot list a group's members; the pulse uses those who joined."""
        return None

    async def is_admin(self, team: str, user: str, creator: str | None) -> bool:
        """A group administrator or its owner, as Telegram says now (getChatMember); a failed
        check refuses, since it guards starting, stopping and exporting. An anonymous admin
        writes as the group itself (`user` is then the group's id): only admins can."""
        if user == team:
            return True
        try:
            member = await self.bot.get_chat_member(chat_id=int(team), user_id=int(user))
        except (TelegramError, ValueError) as exc:
            log.warning("getChatMember for a pulse command failed: %s", type(exc).__name__)
            return False
        return member.status in ADMIN_STATUSES

    async def send_dm(self, member: str, replies: Sequence[Reply]) -> None:
        """Send the first message (the invitation or reminder) and queue the rest: the core
        learns whether the member can be reached (`SendError`: it tries again at a later tick)
        without waiting for the pacing of each chat; `drain` waits for the queued ones."""
        service = self.app_channel.service
        lang = await asyncio.to_thread(service.language, CHANNEL, member) or DEFAULT_LANGUAGE
        chat_id, first, rest = int(member), list(replies[:1]), list(replies[1:])
        await self._slots.acquire()
        try:
            reached = await self.output(chat_id, lang).deliver(first)
        except BaseException:
            self._slots.release()
            raise
        if not reached:
            self._slots.release()
            raise SendError("Telegram refused the first pulse message (see the warning above)")
        task = asyncio.create_task(self._send(chat_id, rest, lang))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, chat_id: int, replies: list[Reply], lang: str) -> None:
        try:
            await self.output(chat_id, lang).deliver(replies)
        except Exception:  # one member's trouble must not stop the others' sends
            log.exception("sending a pulse message failed")
        finally:
            self._slots.release()

    async def post_team(self, team: str, text: str, chart_png: bytes | None) -> None:
        """The team result in the group: the text, then the chart as a photo."""
        chat_id = int(team)
        for message in notices(text):
            await self.sender.send(self.bot, chat_id, message)
        if chart_png is not None:
            title = text.split("\n", 1)[0]
            await self.sender.send_photo(self.bot, chat_id, chart_png, title, "pulse")

    def output(self, chat_id: int, lang: str) -> TelegramOutput:
        """A member's private chat, rendered as the app renders it, sent paced."""
        return TelegramOutput(self.sender, self.bot, chat_id, lang)

    async def drain(self) -> None:
        """Wait until every queued DM is sent (or has failed)."""
        while self._sending:
            await asyncio.gather(*list(self._sending), return_exceptions=True)

    def cancel(self) -> None:
        for task in list(self._sending):
            task.cancel()


class TelegramPulse:
    """The pulse in a running Telegram bot: `/pulse` and the join button (called by
    `TelegramChannel.on_update`), serialised ticks, and the scheduler started and stopped with
    the Application (its post_init and post_stop hooks, which `bot.telegram.serve` runs)."""

    def __init__(
        self,
        pulse: PulseService,
        *,
        interval: float | None = TICK_SECONDS,
        pace: float = 1.0,
        concurrency: int = DM_CONCURRENCY,
        stop_grace: float = STOP_GRACE,
    ) -> None:
        """`interval`: seconds between scheduled ticks (None: no scheduler, ticks only through
        `tick`); `pace`: seconds between two messages into one chat."""
        self.pulse = pulse
        self.interval = interval
        self.pace = pace
        self.concurrency = concurrency
        self.stop_grace = stop_grace
        self.scheduler: PulseScheduler | None = None
        self._channel: TelegramChannel | None = None
        self._messenger: TelegramTeamMessenger | None = None

    def attach(self, bot: Any, channel: TelegramChannel) -> None:
        """Bind to the Application's bot and update handler (done by `build_application`)."""
        self._channel = channel
        sender = TelegramSender(ChatPacer(self.pace))
        self._messenger = TelegramTeamMessenger(bot, channel, sender, concurrency=self.concurrency)

    @property
    def channel(self) -> TelegramChannel:
        if self._channel is None:
            raise RuntimeError("TelegramPulse is not attached to an Application")
        return self._channel

    @property
    def messenger(self) -> TelegramTeamMessenger:
        if self._messenger is None:
            raise RuntimeError("TelegramPulse is not attached to an Application")
        return self._messenger

    # ---- the clock -----------------------------------------------------------------------------
    async def tick(self, now: datetime | None = None) -> None:
        """One pulse tick with everything it sends delivered, never two at once."""
        try:
            await self.pulse.tick(self.messenger, now)
        finally:
            await self.messenger.drain()

    async def post_init(self, app: Any) -> None:
        """Start the scheduler inside the running loop; its first tick is now, so a round that
        fell due while the bot was down runs at start (once: the core's round row is the
        claim)."""
        loop = asyncio.get_running_loop()
        # the thread that stores a round's last answer has the round closed at once
        self.pulse.wake = waker(loop, lambda: self.pulse.close_rounds(self.messenger))
        if self.interval:
            # ticks only while this process holds the scheduler lease (bot/pulse/scheduler.py)
            lease = self.pulse.scheduler_lease()
            self.scheduler = PulseScheduler(self.tick, self.interval, lease)
            await self.scheduler.renew()
            self.scheduler.start()
            log.info("pulse scheduler started (every %s s)", self.interval)

    async def post_stop(self, app: Any) -> None:
        """Stop the scheduler and let a running tick finish its sends while the bot can still
        send; after `stop_grace` seconds what is left is cancelled. Then the scheduler lease is
        given up."""
        self.pulse.wake = None
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None:
            scheduler.shutdown()
        try:
            if self._messenger is None:
                return
            try:
                async with asyncio.timeout(self.stop_grace):
                    await self.pulse.idle()  # a running tick finishes its sends
                    await self.messenger.drain()
            except TimeoutError:
                log.warning("stopping: pulse messages still unsent after %s s", self.stop_grace)
                self.messenger.cancel()
        finally:
            if scheduler is not None:  # after the last tick: another process takes over now
                await scheduler.release()

    # ---- updates -------------------------------------------------------------------------------
    @staticmethod
    def wants(update: Update, username: str | None) -> bool:
        """Whether `update` is the pulse's: `/pulse` (or `/pulse@ThisBot`) from a person or a
        group's anonymous admin, or the join button."""
        query = update.callback_query
        if query is not None:
            return query.data == DATA_PULSE_JOIN and not query.from_user.is_bot
        message = update.message
        command = command_word(message.text) if message and message.text else None
        if message is None or command is None or command[0] != "pulse":
            return False
        if message.from_user is None or (message.from_user.is_bot and not as_group(message)):
            return False
        return command[1] is None or command[1].lower() == (username or "").lower()

    async def on_update(self, update: Update, bot: Any) -> None:
        """A pulse update (see `wants`), applied once even when Telegram delivers it again."""
        if not await self.channel.first_delivery(update):
            return
        query = update.callback_query
        if query is not None:
            await self.on_join_button(query, bot)
            return
        message = update.message
        user = update.effective_user
        if message is None or user is None or message.text is None:
            return
        command = command_word(message.text)
        words = command[2].split() if command else []
        await self.on_command(message, user, bot, words)

    async def on_command(self, message: Message, user: TgUser, bot: Any, words: list[str]) -> None:
        """`/pulse ...`: in a group the core's command, its answer posted in the group; in a
        private chat, where a pulse cannot live, a pointer to the group."""
        channel = self.channel
        lang = await channel.language(user)
        chat = message.chat
        if chat.type == ChatType.PRIVATE:
            await channel.send(bot, chat.id, notice(tt("pulse_group_only", lang)))
            return
        verb = words[0].lower() if words else ""
        if verb in JOIN_WORDS:
            # an anonymous admin is nobody to join: they only post the button for the others
            if not as_group(message) and not await self.join(bot, chat, user, lang):
                text = tt("pulse_open_chat", lang)
                await channel.send(bot, chat.id, link_notice(text, lang, start_link(bot.username)))
            prompt = self.pulse.join_prompt(lang)
            await self.send_all(bot, chat.id, self.join_messages(prompt, lang))
            return
        team, name = str(chat.id), chat.title or ""
        member = team if as_group(message) else str(user.id)  # see `is_admin`
        result = await self.pulse.command(self.messenger, team, name, member, words, lang)
        if verb == "now":  # the core ticked inside the command: its messages go out first
            await self.messenger.drain()
        reply = pulse_text(result, lang)
        if isinstance(result, Started):
            text = reply + "\n\n" + self.pulse.join_prompt(lang)
            await self.send_all(bot, chat.id, self.join_messages(text, lang))
        elif isinstance(result, PulseHelp):
            await self.send_all(bot, chat.id, notices(reply + "\n" + tt("pulse_help_note", lang)))
        else:
            await self.send_all(bot, chat.id, notices(reply))

    async def on_join_button(self, query: CallbackQuery, bot: Any) -> None:
        """The join button: join, confirm privately and in the button's own notice; the group
        stays quiet. Someone the bot cannot message yet is sent to the private chat's Start."""
        channel = self.channel
        user = query.from_user
        lang = await channel.language(user)
        message = query.message
        if message is None or message.chat.type == ChatType.PRIVATE:
            await channel.call("answerCallbackQuery", bot.answer_callback_query(query.id))
            return
        if await self.join(bot, message.chat, user, lang):
            text = t("pulse_joined", lang, team=message.chat.title or "")
            answer = bot.answer_callback_query(query.id, text=toast(text))
        else:
            answer = bot.answer_callback_query(
                query.id, text=toast(tt("pulse_open_chat", lang)), url=start_link(bot.username)
            )
        await channel.call("answerCallbackQuery", answer)

    async def join(self, bot: Any, chat: Chat, user: TgUser, lang: str) -> bool:
        """Join `user` to the group's pulse and confirm in their private chat; False when the
        bot cannot message them there (they never pressed Start, or blocked the bot)."""
        text = await asyncio.to_thread(
            self.pulse.join, CHANNEL, str(chat.id), chat.title or "", str(user.id), lang
        )
        return await self.channel.send(bot, user.id, notice(text)) is not None

    @staticmethod
    def join_messages(text: str, lang: str) -> list[TelegramMessage]:
        return join_messages(text, t("pulse_join_button", lang))

    async def send_all(self, bot: Any, chat_id: int, messages: Sequence[TelegramMessage]) -> None:
        for message in messages:
            await self.channel.send(bot, chat_id, message)


def as_group(message: Message) -> bool:
    """Sent by an anonymous admin: Telegram shows the group itself as the sender, which only
    the group's admins can do (`from` is then the GroupAnonymousBot)."""
    return message.sender_chat is not None and message.sender_chat.id == message.chat.id


def start_link(username: str | None) -> str | None:
    return f"https://t.me/{username}?start={DEEP_LINK}" if username else None
