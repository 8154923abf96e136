"""Slack rendering and translation as pure functions: real replies from the service in, Block
Kit out, checked against Slack's limits and against what a user must be able to read and press."""

from __future__ import annotations

import re

import pytest

from bot.slack.app import command_event, event_for_action
from bot.slack.home import ACTION_HOME_START, home_view
from bot.slack.render import (
    ACTION_FORGET_NO,
    ACTION_FORGET_YES,
    BUTTON_TEXT,
    HEADER_TEXT,
    SECTION_TEXT,
    answered_message,
    escape,
    forget_confirm_message,
    message_for,
    settled_message,
    slack_commands,
    unescape,
)
from bot.slack.texts import TEXTS, st
from flows.engine_data import HistoryPage
from flows.events import Event, Kind, from_payload
from flows.i18n import placeholders, t
from flows.model_schema import LANGUAGES
from flows.replies import Answered, Ask, Choice, ResultCard, Say
from tests.fake_slack import _texts
from tests.helpers import Chat

STAGE_MODELS = ["groeimodel", "mi-partners", "altimeter", "bmm"]


def all_blocks(message) -> list[dict]:
    return list(message.blocks)


def elements(message, block_id: str) -> list[dict]:
    found = [b for b in message.blocks if b.get("block_id") == block_id]
    return found[0]["elements"] if found else []


def shown(message) -> str:
    return "\n".join(_texts(list(message.blocks)))


def check_limits(blocks: list[dict], max_blocks: int = 50) -> None:
    assert len(blocks) <= max_blocks
    for block in blocks:
        if block["type"] == "section":
            assert 0 < len(block["text"]["text"]) <= SECTION_TEXT
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= HEADER_TEXT
        if block["type"] == "actions":
            assert len(block["elements"]) <= 25
            for element in block["elements"]:
                if element["type"] == "button":
                    assert len(element["text"]["text"]) <= BUTTON_TEXT
                    assert len(element["value"]) <= 2000
                else:
                    for option in element["options"]:
                        assert len(option["text"]["text"]) <= BUTTON_TEXT
                        assert len(option["value"]) <= 150
    action_ids = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert len(action_ids) == len(set(action_ids)), "action ids must be unique in a message"


def walk(service, model_id: str, lang: str, option: int = 0):
    """Every Ask of a model (answering option `option`), then the result card."""
    chat = Chat(service, user=f"walker-{lang}-{option}", lang=lang)
    chat.start(model_id)
    asks = []
    while chat.result is None:
        assert chat.question is not None, chat.texts()
        assert len(asks) <= 200, "the walk does not end"
        asks.append(chat.question)
        choices = chat.question.choices
        chat.press(choices[min(option, len(choices) - 1)].payload)
    return asks, chat.result


def test_every_model_renders_within_slacks_limits(service, models):
    """Whatever models ship (more keep coming), every question and result fits Slack."""
    for model_id in models:
        for lang in LANGUAGES:
            for option in (0, 99):
                asks, card = walk(service, model_id, lang, option)
                for reply in (*asks, card):
                    check_limits(all_blocks(message_for(reply, lang)))


# ---- questions ----------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("model_id", STAGE_MODELS)
def test_every_question_renders_within_slacks_limits(service, models, model_id, lang):
    asks, _ = walk(service, model_id, lang)
    assert len(asks) == len(models[model_id].questions)
    for ask in asks:
        message = message_for(ask, lang)
        check_limits(all_blocks(message))
        answers = elements(message, "answers")
        text = shown(message)
        assert ask.text in text
        if len(ask.choices) > 5:
            [select] = answers
            assert select["type"] == "static_select"
            values = [o["value"] for o in select["options"]]
        else:
            assert all(e["type"] == "button" for e in answers)
            values = [e["value"] for e in answers]
        assert values == [c.payload for c in ask.choices]
        for choice in ask.choices:  # the whole label is readable, cut buttons or not
            assert choice.label in text
        event = from_payload(values[0])
        assert (event.kind, event.question_id) == (Kind.ANSWER, ask.question_id)
        nav = [from_payload(e["value"]).kind for e in elements(message, "nav")]
        assert nav[0] is Kind.BACK and nav[-1] is Kind.STOP
        assert (Kind.SKIP in nav) == bool(ask.extra_choices)


