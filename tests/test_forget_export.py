"""/forget leaves no trace and /export holds everything keyed to the user (issue 9), end to end:
the real Slack app (HTTP mode) and the real Telegram bot against their fakes, with a real pulse.

One story per platform: the user starts the team's pulse, answers a round (which closes with a
report), is invited to the next round, adds an initiative and asks for a re-check reminder.
Then every table of the database is searched, every column of every row, for the user's id (the
platform's bare id and the stored member form) and their name."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.pulse.service import PulseSettings
from bot.slack.texts import st
from bot.telegram.texts import tt
from flows.i18n import t
from tests.fake_slack import TEAM_ID, FakeSlack, Message
from tests.fake_telegram import FakeTelegram, TgUser
from tests.telegram_rig import Rig, is_question
from tests.test_slack_pulse import DUE, TEAM, PulseRig, block
from tests.test_telegram_pulse import GROUP, T0, Clock, answer_pulse, in_group, join

TABLES = {
    "users",
    "conversations",
    "assessments",
    "answers",
    "results",
    "processed_events",
    "initiatives",
    "teams",
    "team_members",
    "pulses",
    "rounds",
    "round_invites",
    "recheck_reminders",
    "seen_requests",
    "home_views",
}
NEXT_ROUND = DUE + timedelta(days=7, seconds=20)


def traces(db_path: Path, needles: list[str]) -> list[str]:
    """Every `table.column: value` holding one of `needles` (case-insensitive), in every row of
    every table the database has: read with a connection of its own, as anyone could."""
    found = []
    with sqlite3.connect(db_path) as conn:
        tables = [
            name for (name,) in conn.execute("select name from sqlite_master where type = 'table'")
        ]
        assert set(tables) >= TABLES
        for table in tables:
            cursor = conn.execute(f'select * from "{table}"')
            columns = [column[0] for column in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    text = (
                        value.decode(errors="replace") if isinstance(value, bytes) else str(value)
                    )
                    if any(needle.lower() in text.lower() for needle in needles):
                        found.append(f"{table}.{column}: {text[:60]!r}")
    return found


# ---- Slack -------------------------------------------------------------------------------------
SUBJECT = "UFORGETME"
"""The user who forgets; the fake directory's display name is the id in lower case."""
SUBJECT_NAME = "uforgetme"
OTHERS = ["UKEEPA", "UKEEPB", "UKEEPC"]


@pytest.fixture
def slack_fake():
    with FakeSlack() as server:
        server.add_user(SUBJECT, is_admin=True)  # a workspace admin may start a pulse
        for user in OTHERS:
            server.add_user(user)
        server.add_channel(TEAM, [SUBJECT, *OTHERS])
        yield server


@pytest.fixture
def slack(slack_fake, tmp_path, models, scan):
    running = PulseRig(slack_fake, tmp_path / "slack.db", models, scan, min_responses=3)
    yield running
    running.stop()


def slack_press(rig: PulseRig, user: str, message: Message, element: dict[str, Any]) -> int:
    mark = rig.fake.mark()
    action = {
        "action_id": element["action_id"],
        "block_id": "b",
        "type": element["type"],
        "value": element["value"],
        "text": element["text"],
    }
    assert rig.send.action(user, action, message=message).status_code == 200
    return mark


def slack_said(rig: PulseRig, user: str, text: str, after: int) -> None:
    rig.fake.wait_for(
        "chat.postMessage",
        lambda c: c.response.get("channel") == f"D{user}" and text in c.text_of_blocks(),
        after=after,
    )


def slack_forget(rig: PulseRig, user: str) -> int:
    """`/maturity forget`, confirmed with the button; returns the mark before the press."""
    fake = rig.fake
    mark = rig.dm_command(user, "forget")
    confirm = fake.posted(
        fake.wait_for(
            "chat.postMessage",
            lambda c: any(b.get("block_id") == "forget" for b in c.blocks),
            after=mark,
        )
    )
    (yes,) = [e for e in block(confirm, "forget")["elements"] if e["action_id"] == "mb:forget:yes"]
    mark = slack_press(rig, user, confirm, yes)
    slack_said(rig, user, st("forgotten", "en"), mark)
    return mark


