"""One shape for every platform's output, after Rasa's `OutputChannel`
(rasa/core/channels/channel.py): one send method per kind of reply, each with a plain-text
fallback, so a new platform works by implementing `send_text` alone and gets better by
overriding more (buttons, edited messages, images).

Why: the service answers every event with neutral replies (flows/replies.py). Walking them,
adding a platform's help note and drawing charts used to be written once per platform; here they
are written once, and a platform only says how each kind of reply looks.

The fallbacks are the neutral `plain_text`: a question is its text with numbered options (typing
the number answers it), a result card its text, an answered note "✓ answer"; a chart is drawn
to a PNG file in `chart_dir` and its path is sent.

Blocking and async platforms share everything but `deliver` and `settle`: Slack's Web API and
the terminal block, Telegram's Bot API is awaited. Every fallback returns what `send_text`
returns (a bool from a blocking platform, an awaitable of one from an async platform), so one
fallback serves both; `OutputChannel.deliver` calls each send in order, `AsyncOutputChannel`
awaits each. No event loop in the blocking platforms, no threads in the async one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from functools import partial
from pathlib import Path

from bot.charts import matrix_png, radar_png, save_matrix, save_radar
from flows.events import Event, Kind
from flows.replies import Answered, Ask, ChartSpec, MatrixChart, Reply, ResultCard, Say, plain_text

Sent = bool | Awaitable[bool]
"""What a send returns: True when the platform took the message (awaitable on async ones)."""
Chart = ChartSpec | MatrixChart

SENDERS: dict[type, str] = {
    Say: "send_message",
    Ask: "send_question",
    Answered: "send_answered",
    ResultCard: "send_result",
}
"""The dispatch table: which send method shows which kind of reply."""


def chart_png(chart: Chart) -> bytes:
    """A chart spec as PNG bytes, for platforms that send images."""
    return radar_png(chart) if isinstance(chart, ChartSpec) else matrix_png(chart)


def save_chart(chart: Chart, directory: Path) -> Path:
    """A chart spec as a PNG file, for platforms that can only show its path."""
    return (
        save_radar(chart, directory)
        if isinstance(chart, ChartSpec)
        else save_matrix(chart, directory)
    )


class ChannelBase:
    """The sends and their fallbacks, shared by both kinds of platform. A subclass is one
    conversation (one user's terminal, one Slack DM, one Telegram chat): no recipient argument
    on every call, and whatever the platform needs to answer (the pressed button, the language)
    is known when it is made."""

    chart_dir: Path = Path("charts")
    """Where the chart fallback writes its PNG files."""

    def send_text(self, text: str) -> Sent:
        """Plain text: the one method every platform must implement."""
        raise NotImplementedError

    def send_message(self, say: Say) -> Sent:
        """A message, perhaps with a menu of choices: fallback, the text with numbered choices."""
        return self.send_text(plain_text(say))

    def send_question(self, ask: Ask) -> Sent:
        """A question: fallback, its text with numbered options, so typing a number answers."""
        return self.send_text(plain_text(ask))

    def send_answered(self, answered: Answered) -> Sent:
        """The note that an answer was stored: fallback, "✓ answer"."""
        return self.send_text(plain_text(answered))

    def send_result(self, card: ResultCard) -> Sent:
        """An assessment's result: fallback, the card as text (its chart comes separately)."""
        return self.send_text(plain_text(card))

    def send_chart(self, chart: Chart) -> Sent:
        """A chart: fallback, a PNG file in `chart_dir` and its path as text. Drawn in the
        caller's thread, so an async platform should override this with an image send."""
        return self.send_text(f"[chart] {save_chart(chart, self.chart_dir)}")

    def help_note(self) -> str | None:
        """What the platform adds after the help text (its own commands and buttons)."""
        return None

    # ---- the walk, written once ------------------------------------------------------------
    def with_help_note(self, replies: Iterable[Reply], event: Event | None) -> list[Reply]:
        """The replies, with the platform's help note after the first one when they answer
        a HELP event: the help text is generic, the note says how this platform does it."""
        replies = list(replies)
        note = self.help_note() if event is not None and event.kind is Kind.HELP else None
        if note and replies:
            replies.insert(1, Say(note))
        return replies

    def sends(self, replies: Iterable[Reply]) -> Iterator[Callable[[], Sent]]:
        """One call per message to send, in order: each reply, then its chart if it has one."""
        for reply in replies:
            yield partial(getattr(self, SENDERS[type(reply)]), reply)
            if isinstance(reply, Say | ResultCard) and reply.chart is not None:
                yield partial(self.send_chart, reply.chart)


class OutputChannel(ChannelBase):
    """A platform whose sends block (the terminal, Slack's Web API)."""

    def settle(self, replies: list[Reply]) -> list[Reply]:
        """Before anything is sent: a platform that edits the message whose button was
        pressed does it here, and returns the replies still to send (default: all)."""
        return replies

    def deliver(self, replies: Iterable[Reply], *, event: Event | None = None) -> bool:
        """Send the replies in order; `event` is the one they answer, when there is one.
        True when the platform took every message."""
        settled = self.settle(self.with_help_note(replies, event))
        return all([_blocking(send()) for send in self.sends(settled)])  # a list: all are sent


def _blocking(sent: Sent) -> bool:
    if isinstance(sent, Awaitable):  # it would never run: say so instead of dropping it
        if isinstance(sent, Coroutine):
            sent.close()
        raise TypeError("a coroutine send on a blocking channel: use AsyncOutputChannel")
    return bool(sent)


class AsyncOutputChannel(ChannelBase):
    """A platform whose sends are coroutines (Telegram): every `send_*` it overrides is
    `async`, and the fallbacks hand back `send_text`'s coroutine."""

    async def settle(self, replies: list[Reply]) -> list[Reply]:
        """As `OutputChannel.settle`."""
        return replies

    async def deliver(self, replies: Iterable[Reply], *, event: Event | None = None) -> bool:
        """As `OutputChannel.deliver`, awaiting each send before the next."""
        settled = await self.settle(self.with_help_note(replies, event))
        return all([bool(await send()) for send in self.sends(settled)])


class CollectingChannel(OutputChannel):
    """Records what would be sent, in order, as (kind, what) pairs, `kind` being the send
    method's name without `send_`: a platform's view of the replies, for tests."""

    def __init__(self, help_note: str | None = None) -> None:
        self.sent: list[tuple[str, object]] = []
        self._help_note = help_note

    def record(self, kind: str, what: object) -> bool:
        self.sent.append((kind, what))
        return True

    def send_text(self, text: str) -> bool:
        return self.record("text", text)

    def send_message(self, say: Say) -> bool:
        return self.record("message", say)

    def send_question(self, ask: Ask) -> bool:
        return self.record("question", ask)

    def send_answered(self, answered: Answered) -> bool:
        return self.record("answered", answered)

    def send_result(self, card: ResultCard) -> bool:
        return self.record("result", card)

    def send_chart(self, chart: Chart) -> bool:
        return self.record("chart", chart)

    def help_note(self) -> str | None:
        return self._help_note

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.sent]