def test_short_labels_are_plain_buttons_and_long_ones_are_listed_with_numbers():
    short = Ask("a1", "q1", "Question 1 of 2", "How?", (Choice("Yes", "a:a1:q1:y"),))
    message = message_for(short, "en")
    assert [e["text"]["text"] for e in elements(message, "answers")] == ["Yes"]
    long_label = "x" * 90
    long = Ask("a1", "q1", "Question 1 of 2", "How?", (Choice(long_label, "a:a1:q1:l"),))
    message = message_for(long, "en")
    [button] = elements(message, "answers")
    assert button["text"]["text"].startswith("1. ") and button["text"]["text"].endswith("…")
    assert f"*1.* {long_label}" in shown(message)


def test_answered_replaces_the_buttons_with_the_answer():
    message = answered_message(Answered("a1", "q1", "Do you post? → Every day & more"))
    assert not [b for b in message.blocks if b["type"] == "actions"]
    assert message.blocks[0]["text"]["text"] == "✓ Do you post? → Every day &amp; more"
    assert message.text == "✓ Do you post? → Every day &amp; more"  # Slack parses it too


def test_a_settled_message_keeps_its_text_and_names_the_pressed_button():
    question = message_for(
        Ask("a1", "q1", "Question 1 of 2", "How?", (Choice("Yes", "a:a1:q1:y"),)), "en"
    )
    settled = settled_message(question.blocks, question.text, "← Back <now>")
    assert not [b for b in settled.blocks if b["type"] == "actions"]
    assert "How?" in shown(settled)
    assert settled.blocks[-1]["elements"][0]["text"] == "→ ← Back &lt;now&gt;"
    assert settled_message(question.blocks, question.text, None).blocks[-1]["type"] != "context"


# ---- results --------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("model_id", STAGE_MODELS)
def test_a_result_card_shows_phase_explanation_and_next_actions(service, models, model_id, lang):
    _, card = walk(service, model_id, lang)
    assert isinstance(card, ResultCard)
    message = message_for(card, lang)
    check_limits(all_blocks(message))
    assert message.blocks[0]["type"] == "header"
    text = shown(message)
    assert models[model_id].phases[0].name.get(lang) in message.blocks[0]["text"]["text"]
    for line in card.explanation:
        assert slack_commands(line) in text
    for section in card.sections:
        assert section.header in text
        for line in section.lines:
            assert line in text
    for name, level_name, _, _ in card.pillar_levels:
        assert f"{name}: *{level_name}*" in text
    assert "/maturity start" in text  # the footer's commands work in Slack
    assert message.text.startswith(escape(card.title))
    # the follow-ups, the board report among them, are one row of buttons, not a select
    [row] = [b for b in message.blocks if b.get("block_id") == "follow_up"]
    assert [e["type"] for e in row["elements"]] == ["button"] * len(card.follow_up)
    assert row["elements"][-1]["text"]["text"] == t("report_button", lang)


# ---- texts --------------------------------------------------------------------------------------
def test_core_commands_become_maturity_subcommands():
    assert slack_commands("Type /back or /terug.") == "Type /maturity back or /maturity terug."
    assert slack_commands("/lang nl|en: change") == "/maturity lang nl|en: change"
    assert slack_commands("M&I/Partners and https://x.nl/start") == (
        "M&I/Partners and https://x.nl/start"
    )
    assert slack_commands("/unknown stays") == "/unknown stays"


def test_mrkdwn_control_characters_are_escaped_and_unescaped():
    assert escape("M&I <b> x>y") == "M&amp;I &lt;b&gt; x&gt;y"
    assert unescape(escape("M&I <b> &amp;")) == "M&I <b> &amp;"
    say = message_for(Say("Talk to M&I <here>", is_error=True), "en")
    assert say.blocks[0]["text"]["text"] == ":warning: Talk to M&amp;I &lt;here&gt;"


def test_every_slack_text_exists_in_every_language_with_the_same_placeholders():
    for key, texts in TEXTS.items():
        assert set(texts) == set(LANGUAGES), key
        assert len({frozenset(placeholders(text)) for text in texts.values()}) == 1, key
        assert all(text.strip() for text in texts.values()), key
    assert st("home_latest", "nl", phase="Pionier", date="2026-01-01").startswith("Laatste")
    assert st("forget_yes", "fr") == t("forget_yes", "en")  # shared text, from the catalogue


