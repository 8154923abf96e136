"""Replies into a Telegram chat: the Bot API sends the bot makes (each failure logged, none raised)
and `TelegramOutput`, the channel interface (bot/channel.py) for one chat.

Why a failure is only logged: sends are already retried (Telegram's 429 retry_after, network
errors with backoff) by the rate limiter, and by the time anything is sent the service has
stored the answer: /resume shows the current question.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from telegram import CallbackQuery, Message
from telegram.error import BadRequest, TelegramError

from bot.channel import AsyncOutputChannel, Chart, chart_png
from bot.telegram.render import (
    PARSE_MODE,
    TelegramMessage,
    answered_text,
    ask_messages,
    chart_caption,
    notices,
    pressed_label,
    result_messages,
    say_messages,
    settled_text,
    toast,
)
from bot.telegram.texts import tt
from flows.replies import Answered, Ask, Reply, ResultCard, Say

if TYPE_CHECKING:  # bot.telegram.pulse builds on the channel
    from bot.telegram.pulse import ChatPacer

log = logging.getLogger("bot.telegram")


class TelegramSender:
    """The Bot API sends, each one logged and survived, paced per chat when a pacer is given."""

    def __init__(self, pacer: ChatPacer | None = None) -> None:
        """`pacer`: spaces the messages into each chat (the pulse's sends to whole teams);
        replies to a user's own press or message go out at once."""
        self.pacer = pacer

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


class TelegramOutput(AsyncOutputChannel):
    """One chat: HTML messages with inline keyboards per kind of reply (long ones split),
    charts as photos drawn off the event loop, and the pressed message settled in place."""

    def __init__(
        self,
        sender: TelegramSender,
        bot: Any,
        chat_id: int,
        lang: str,
        query: CallbackQuery | None = None,
    ) -> None:
        self.sender = sender
        self.bot = bot
        self.chat_id = chat_id
        self.lang = lang
        self.query = query

    async def send_all(self, messages: Sequence[TelegramMessage]) -> bool:
        """The messages in order; True when Telegram accepted every one of them."""
        sent = [await self.sender.send(self.bot, self.chat_id, m) for m in messages]
        return all(message is not None for message in sent)

    async def send_text(self, text: str) -> bool:
        return await self.send_all(notices(text))

    async def send_message(self, say: Say) -> bool:
        return await self.send_all(say_messages(say))

    async def send_question(self, ask: Ask) -> bool:
        return await self.send_all(ask_messages(ask, self.lang))

    async def send_answered(self, answered: Answered) -> bool:
        """A typed answer: confirm what was understood (a pressed one edits the question)."""
        return await self.send_all([TelegramMessage(answered_text(answered))])

    async def send_result(self, card: ResultCard) -> bool:
        return await self.send_all(result_messages(card))

    async def send_chart(self, chart: Chart) -> bool:
        png = await asyncio.to_thread(chart_png, chart)
        sent = await self.sender.send_photo(self.bot, self.chat_id, png, chart.title, chart.key)
        return sent is not None

    def help_note(self) -> str:
        return tt("help_note", self.lang)

    async def settle(self, replies: list[Reply]) -> list[Reply]:
        """Acknowledge a press and change the pressed message: an answer replaces the question
        (the chat reads as a transcript), an error shows as a short notice and the stale
        buttons go, any other press leaves a note of what was pressed. Returns the replies
        still to send."""
        query = self.query
        if query is None:
            return replies
        bot, call = self.bot, self.sender.call
        error = next((r for r in replies if isinstance(r, Say) and r.is_error), None)
        answered = next((r for r in replies if isinstance(r, Answered)), None)
        await call(
            "answerCallbackQuery",
            bot.answer_callback_query(query.id, text=toast(error.text) if error else None),
        )
        rest = [r for r in replies if r is not error]
        message = query.message if isinstance(query.message, Message) else None
        if message is None:
            return rest
        where = {"chat_id": message.chat.id, "message_id": message.message_id}
        if answered is not None:
            await call(
                "editMessageText",
                bot.edit_message_text(answered_text(answered), parse_mode=PARSE_MODE, **where),
            )
            return [r for r in rest if r is not answered]
        if error is not None or message.text is None:
            await call("editMessageReplyMarkup", bot.edit_message_reply_markup(**where))
            return rest
        label = pressed_label(message.reply_markup, query.data or "", message.text)
        await call(
            "editMessageText",
            bot.edit_message_text(
                settled_text(message.text_html, label), parse_mode=PARSE_MODE, **where
            ),
        )
        return rest
