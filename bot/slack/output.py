"""Replies into a Slack conversation: `SlackOutput`, the channel interface (bot/channel.py) for
one DM or channel, choosing the Block Kit message (bot/slack/render.py) and the Web API call
(bot/slack/app.py) for each kind of reply. A turn's replies go out as few messages as Slack
allows (bot/slack/compose.py): one chat.postMessage per turn, not one per reply.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from slack_sdk import WebClient

from bot.channel import Chart, OutputChannel, chart_png
from bot.slack.compose import answered_update, turn_messages
from bot.slack.render import (
    SlackMessage,
    answered_message,
    ask_message,
    result_message,
    say_message,
    settled_message,
    text_message,
)
from bot.slack.texts import st
from flows.events import Event
from flows.replies import Answered, Ask, Reply, ResultCard, Say


@dataclass(frozen=True)
class Pressed:
    """The DM message whose button was pressed: Answered replaces it, other presses settle it."""

    channel: str
    ts: str
    blocks: tuple[dict[str, Any], ...]
    text: str
    label: str | None
    """The text on what was pressed or selected, for the settled message's note."""

    @classmethod
    def of(cls, body: dict[str, Any], action: dict[str, Any]) -> Pressed | None:
        """The pressed message of a block_actions request; None when the button was not on a
        message (the Home tab)."""
        container = body.get("container") or {}
        message = body.get("message")
        if container.get("type") != "message" or not message:
            return None
        source = action.get("selected_option") or action
        return cls(
            channel=container.get("channel_id") or (body.get("channel") or {}).get("id"),
            ts=container.get("message_ts") or message.get("ts"),
            blocks=tuple(message.get("blocks") or ()),
            text=message.get("text") or "",
            label=(source.get("text") or {}).get("text"),
        )


class SlackCalls(Protocol):
    """The Web API calls an output makes (SlackChannel's, in bot/slack/app.py): each failure
    is logged there and answered with False or None, never raised."""

    def post(self, client: WebClient, channel: str, message: SlackMessage) -> bool: ...

    def update(self, client: WebClient, channel: str, ts: str, message: SlackMessage) -> None: ...

    def upload_png(
        self, client: WebClient, channel: str, png: bytes, key: str, title: str
    ) -> bool: ...


class SlackOutput(OutputChannel):
    """One Slack conversation: Block Kit per kind of reply, charts as uploaded files, and the
    pressed message edited in place (to its answer, or without its buttons), so old buttons
    do not linger and the DM reads as a transcript."""

    def __init__(
        self,
        calls: SlackCalls,
        client: WebClient,
        channel: str,
        lang: str,
        pressed: Pressed | None = None,
    ) -> None:
        self.calls = calls
        self.client = client
        self.channel = channel
        self.lang = lang
        self.pressed = pressed

    def post(self, message: SlackMessage) -> bool:
        return self.calls.post(self.client, self.channel, message)

    def send_text(self, text: str) -> bool:
        return self.post(text_message(text))

    def send_message(self, say: Say) -> bool:
        return self.post(say_message(say, self.lang))

    def send_question(self, ask: Ask) -> bool:
        return self.post(ask_message(ask, self.lang))

    def send_answered(self, answered: Answered) -> bool:
        return self.post(answered_message(answered))  # a typed answer: confirm what was understood

    def send_result(self, card: ResultCard) -> bool:
        return self.post(result_message(card, self.lang))

    def send_chart(self, chart: Chart) -> bool:
        png = chart_png(chart)
        return self.calls.upload_png(self.client, self.channel, png, chart.key, chart.title)

    def help_note(self) -> str:
        return st("help_note", self.lang)

    def deliver(self, replies: Iterable[Reply], *, event: Event | None = None) -> bool:
        """The turn's replies as few messages as Slack allows, each chart uploaded after its
        message. True when Slack took every message (all are tried, in order)."""
        settled = self.settle(self.with_help_note(replies, event))
        results = [
            self.post(item) if isinstance(item, SlackMessage) else self.send_chart(item)
            for item in turn_messages(settled, self.lang)
        ]
        return all(results)

    def settle(self, replies: list[Reply]) -> list[Reply]:
        """The pressed question becomes its answer (text before it in the same message stays),
        or the pressed message loses its buttons with a note of what was pressed (no note when
        the press failed); the answer is then not posted again."""
        pressed = self.pressed
        if pressed is None:
            return replies
        answered = next((r for r in replies if isinstance(r, Answered)), None)
        if answered is not None:
            message = answered_update(pressed.blocks, answered)
        else:
            failed = any(isinstance(r, Say) and r.is_error for r in replies)
            message = settled_message(
                pressed.blocks, pressed.text, None if failed else pressed.label
            )
        self.calls.update(self.client, pressed.channel, pressed.ts, message)
        return [r for r in replies if r is not answered]