def slack_story(rig: PulseRig, models) -> int:
    """The subject starts the pulse, everyone answers round 1 (closed, reported), round 2 opens
    (the subject's invitation stays open), and the subject adds an initiative and a reminder.
    Returns the call mark from before round 2 was sent."""
    fake = rig.fake
    assert (
        "Pulse started"
        in rig.pulse_command(SUBJECT, "start groeimodel weekly tue 10:00").params["text"]
    )
    mark = rig.tick_at(DUE + timedelta(seconds=20))
    for user in (SUBJECT, *OTHERS):
        rig.answer_until_result(user, 1, rig.question(user, after=mark))
    # the last answer closes the round at once: its report reaches the team without a tick
    fake.wait_for("chat.postMessage", lambda c: c.response.get("channel") == TEAM, after=mark)
    round_two = rig.tick_at(NEXT_ROUND)
    rig.question(SUBJECT, after=round_two)
    mark = rig.dm_command(SUBJECT, "initiatives add Webcare; X; supporting; customer care")
    slack_said(rig, SUBJECT, "Added: Webcare", mark)
    mark = rig.dm_command(SUBJECT, "remind groeimodel 3")
    reminder = t("recheck_set", "en", model=models["groeimodel"].name.en, months="3")
    slack_said(rig, SUBJECT, reminder, mark)
    return round_two


def test_slack_forget_leaves_no_trace_of_the_user_in_any_table(slack, models):
    fake = slack.fake
    round_two = slack_story(slack, models)
    needles = [SUBJECT, f"{TEAM_ID}:{SUBJECT}", SUBJECT_NAME]
    before = traces(slack.db_path, needles)
    for where in (
        "teams.created_by",
        "pulses.created_by",
        "round_invites.member",
        "users.",
        "home_views.member",  # the Home tab published with their pulse result
    ):
        assert any(hit.startswith(where) for hit in before), where

    # their workspace names them too: as a pulse admin and as whoever installed the app
    with sqlite3.connect(slack.db_path) as db:
        db.execute(
            "insert into workspace_settings (workspace, pulse_admins, updated_at) "
            "values (?, ?, '2026-01-01')",
            (TEAM_ID, f"{OTHERS[0]},{SUBJECT}"),
        )
        db.execute(
            "insert into slack_installations (enterprise_id, team_id, is_enterprise_install, "
            "bot_token, installer_user_id, installed_at) values ('', ?, 0, 'xoxb-1', ?, '2026')",
            (TEAM_ID, SUBJECT),
        )

    slack_forget(slack, SUBJECT)

    assert traces(slack.db_path, needles) == []
    assert slack.rows("select pulse_admins from workspace_settings") == [(OTHERS[0],)]
    assert slack.rows("select team_id, installer_user_id from slack_installations") == [
        (TEAM_ID, None)
    ]
    # the team keeps its pulse, its closed round's report and the others' data
    assert slack.rows("select status, created_by from pulses") == [("active", None)]
    assert slack.rows("select created_by from teams") == [(None,)]
    rounds = slack.rows("select status, json_extract(report, '$.answered') from rounds")
    assert rounds == [("closed", 4), ("open", None)]
    assert slack.rows("select count(*) from round_invites") == [(2 * len(OTHERS),)]
    assert slack.rows("select count(*) from results") == [(len(OTHERS),)]
    # and goes on without its creator: the open round closes with the others' answers
    for user in OTHERS:
        slack.answer_until_result(user, 2, slack.question(user, after=round_two))
    report = fake.wait_for(
        "chat.postMessage",
        lambda c: c.response.get("channel") == TEAM and "members answered" in c.params["text"],
        after=round_two,
    )
    assert "3 of 3 members answered" in report.text_of_blocks()


