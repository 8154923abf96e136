"""/history and the Slack Home tab read a page of results, not all of them (issue 12).

A user with 45 results sees the newest 20, is told how to see more (`/history 2`, and a button in
Slack and Telegram), the second page holds the next 20 and the third the last 5 without a button.
Checked in the engine, in the terminal (a real process), in Slack (the real Bolt app against
the fake Web API) and in Telegram (real PTB against the fake Bot API). The Home tab shows at most
20 history lines and is published only when it changed: opening it twice is one views.publish,
a new result is exactly one more."""

from __future__ import annotations

import logging
import time

import pytest

from bot.slack.home import ACTION_HOME_OLDER, home_view
from bot.storage import Storage
from flows.engine_data import HistoryPage
from flows.events import Event, Kind, from_payload, payload_history
from flows.i18n import t
from flows.replies import Say
from tests.fake_slack import TEAM_ID, FakeSlack
from tests.fake_telegram import FakeTelegram, TgUser
from tests.helpers import Chat
from tests.history_seed import seed_results
from tests.telegram_rig import Rig as TelegramRig
from tests.test_console import run_bot
from tests.test_slack_http import Rig as SlackRig
from tests.test_slack_http import block

COUNT = 45
OLDER = t("history_older_button", "en")


def page_header(first: int, last: int) -> str:
    return t("history_page_header", "en", first=first, last=last, total=COUNT)


def history_say(replies) -> Say:
    (say,) = [r for r in replies if isinstance(r, Say)]
    return say


# ---- the engine, through the service -------------------------------------------------------------
def test_history_pages_through_45_results_twenty_at_a_time(service, models):
    lines = seed_results(service.storage, "test", "alice", models, COUNT)
    chat = Chat(service)

    first = history_say(chat.type("/history"))
    assert first.text.split("\n")[: 1 + 20] == [page_header(1, 20), *lines[:20]]
    assert lines[20] not in first.text
    assert t("history_more", "en", page=2) in first.text
    assert [c.label for c in first.choices] == [OLDER]

    second = history_say(chat.press(first.choices[0].payload))
    assert second.text.split("\n")[: 1 + 20] == [page_header(21, 40), *lines[20:40]]
    assert t("history_more", "en", page=3) in second.text

    third = history_say(chat.press(second.choices[0].payload))
    assert third.text == "\n".join([page_header(41, 45), *lines[40:]])
    assert third.choices == ()

    # typed, in Dutch too: the same pages
    assert history_say(chat.type("/geschiedenis 2")).text == second.text
    assert history_say(chat.type("/history 3")).text == third.text


def test_a_short_history_is_one_page_without_a_way_to_more(service, models):
    lines = seed_results(service.storage, "test", "bob", models, 3)
    say = history_say(Chat(service, user="bob").type("/history"))
    assert say.text == "\n".join([t("history_header", "en"), *lines])
    assert say.choices == ()


def test_pages_past_the_end_and_words_that_are_no_page(service, models):
    seed_results(service.storage, "test", "carol", models, COUNT)
    chat = Chat(service, user="carol")
    chat.type("/taal nl")
    chat.type("/geschiedenis 4")
    assert chat.errors[0].text == t("history_no_page", "nl", last_page=3)
    chat.type("/geschiedenis meer")
    assert chat.errors[0].text == t("history_bad_page", "nl", size=20)
    empty = Chat(service, user="nobody")
    empty.type("/history 2")
    assert t("history_empty", "en") in empty.texts()


@pytest.mark.parametrize(
    "payload", ["h:0", "h:-1", "h:", "h:x", "h:1:2", "h:²", "h:9999999", "h:99999999999999999999"]
)
def test_a_forged_page_button_is_stale(payload):
    assert from_payload(payload).kind is Kind.STALE


def test_page_buttons_within_limits():
    assert from_payload(payload_history(2)) == Event(Kind.HISTORY, "2")
    assert from_payload(payload_history(999999)) == Event(Kind.HISTORY, "999999")
    assert len(payload_history(999999).encode()) <= 64  # Telegram's callback_data