def test_forget_asks_with_a_yes_and_a_no_button():
    message = forget_confirm_message("nl")
    ids = [e["action_id"] for e in elements(message, "forget")]
    assert ids == [ACTION_FORGET_YES, ACTION_FORGET_NO]
    assert "niet ongedaan" in message.text


# ---- App Home ---------------------------------------------------------------------------------
def test_home_view_shows_latest_result_per_model_and_history(service, models):
    chat = Chat(service, user="home")
    for option in (0, -1):  # groeimodel twice: the newest result counts
        chat.start("groeimodel")
        while chat.result is None:
            chat.press(chat.question.choices[option].payload)
    home = service.home("test", "home")
    view = home_view(models, home.latest, home.recent, "en")
    check_limits(view["blocks"], max_blocks=100)
    assert view["type"] == "home"
    model = models["groeimodel"]
    section = next(b for b in view["blocks"] if b.get("block_id") == "model:groeimodel")
    assert f"Latest result: *{model.phases[-1].name.en}*" in section["text"]["text"]
    starts = [b["accessory"] for b in view["blocks"] if "accessory" in b]
    assert [b["action_id"] for b in starts] == [f"{ACTION_HOME_START}{m}" for m in models]
    text = "\n".join(_texts(view["blocks"]))
    assert text.count(model.name.en) == 1 + 2  # its line, and two history entries
    assert "Not taken yet" in text  # the other models

    dutch = "\n".join(_texts(home_view(models, (), HistoryPage((), 1, 0), "nl")["blocks"]))
    assert "Nog geen afgeronde beoordelingen." in dutch
    assert "Nog niet gedaan" in dutch


# ---- translation of Slack input -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Event(Kind.HELP)),
        ("help", Event(Kind.HELP)),
        ("  HULP ", Event(Kind.HELP)),
        ("start", Event(Kind.START)),
        ("start groeimodel", Event(Kind.CHOOSE, "groeimodel", direct=True)),
        ("result", Event(Kind.RESULT)),
        ("history", Event(Kind.HISTORY)),
        ("lang nl", Event(Kind.LANG, "nl")),
        ("back", Event(Kind.BACK)),
        ("/stop", Event(Kind.STOP)),
        ("dance", Event(Kind.UNKNOWN_COMMAND, "/dance")),
        (
            "initiatives add R&amp;D &lt;3; X; supporting",
            Event(Kind.INITIATIVES, "add R&D <3; X; supporting"),
        ),
    ],
)
def test_maturity_subcommands_become_core_events(text, expected):
    assert command_event(text) == expected


def test_actions_become_core_events():
    button = {"action_id": "mb:choice:1", "type": "button", "value": "a:abc:q1:o2"}
    assert event_for_action(button) == Event(
        Kind.ANSWER, "o2", question_id="q1", assessment_id="abc"
    )
    select = {
        "action_id": "mb:select",
        "type": "static_select",
        "selected_option": {"text": {"type": "plain_text", "text": "3. x"}, "value": "m:bmm"},
    }
    assert event_for_action(select) == Event(Kind.CHOOSE, "bmm")
    home = {"action_id": f"{ACTION_HOME_START}altimeter", "type": "button", "value": "altimeter"}
    assert event_for_action(home) == Event(Kind.CHOOSE, "altimeter", direct=True)
    assert event_for_action({"action_id": "mb:choice:0", "value": "garbage"}).kind is Kind.STALE


def test_no_block_kit_is_built_inside_the_listeners():
    """Architecture rule: rendering lives in bot/slack/render.py; no block literals in the app."""
    from pathlib import Path

    source = Path(__file__).resolve().parent.parent.joinpath("bot", "slack", "app.py").read_text()
    assert not re.search(r"[\"']type[\"']\s*:\s*[\"'](section|actions|button|header)", source)


def test_a_slack_member_is_one_value_with_one_format():
    from bot.slack.member import SlackMember

    member = SlackMember("T0FAKE", "U123")
    assert member.key == "T0FAKE:U123"
    assert SlackMember.parse(member.key) == member
    assert SlackMember.parse("U9") == SlackMember("", "U9")