def test_slack_forget_reaches_a_pulse_creator_who_never_wrote_to_the_bot(slack, models):
    """Starting a pulse stores the creator's id without a users row: /forget still erases it."""
    slack.pulse_command(SUBJECT, "start groeimodel weekly tue 10:00")
    assert slack.rows("select count(*) from users") == [(0,)]
    slack_forget(slack, SUBJECT)
    assert traces(slack.db_path, [SUBJECT]) == []
    assert slack.rows("select status from pulses") == [("active",)]


def test_slack_export_reaches_a_pulse_creator_who_never_wrote_to_the_bot(slack, slack_fake):
    slack.pulse_command(SUBJECT, "start groeimodel weekly tue 10:00")
    assert slack.rows("select count(*) from users") == [(0,)]
    mark = slack.dm_command(SUBJECT, "export")
    slack_fake.wait_for("files.completeUploadExternal", after=mark)
    data = json.loads(slack_fake.files[-1]["content"].decode())
    assert [t["team"] for t in data["teams_created"]] == [TEAM]
    assert [p["model_id"] for p in data["pulses_created"]] == ["groeimodel"]
    assert data["assessments"] == []


def test_slack_export_holds_reminders_invitations_and_what_they_started_and_nobody_else(
    slack, slack_fake, models
):
    slack_story(slack, models)
    mark = slack.dm_command(SUBJECT, "export")
    slack_fake.wait_for("files.completeUploadExternal", after=mark)
    content = slack_fake.files[-1]["content"].decode()
    data = json.loads(content)
    assert slack_fake.files[-1]["channel_id"] == f"D{SUBJECT}"
    for other in OTHERS:
        assert other not in content
    assert [(r["model_id"], r["sent_at"]) for r in data["recheck_reminders"]] == [
        ("groeimodel", None)
    ]
    [closed, current] = data["pulse_invitations"]
    assert (closed["team"], closed["team_name"], closed["round_status"]) == (
        TEAM,
        "#team-a",
        "closed",
    )
    assert closed["sent_at"] and closed["answered_at"]
    assert (
        current["round_status"] == "open" and current["sent_at"] and current["answered_at"] is None
    )
    assert data["pulse_memberships"] == []  # Slack's members are the channel's, not stored
    [team] = data["teams_created"]
    assert (team["team"], team["name"]) == (TEAM, "#team-a") and team["created_at"]
    [pulse] = data["pulses_created"]
    assert (
        pulse["team"],
        pulse["model_id"],
        pulse["cadence"],
        pulse["weekday"],
        pulse["hour"],
    ) == (
        TEAM,
        "groeimodel",
        "weekly",
        1,
        10,
    )
    # their pulse answers, named like any assessment's
    answered = next(a for a in data["assessments"] if a["id"] == closed["assessment_id"])
    assert answered["model_name"] and answered["result"]["phase_name"]
    assert all(answer["question"] and answer["answer"] for answer in answered["answers"])
    assert [i["name"] for i in data["initiatives"]] == ["Webcare"]
    [home] = data["home_tab"]  # the digest of the Home tab last published to them
    assert len(home["digest"]) == 64 and home["published_at"]


# ---- Telegram ----------------------------------------------------------------------------------
LEAD = TgUser(7770013, "Zebediah")
"""The user who forgets: an admin of the group who starts its pulse."""
MEMBERS = [TgUser(7780021 + i, f"Keeper {i}") for i in range(3)]


@pytest.fixture
def telegram_fake():
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def clock():
    return Clock(T0)


@pytest.fixture
def telegram(telegram_fake, tmp_path, models, scan, clock):
    bot = Rig(
        telegram_fake,
        tmp_path / "telegram.db",
        models,
        scan=scan,
        pulse_settings=PulseSettings(min_responses=3),
        clock=clock,
    )
    yield bot
    bot.stop()


