"""Untrusted typed text (issue 9): escape sequences, controls and bidi characters never stored or
echoed (flows/text.py, applied in flows/events.py), and a typed Slack mention never sent live.

Properties of the cleaning with hypothesis; then end to end: the console as a real process,
the Slack app against the fake Slack (which records every payload), the Telegram bot against
the fake Bot API (which parses the HTML as Telegram does)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.slack.render import escape, settled_message, text_message, unescape
from flows.events import Kind, from_payload, from_text
from flows.initiatives import parse_new
from flows.text import BIDI_CONTROLS, clean_text, one_line
from tests.fake_slack import FakeSlack
from tests.fake_telegram import FakeTelegram, TgUser
from tests.helpers import Chat
from tests.telegram_rig import Rig
from tests.test_slack_pulse import PulseRig

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = [
    "\x1b[31m",  # red
    "\x1b[2J\x1b[H",  # clear the screen, cursor home
    "\x1b]8;;https://evil.example\x07",  # a terminal hyperlink
    "\x1b]0;owned\x1b\\",  # the window title
    "\x1bc",  # reset the terminal
    "\x9b31m",  # an 8-bit CSI
    "\x00",
    "\x07",
    "\x08",
    "\r",
    "\x7f",
    "\ud800",  # a lone surrogate: SQLite cannot store it
    *sorted(BIDI_CONTROLS),
]
"""Pieces an attacker can type; each must be gone after cleaning."""

tricky_text = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=8)), max_size=12).map(
    "".join
)


def unsafe_characters(text: str, keep: str = "\n\t") -> list[str]:
    return [
        char
        for char in text
        if char not in keep
        and (char in BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cs"))
    ]


# ---- the cleaning itself -----------------------------------------------------------------------
@given(tricky_text)
@example("\x1b[31mred\x1b[0m \u202eevil\u202c")
@example("\x1b\x1b[[31m")
def test_clean_text_leaves_no_control_or_bidi_character_and_is_idempotent(text):
    cleaned = clean_text(text)
    assert unsafe_characters(cleaned) == []
    assert "\x1b" not in cleaned and "\r" not in cleaned
    assert clean_text(cleaned) == cleaned


@given(tricky_text)
def test_one_line_is_one_clean_trimmed_line(text):
    line = one_line(text)
    assert unsafe_characters(line, keep="") == []
    assert "\n" not in line and "\t" not in line and "  " not in line
    assert line == line.strip()
    assert one_line(line) == line


@given(st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"))))
def test_ordinary_text_is_left_alone(text):
    text = "".join(char for char in text if char not in BIDI_CONTROLS)
    assert clean_text(text) == text
    assert clean_text(f"{text}\n\t{text}") == f"{text}\n\t{text}"


def test_escape_sequences_go_whole_and_their_text_stays():
    assert clean_text("\x1b[1;31mred\x1b[0m") == "red"
    assert clean_text("\x1b]8;;https://evil.example\x07click\x1b]8;;\x07") == "click"
    assert clean_text("a\x00b\x08c\x7fd") == "abcd"
    assert clean_text("one\r\ntwo\rthree\u2028four") == "one\ntwo\nthree\nfour"
    assert clean_text("\u202egnp.exe") == "gnp.exe"
    assert clean_text("emoji 👩‍💻 and Zero\u200dWidth Joiner stay") == (
        "emoji 👩‍💻 and Zero\u200dWidth Joiner stay"
    )
    assert one_line("  Web\tcare\n  team ") == "Web care team"


def test_initiative_fields_are_single_clean_lines():
    new = parse_new("\x1b[31mWeb\u202ecare\x1b[0m;\tX\n; supporting ; customer\ncare\x00")
    assert (new.name, new.channel, new.objective, new.goal) == (
        "Webcare",
        "X",
        "supporting",
        "customer care",
    )


def test_typed_text_is_cleaned_where_it_enters(service):
    event = from_text("\x1b[2J/lang \x1b]0;x\x07\u202ede")
    assert (event.kind, event.value) == (Kind.LANG, "de")
    assert from_payload("m:\x1b[31mnope\u202e").value == "nope"
    chat = Chat(service)
    chat.type("/\x1b[31mhack\u202e")
    assert "I don't know that command: /hack." in chat.texts()
    chat.type("/lang \x1b]8;;https://e.vil\x07x\u2066")
    assert "I don't know that language: x." in chat.texts()
    assert unsafe_characters(chat.texts()) == []


# ---- Slack rendering -----------------------------------------------------------------------------
MENTIONS = ["<!channel>", "<!here>", "<!everyone>", "<@U123>", "<#C123>", "<!subteam^S1>"]


def test_a_message_escapes_its_fallback_text_too():
    message = text_message("Added: <!channel> R&D <@U123>")
    assert message.text == "Added: &lt;!channel&gt; R&amp;D &lt;@U123&gt;"
    assert "<!channel>" not in json.dumps(message.blocks)
    # Slack hands a pressed message's text back escaped: settling it keeps it so, once
    settled = settled_message(message.blocks, message.text, None)
    assert settled.text == message.text
    assert unescape(escape("a &lt; b")) == "a &lt; b"


# ---- end to end ----------------------------------------------------------------------------------
@pytest.fixture
def slack(tmp_path, models, scan):
    with FakeSlack() as fake:
        fake.add_user("U1")
        rig = PulseRig(fake, tmp_path / "slack.db", models, scan)
        yield rig
        rig.stop()


def raw_texts(call) -> list[str]:
    """Every text of a Slack payload as sent, before any client would unescape it."""
    texts = [call.params.get("text") or ""]

    def walk(node) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                texts.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(call.blocks)
    return texts


def test_slack_never_posts_a_typed_mention_live(slack):
    fake = slack.fake
    goal = " ".join(MENTIONS[1:]) + " care"
    mark = slack.dm_command("U1", f"initiatives add <!channel> Web\x1b[31mcare\u202e; X; 4; {goal}")
    fake.wait_for("chat.postMessage", lambda c: "Added: " in c.text_of_blocks(), after=mark)
    for words in ("initiatives list", "initiatives matrix", "initiatives bogus"):
        mark = slack.dm_command("U1", words)
        fake.wait_for("chat.postMessage", after=mark)
    mark = slack.dm_command("U1", "lang <!channel>")  # an unknown language is echoed
    fake.wait_for("chat.postMessage", lambda c: "language" in c.text_of_blocks(), after=mark)

    posts = [c for c in fake.calls if c.method == "chat.postMessage"]
    for call in posts:
        for text in raw_texts(call):
            for mention in MENTIONS:
                assert mention not in text, (mention, text)
    listing = next(c for c in posts if "1. " in c.text_of_blocks())
    assert "<!channel> Webcare (X): Supporting → " + goal in listing.text_of_blocks()  # as typed
    assert "&lt;!channel&gt; Webcare" in listing.params["text"]
    with sqlite3.connect(slack.db_path) as db:
        assert db.execute("select name, goal from initiatives").fetchall() == [
            ("<!channel> Webcare", goal)
        ]


def test_telegram_shows_typed_html_as_text(tmp_path, models):
    with FakeTelegram() as fake:
        rig = Rig(fake, tmp_path / "telegram.db", models)
        try:
            user = TgUser(4242)
            name = '<b>Bold</b> & <a href="https://e.vil">x</a>\x1b[31m\u202e'
            mark = rig.say(user, f"/initiatives add {name}; X; supporting; goal")
            rig.message(user, "Added: ", after=mark)
            mark = rig.say(user, "/initiatives list")
            listing = rig.message(user, "1. ", after=mark)
        finally:
            rig.stop()
    typed = '<b>Bold</b> & <a href="https://e.vil">x</a>'
    assert f"1. {typed} (X)" in listing.text
    assert not [e for e in listing.entities if e["type"] in ("bold", "text_link", "url")]
    assert "\x1b" not in listing.text and "\u202e" not in listing.text


def test_console_stores_and_echoes_a_name_without_escapes_or_bidi(tmp_path):
    db = tmp_path / "bot.db"
    lines = [
        "/initiatives add \x1b[31mWeb\u202ecare\x1b[0m\x07; X; supporting; goal\u2066",
        "/initiatives list",
        "/\x1b[2Jwhat\u202e",
    ]
    run = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--lang", "en", "--user", "t", "--db", str(db)],
        input="".join(f"{line}\n" for line in lines),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "MATURITY_CHART_DIR": str(tmp_path / "charts"), "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "Added: Webcare (Supporting)" in run.stdout
    assert "1. Webcare (X): Supporting → goal" in run.stdout
    assert "/what" in run.stdout  # the unknown command, echoed clean
    assert unsafe_characters(run.stdout) == []
    with sqlite3.connect(db) as conn:
        assert conn.execute("select name, goal from initiatives").fetchall() == [
            ("Webcare", "goal")
        ]