def test_result_still_finds_the_current_model_behind_twenty_newer_results(service, models):
    """/result reads each model's latest result, not a page: an older model is not lost."""
    chat = Chat(service, user="dave")
    chat.start("bmm")
    for _ in models["bmm"].questions:
        chat.press(chat.question.choices[-1].payload)
    bmm = chat.result
    seed_results(service.storage, "test", "dave", models, COUNT)  # dated earlier, but stored later
    service.storage.db.execute(
        "update results set created_at = '2020-01-01T00:00:00+00:00' where model_id = 'bmm'"
    )
    chat.type("/result")
    assert chat.result.model_id == "bmm" and chat.result.phase_id == bmm.phase_id
    latest = service.storage.latest_results(service.storage.find_user("test", "dave"))
    assert sorted(p.model_id for p in latest) == sorted(
        ["bmm", "groeimodel", "mi-partners", "altimeter"]
    )
    assert latest[-1].model_id == "bmm"  # newest first


# ---- storage: every history read walks an index ------------------------------------------------
def test_history_reads_use_an_index(service, models):
    seed_results(service.storage, "test", "erin", models, COUNT)
    storage = service.storage
    user = storage.find_user("test", "erin")
    plans = []

    def trace(statement: str) -> None:
        if statement.lstrip().lower().startswith(("select", "with")):
            rows = storage.db.execute("explain query plan " + statement).fetchall()
            plans.append([row[-1] for row in rows])

    storage.db.conn.set_trace_callback(trace)
    try:
        page = storage.history_page(user, 2)
        latest = storage.latest_results(user)
    finally:
        storage.db.conn.set_trace_callback(None)
    assert (page.first, len(page.results), page.total, page.has_more) == (21, 20, 45, True)
    assert len(latest) == 3
    steps = [step for plan in plans for step in plan]
    assert any("INDEX idx_results_user_id_model_id_created_at" in s for s in steps)
    assert not [s for s in steps if "SCAN" in s and "results" in s]