def telegram_story(rig: Rig, fake: FakeTelegram, clock: Clock, models) -> None:
    """As `slack_story`, in a group whose members join with the button."""
    fake.set_member(GROUP, LEAD, "administrator")
    button = in_group(rig, LEAD, "/pulse start groeimodel weekly tue 10:00", "Pulse started")
    for user in (LEAD, *MEMBERS):
        mark = rig.say(user, "/start")
        rig.message(user, t("welcome", "en"), after=mark)
        join(rig, fake, user, button)
    clock.now = DUE + timedelta(seconds=30)
    mark = fake.mark()
    rig.tick()
    for user in (LEAD, *MEMBERS):
        answer_pulse(rig, user, 1, after=mark)
    clock.now += timedelta(hours=1)
    mark = fake.mark()
    rig.tick()  # everyone answered: the round closes
    assert fake.wait_message(GROUP.id, lambda m: m.text is not None, after=mark)
    clock.now = NEXT_ROUND
    mark = fake.mark()
    rig.tick()
    assert is_question(rig.question(LEAD, after=mark))
    mark = rig.say(LEAD, "/initiatives add Webcare; X; supporting; customer care")
    rig.message(LEAD, "Added: Webcare", after=mark)
    mark = rig.say(LEAD, "/remind groeimodel 3")
    rig.message(
        LEAD, t("recheck_set", "en", model=models["groeimodel"].name.en, months="3"), after=mark
    )


def test_telegram_forget_leaves_no_trace_of_the_user_in_any_table(
    telegram, telegram_fake, clock, models
):
    fake = telegram_fake
    telegram_story(telegram, fake, clock, models)
    needles = [str(LEAD.id), LEAD.first_name]
    before = traces(telegram.db_path, needles)
    for where in ("teams.created_by", "pulses.created_by", "team_members.member", "round_invites."):
        assert any(hit.startswith(where) for hit in before), where

    mark = telegram.say(LEAD, "/forget")
    confirm = telegram.message(LEAD, tt("forget_confirm", "en"), after=mark)
    mark = telegram.press(LEAD, confirm, text=tt("forget_yes", "en"))
    telegram.message(LEAD, tt("forgotten", "en"), after=mark)

    assert traces(telegram.db_path, needles) == []
    assert telegram.rows("select status, created_by from pulses") == [("active", None)]
    assert telegram.rows("select count(*) from team_members") == [(len(MEMBERS),)]
    assert telegram.rows(
        "select status, json_extract(report, '$.answered') from rounds order by id"
    ) == [
        ("closed", 4),
        ("open", None),
    ]
    # the group's admins still run the pulse
    fake.set_member(GROUP, MEMBERS[0], "administrator")
    in_group(telegram, MEMBERS[0], "/pulse pause", t("pulse_paused", "en"))


def test_telegram_export_holds_memberships_invitations_and_what_they_started(
    telegram, telegram_fake, clock, models
):
    fake = telegram_fake
    telegram_story(telegram, fake, clock, models)
    mark = telegram.say(LEAD, "/export")
    document = fake.wait_message(LEAD.id, lambda m: m.document is not None, after=mark)
    content = document.document.decode()
    data = json.loads(content)
    for other in MEMBERS:
        assert str(other.id) not in content and other.first_name not in content
    assert [r["model_id"] for r in data["recheck_reminders"]] == ["groeimodel"]
    [membership] = data["pulse_memberships"]
    assert (membership["team"], membership["team_name"]) == (str(GROUP.id), GROUP.title)
    assert membership["joined_at"]
    assert [i["round_status"] for i in data["pulse_invitations"]] == ["closed", "open"]
    assert [(x["team"], x["name"]) for x in data["teams_created"]] == [(str(GROUP.id), GROUP.title)]
    [pulse] = data["pulses_created"]
    assert (pulse["model_id"], pulse["cadence"], pulse["timezone"]) == (
        "groeimodel",
        "weekly",
        "Europe/Amsterdam",
    )
    pulse_assessments = [a for a in data["assessments"] if a["model_id"] == "groeimodel_pulse"]
    assert len(pulse_assessments) == 2 and pulse_assessments[0]["answers"][0]["answer"]
