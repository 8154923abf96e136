"""The channel interface (bot/channel.py): a platform that implements only `send_text` runs a
whole assessment through the real service, reading nothing but the fallback texts, and every
fallback says in text what a richer platform shows with buttons, edits and images."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from bot.channel import AsyncOutputChannel, CollectingChannel, OutputChannel
from flows.events import Event, Kind, from_text
from flows.i18n import t
from flows.replies import (
    Answered,
    Ask,
    ChartSpec,
    Choice,
    MatrixChart,
    Reply,
    ResultCard,
    Say,
    Section,
)

OPTION = re.compile(r"^\s+(\d+)\. (.+)$", re.MULTILINE)


class TextOnly(OutputChannel):
    """The smallest platform: text in, text out."""

    def __init__(self, chart_dir: Path) -> None:
        self.chart_dir = chart_dir
        self.texts: list[str] = []

    def send_text(self, text: str) -> bool:
        self.texts.append(text)
        return True


class AsyncTextOnly(AsyncOutputChannel):
    def __init__(self, chart_dir: Path) -> None:
        self.chart_dir = chart_dir
        self.texts: list[str] = []

    async def send_text(self, text: str) -> bool:
        await asyncio.sleep(0)
        self.texts.append(text)
        return True


def options(text: str) -> dict[str, str]:
    """The numbered options a text shows: {"1": "Start", ...}."""
    return dict(OPTION.findall(text))


def number_of(text: str, label: str) -> str:
    return next(number for number, shown in options(text).items() if label in shown)


class User:
    """Someone typing into a text-only platform: every line goes to the real service, and
    what comes back is only what the platform was given to show."""

    def __init__(self, service, channel: TextOnly) -> None:
        self.service = service
        self.channel = channel

    def type(self, text: str | None) -> list[str]:
        event = Event(Kind.OPEN) if text is None else from_text(text)
        seen = len(self.channel.texts)
        handled = self.service.handle("text-only", "ann", event, lang_hint="en")
        assert self.channel.deliver(handled.replies, event=event)
        return self.channel.texts[seen:]


def test_a_text_only_platform_completes_a_whole_assessment(service, models, tmp_path):
    model = models["bmm"]  # a pillar model: its result has a radar chart too
    user = User(service, TextOnly(tmp_path / "charts"))
    menu = user.type(None)[-1]
    intro = user.type(number_of(menu, model.name.en))
    shown = user.type(number_of(intro[-1], t("begin_button", "en")))
    for _ in model.questions:
        question = shown[-1]
        assert question.startswith("Question ")
        most_mature = max(options(question), key=int)
        shown = user.type(most_mature)
        assert shown[0].startswith("✓ ")  # the answered note, as text
    result = "\n".join(shown)
    assert model.phases[-1].name.en in result
    charts = [line.removeprefix("[chart] ") for line in shown if line.startswith("[chart] ")]
    assert len(charts) == 1 and Path(charts[0]).read_bytes().startswith(b"\x89PNG")
    finished = service.history("text-only", "ann")[1]
    assert [past.model_id for past in finished] == ["bmm"]


ASK = Ask(
    assessment_id="a1",
    question_id="q1",
    header="Question 1 of 2",
    text="Who owns social media?",
    choices=(Choice("Nobody", "a:a1:q1:o1"), Choice("A team", "a:a1:q1:o2")),
    help="Think of a name.",
    extra_choices=(Choice("Skip", "c:skip"),),
)
RADAR = ChartSpec("Levels", ("Strategy", "People", "Tools"), (1, 2, 3), ("L1", "L2", "L3"), "a1")
MATRIX = MatrixChart("Matrix", ("listening",), ("sales",), ((("Webcare",),),), "initiatives-ann")
CARD = ResultCard(
    assessment_id="a1",
    model_id="bmm",
    phase_id="p2",
    phase_name="Process",
    title="Your result",
    summary="You are in Process.",
    explanation=("Two thirds of your answers are at Process or higher.",),
    sections=(Section("Next actions", ("Write a plan",)),),
    footer="Measure again in three months.",
    pillar_levels=(("Strategy", "Process", 2, 4),),
    chart=RADAR,
    follow_up=(Choice("Remind me in 3 months", "r:bmm:3"),),
)


@pytest.fixture
def text_only(tmp_path):
    return TextOnly(tmp_path)


def test_a_question_falls_back_to_its_text_with_numbered_options(text_only):
    text_only.deliver([ASK])
    [text] = text_only.texts
    assert text.splitlines()[:3] == [
        "Question 1 of 2",
        "Who owns social media?",
        "(Think of a name.)",
    ]
    assert options(text) == {"1": "Nobody", "2": "A team"}
    assert "Skip: /skip" in text


def test_a_menu_falls_back_to_numbered_choices_and_a_plain_message_to_its_text(text_only):
    text_only.deliver([Say("Choose:", (Choice("Groeimodel", "m:groeimodel"),)), Say("Hello")])
    assert text_only.texts == ["Choose:\n  1. Groeimodel", "Hello"]


def test_an_answered_note_falls_back_to_a_check_and_the_answer(text_only):
    text_only.deliver([Answered("a1", "q1", "Who owns it? → A team")])
    assert text_only.texts == ["✓ Who owns it? → A team"]


def test_a_result_card_falls_back_to_its_text_and_its_chart_to_a_png_path(text_only, tmp_path):
    text_only.deliver([CARD])
    card, chart = text_only.texts
    assert card.startswith("Your result\nYou are in Process.")
    assert "Strategy" in card and "  - Write a plan" in card
    assert "→ Remind me in 3 months: /remind bmm 3" in card  # a button as a typed command
    assert chart == f"[chart] {tmp_path / 'radar-a1.png'}"
    assert (tmp_path / "radar-a1.png").read_bytes().startswith(b"\x89PNG")


def test_a_matrix_chart_falls_back_to_a_png_path_after_its_message(text_only, tmp_path):
    text_only.deliver([Say("Your initiatives", chart=MATRIX)])
    assert text_only.texts == ["Your initiatives", f"[chart] {tmp_path / 'initiatives-ann.png'}"]
    assert (tmp_path / "initiatives-ann.png").is_file()


def test_an_override_replaces_its_fallback_only():
    collected = CollectingChannel()
    collected.deliver([Say("Hi"), ASK, Answered("a1", "q1", "x"), CARD, Say("M", chart=MATRIX)])
    assert collected.kinds() == [
        "message",
        "question",
        "answered",
        "result",
        "chart",
        "message",
        "chart",
    ]
    assert [what for kind, what in collected.sent if kind == "chart"] == [RADAR, MATRIX]


class ImagesToo(TextOnly):
    def send_chart(self, chart) -> bool:
        self.texts.append(f"<image {chart.key}>")
        return True


def test_a_platform_that_sends_images_overrides_send_chart_alone(tmp_path):
    channel = ImagesToo(tmp_path)
    channel.deliver([CARD])
    assert channel.texts[1] == "<image a1>" and channel.texts[0].startswith("Your result")
    assert not list(tmp_path.iterdir())  # no file drawn


def test_the_help_note_follows_the_help_text_and_nothing_else():
    help_replies: list[Reply] = [Say("Help text"), Say("Current question")]
    collected = CollectingChannel(help_note="In this platform, type /x.")
    collected.deliver(help_replies, event=Event(Kind.HELP))
    assert [say.text for _, say in collected.sent] == [
        "Help text",
        "In this platform, type /x.",
        "Current question",
    ]
    other = CollectingChannel(help_note="In this platform, type /x.")
    other.deliver(help_replies, event=Event(Kind.BACK))
    other.deliver(help_replies)
    assert len(other.sent) == 4
    silent = CollectingChannel()  # no note: the help text alone
    silent.deliver(help_replies, event=Event(Kind.HELP))
    assert len(silent.sent) == 2


class Refusing(TextOnly):
    """A platform that loses the answered note, and settles a press by dropping it."""

    def send_answered(self, answered: Answered) -> bool:
        return False

    def settle(self, replies: list[Reply]) -> list[Reply]:
        return [reply for reply in replies if not isinstance(reply, Ask)]


def test_deliver_says_whether_every_message_was_taken_and_settle_comes_first(tmp_path):
    channel = Refusing(tmp_path)
    assert channel.deliver([Say("ok")])
    assert not channel.deliver([Answered("a1", "q1", "x"), Say("still sent")])
    assert channel.texts == ["ok", "still sent"]
    assert channel.deliver([ASK, Say("after")])
    assert channel.texts[-1] == "after" and len(channel.texts) == 3


def test_an_async_platform_gets_the_same_fallbacks_and_hook(tmp_path):
    class Noted(AsyncTextOnly):
        def help_note(self) -> str:
            return "Type a number."

    class NotedToo(TextOnly):
        def help_note(self) -> str:
            return "Type a number."

    replies: list[Reply] = [Say("Help text"), ASK, Answered("a1", "q1", "x"), CARD]
    awaited, called = Noted(tmp_path), NotedToo(tmp_path)
    assert asyncio.run(awaited.deliver(replies, event=Event(Kind.HELP)))
    called.deliver(replies, event=Event(Kind.HELP))
    assert awaited.texts == called.texts
    assert awaited.texts[1] == "Type a number." and awaited.texts[-1].startswith("[chart] ")


def test_a_coroutine_send_on_a_blocking_platform_is_refused(tmp_path):
    class Confused(OutputChannel):
        async def send_text(self, text: str) -> bool:
            return True

    with pytest.raises(TypeError, match="AsyncOutputChannel"):
        Confused().deliver([Say("hi")])