# ---- the terminal ------------------------------------------------------------------------------
def test_console_history_pages(tmp_path, models):
    db = tmp_path / "bot.db"
    storage = Storage(db)
    lines = seed_results(storage, "console", "tester", models, COUNT)
    storage.close()
    run = run_bot(
        ["console", "--user", "tester", "--lang", "en", "--db", str(db)],
        "/history\n/history 2\n/history 3\n",
        tmp_path,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    pages = [out.index(page_header(1, 20)), out.index(page_header(21, 40))]
    pages.append(out.index(page_header(41, 45)))
    assert pages == sorted(pages)
    first, second, third = out[pages[0] : pages[1]], out[pages[1] : pages[2]], out[pages[2] :]
    assert all(line in first for line in lines[:20]) and lines[20] not in first
    assert all(line in second for line in lines[20:40]) and lines[40] not in second
    assert all(line in third for line in lines[40:])
    assert "Older results: type /history 2." in first
    assert "Older results: type /history 3." in second
    assert "Older results" not in third
    assert f"1. {OLDER}" not in out  # no button a terminal cannot press


# ---- Slack --------------------------------------------------------------------------------------
@pytest.fixture
def slack_fake():
    with FakeSlack() as server:
        yield server


@pytest.fixture
def slack(slack_fake, tmp_path, models):
    running = SlackRig(slack_fake, tmp_path / "slack.db", models)
    yield running
    running.stop()


def dm_history(rig: SlackRig, header: str, after: int):
    call = rig.fake.wait_for(
        "chat.postMessage",
        lambda c: c.response.get("channel") == "DU1" and header in c.text_of_blocks(),
        after=after,
    )
    return rig.fake.posted(call)


def test_slack_history_pages_with_an_older_results_button(slack, models):
    lines = seed_results(slack.storage, "slack", f"{TEAM_ID}:U1", models, COUNT)
    mark = slack.command("U1", "history")
    first = dm_history(slack, page_header(1, 20), mark)
    text = "\n".join(s["text"]["text"] for s in first.blocks if s.get("type") == "section")
    assert all(line.replace("&", "&amp;") in text for line in lines[:20])
    assert lines[20].replace("&", "&amp;") not in text
    assert "/maturity history 2" in text  # the typed way, as Slack reaches it
    (older,) = block(first, "choices")["elements"]
    assert older["text"]["text"] == OLDER

    mark = slack.press("U1", first, older)
    second = dm_history(slack, page_header(21, 40), mark)
    settled = slack.fake.message(first.channel, first.ts)
    assert not any(b.get("type") == "actions" for b in settled.blocks)  # the pressed one settles
    (older,) = block(second, "choices")["elements"]

    mark = slack.press("U1", second, older)
    third = dm_history(slack, page_header(41, 45), mark)
    assert not any(b.get("type") == "actions" for b in third.blocks)
    shown = "\n".join(s["text"]["text"] for s in third.blocks if s.get("type") == "section")
    assert all(line.replace("&", "&amp;") in shown for line in lines[40:])


def wait_for_log(caplog, text: str, count: int) -> None:
    deadline = time.monotonic() + 10
    while sum(text in r.getMessage() for r in caplog.records) < count:
        assert time.monotonic() < deadline, f"never logged {count}x: {text}"
        time.sleep(0.01)


def test_slack_home_shows_twenty_lines_and_is_published_once_per_change(slack, models, caplog):
    caplog.set_level(logging.DEBUG, logger="bot.slack")
    unchanged = "Home tab unchanged"
    fake = slack.fake
    lines = seed_results(slack.storage, "slack", f"{TEAM_ID}:U1", models, COUNT)

    mark = fake.mark()
    slack.send.home_opened("U1")
    home = fake.wait_for("views.publish", after=mark)
    text = home.text_of_blocks()
    assert sum(line in text for line in lines) == 20
    assert all(line in text for line in lines[:20])
    assert page_header(1, 20) in text
    (older,) = next(b for b in home.view["blocks"] if b.get("block_id") == "history_more")[
        "elements"
    ]
    assert (older["action_id"], older["text"]["text"]) == (ACTION_HOME_OLDER, OLDER)

    # opened again, nothing new: not published again
    mark = fake.mark()
    slack.send.home_opened("U1")
    wait_for_log(caplog, unchanged, 1)
    assert fake.calls_to("views.publish", after=mark) == []

    # a new result: exactly one more publish, with the result on top
    slack.command("U1", "start groeimodel")
    mark = fake.mark()
    slack.answer_all("U1", "groeimodel", option=0)
    home = fake.wait_for("views.publish", after=mark)
    assert t("history_page_header", "en", first=1, last=20, total=COUNT + 1) in (
        home.text_of_blocks()
    )
    slack.send.home_opened("U1")
    wait_for_log(caplog, unchanged, 2)
    assert len(fake.calls_to("views.publish", after=mark)) == 1
    assert slack.rows("select count(*) from home_views") == [(1,)]

    # the Home tab's button shows the next page in the DM
    mark = fake.mark()
    slack.send.action("U1", {**older, "block_id": "history_more"})
    dm_history(slack, t("history_page_header", "en", first=21, last=40, total=COUNT + 1), mark)


def test_slack_home_view_is_within_limits_for_a_long_history(models):
    from tests.test_slack_blocks import check_limits

    storage = Storage(":memory:")
    seed_results(storage, "test", "long", models, 300)
    user = storage.find_user("test", "long")
    view = home_view(models, storage.latest_results(user), storage.history_page(user, 1), "nl")
    check_limits(view["blocks"], max_blocks=100)
    empty = home_view(models, (), HistoryPage((), 1, 0), "en")
    assert not any(b.get("block_id") == "history_more" for b in empty["blocks"])
    storage.close()


# ---- Telegram -----------------------------------------------------------------------------------
@pytest.fixture
def telegram_fake():
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def telegram(telegram_fake, tmp_path, models):
    bot = TelegramRig(telegram_fake, tmp_path / "telegram.db", models)
    yield bot
    bot.stop()


def test_telegram_history_pages_with_an_older_results_button(telegram, models):
    user = TgUser(4545)
    lines = seed_results(telegram.storage, "telegram", str(user.id), models, COUNT)
    mark = telegram.say(user, "/history")
    first = telegram.message(user, page_header(1, 20), after=mark)
    assert all(line in first.shown() for line in lines[:20]) and lines[20] not in first.shown()
    assert "/history 2" in first.shown()
    assert first.button_texts == [OLDER]

    mark = telegram.press(user, first, text=OLDER)
    second = telegram.message(user, page_header(21, 40), after=mark)
    assert all(line in second.shown() for line in lines[20:40])
    assert telegram.fake.message(first.chat.id, first.message_id).buttons == []  # settled

    mark = telegram.press(user, second, text=OLDER)
    third = telegram.message(user, page_header(41, 45), after=mark)
    assert all(line in third.shown() for line in lines[40:])
    assert third.buttons == []

    mark = telegram.say(user, "/geschiedenis 2")
    assert telegram.message(user, page_header(21, 40), after=mark).button_texts == [OLDER]
