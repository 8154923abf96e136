"""Team pulse checks in Slack, end to end: the real Bolt app in HTTP mode on 127.0.0.1, signed
requests as Slack sends them, the fake Slack Web API (a channel with members, a directory with
bots, a deactivated user and admins), and the pulse's clock under the test's control: rounds
advance only by explicit ticks at chosen moments, never by sleeping.

Also issue 6 in Slack: the quick scan answered by buttons, and the initiatives matrix."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.pulse.service import PulseService, PulseSettings
from bot.service import AssessmentService
from bot.slack.app import SlackChannel
from bot.slack.build import build_app
from bot.slack.http import EVENTS_PATH, web_app
from bot.slack.pacing import PacedClient, Pacer, Pacing
from bot.slack.pulse import SlackPulse, SlackTeamMessenger
from bot.slack.web_client import make_client
from bot.storage import Storage
from flows.i18n import t
from flows.pulse_commands import pulse_text
from tests.fake_slack import BOT_TOKEN, TEAM_ID, Call, FakeSlack, Message, SlackSender, serve_asgi

SECRET = "pulse-signing-secret"
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday
DUE = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # Tuesday 10:00 in Amsterdam
TEAM = "C0TEAM"
MEMBERS = [f"U{i}" for i in range(1, 7)]  # U1 is the team lead who starts the pulse
ADMIN, OWNER, OUTSIDER = "U90", "U91", "U92"
FAST = Pacing().scaled(50)
"""Slack's limits fifty times over: the pacing path runs, the tests stay fast."""


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class PulseRig:
    """The app under test (service + pulse over one SQLite file, Bolt app, HTTP server, the
    pulse's loop without its scheduler) and the fake Slack with a team channel."""

    def __init__(
        self,
        fake: FakeSlack,
        db_path,
        models,
        scan,
        min_responses: int = 5,
        admins: frozenset[str] = frozenset(),
    ) -> None:
        self.fake = fake
        self.admins = admins
        self.db_path = db_path
        self.models = models
        self.scan = scan
        self.min_responses = min_responses
        self.clock = Clock(T0)
        self._stack: ExitStack | None = None
        self.start()

    def start(self) -> None:
        self._stack = stack = ExitStack()
        self.storage = Storage(self.db_path)
        stack.callback(self.storage.close)
        self.service = AssessmentService(self.storage, self.models, scan=self.scan)
        self.pulse = PulseService(
            self.service, PulseSettings(min_responses=self.min_responses), clock=self.clock
        )
        client = make_client(BOT_TOKEN, self.fake.api_url)
        messenger = SlackTeamMessenger(
            PacedClient.like(client, Pacer(FAST)), self.service, admins=self.admins
        )
        self.slack_pulse = SlackPulse(self.pulse, messenger, scheduled=False)
        self.slack_pulse.start()
        stack.callback(self.slack_pulse.stop)
        executor = ThreadPoolExecutor(max_workers=5)
        stack.callback(executor.shutdown, wait=True)
        app = build_app(self.service, client, SECRET, executor=executor, pulse=self.slack_pulse)
        url = stack.enter_context(serve_asgi(web_app(app, self.storage)))
        self.send = SlackSender(url + EVENTS_PATH, SECRET, self.fake)
        stack.callback(self.send.close)

    def stop(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    def restart(self) -> None:
        """A new process as far as the bot can tell: new connection, services, loop and app."""
        self.stop()
        self.start()

    # ---- the clock ---------------------------------------------------------------------------
    def tick_at(self, moment: datetime) -> int:
        """Set the clock and run one tick, as the scheduler would; returns the call mark."""
        mark = self.fake.mark()
        self.clock.now = moment
        self.slack_pulse.runtime.tick(moment)
        return mark

    # ---- what people do ----------------------------------------------------------------------
    def pulse_command(
        self, user: str, words: str, channel: str = TEAM, channel_name: str = "team-a"
    ) -> Call:
        """`/maturity pulse <words>` typed in a channel; returns the reply to the command."""
        mark = self.fake.mark()
        response = self.send.command(
            f"pulse {words}".strip(), user, channel=channel, channel_name=channel_name
        )
        assert response.status_code == 200, response.text
        return self.fake.wait_for(f"/response/{user}", after=mark)

    def dm_command(self, user: str, text: str) -> int:
        mark = self.fake.mark()
        assert self.send.command(text, user).status_code == 200
        return mark

    def question(self, user: str, after: int = 0) -> Message:
        call = self.fake.wait_for(
            "chat.postMessage",
            lambda c: is_question(c) and c.response.get("channel") == f"D{user}",
            after=after,
        )
        return self.fake.posted(call)

    def answer(self, user: str, message: Message, option: int) -> int:
        element = block(message, "answers")["elements"]
        if element[0]["type"] == "static_select":
            action = {**_action(element[0]), "selected_option": element[0]["options"][option]}
        else:
            action = {**_action(element[option]), "value": element[option]["value"]}
            action["text"] = element[option]["text"]
        mark = self.fake.mark()
        assert self.send.action(user, action, message=message).status_code == 200
        return mark

    def answer_until_result(self, user: str, option: int, first: Message) -> Call:
        """Press option `option` on every question until the result comes."""
        message = first
        while True:
            mark = self.answer(user, message, option)
            call = self.fake.wait_for(
                "chat.postMessage",
                lambda c: (
                    c.response.get("channel") == f"D{user}" and (is_question(c) or is_result(c))
                ),
                after=mark,
            )
            if is_result(call):
                return call
            message = self.fake.posted(call)

    # ---- what is stored ----------------------------------------------------------------------
    def rows(self, sql: str, *params: Any) -> list[tuple]:
        with self.storage.reading() as db:
            return db.execute(sql, params).fetchall()


def _action(element: dict[str, Any]) -> dict[str, Any]:
    return {"action_id": element["action_id"], "block_id": "b", "type": element["type"]}


def block(message: Message, block_id: str) -> dict[str, Any]:
    return next(b for b in message.blocks if b.get("block_id") == block_id)


def is_question(call: Call) -> bool:
    return any(b.get("block_id") == "answers" for b in call.blocks)


def has_answers(message: Message) -> bool:
    return any(b.get("block_id") in ("answers", "nav") for b in message.blocks)


def check_invitation(rig: PulseRig, post: Call, model_id: str = "groeimodel") -> None:
    """One chat.postMessage holds the whole invitation, in the order a member reads it: the
    invitation, the pulse model's intro, the first question with its answer buttons."""
    model = rig.pulse.pulse_models[f"{model_id}_pulse"]
    text = post.params["text"]  # the notification starts with the invitation
    assert text.startswith("Pulse for #team-a: ") and "anonymous" in text
    assert model.questions[0].text.en in text
    shown = rig.fake.posted(post).shown()
    assert shown[0] == text.split("\n", 1)[0]
    assert shown[1].startswith(model.name.en)  # the intro
    header = shown.index(f"Question 1 of {len(model.questions)}")
    assert shown[header + 1] == f"*{model.questions[0].text.en}*"
    ids = [b.get("block_id") for b in post.blocks]
    assert ids.index("question") < ids.index("answers") < ids.index("nav") == len(ids) - 1


def is_result(call: Call) -> bool:
    return bool(call.blocks) and call.blocks[0].get("type") == "header"


def posts_to(fake: FakeSlack, channel: str, after: int = 0) -> list[Call]:
    return [
        c
        for c in fake.calls_to("chat.postMessage", after=after)
        if c.ok and c.response.get("channel") == channel
    ]


def uploads_to(fake: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [f for f in fake.files if f["channel_id"] == channel]


@pytest.fixture
def fake():
    with FakeSlack() as server:
        for user in MEMBERS:
            server.add_user(user)
        server.add_user("UHELPER", is_bot=True)  # an integration in the channel
        server.add_user("UGONE", deleted=True)  # deactivated, still listed in the channel
        server.add_user(ADMIN, is_admin=True)
        server.add_user(OWNER, is_owner=True)
        server.add_user(OUTSIDER)
        # U1, the team lead, created the team's channel: that is what lets them start its pulse
        server.add_channel(TEAM, [*MEMBERS[:3], "UHELPER", *MEMBERS[3:], "UGONE"], creator="U1")
        yield server


@pytest.fixture
def rig(fake, tmp_path, models, scan):
    running = PulseRig(fake, tmp_path / "pulse.db", models, scan)
    yield running
    running.stop()


def pulse_questions(rig: PulseRig, model_id: str = "groeimodel") -> int:
    return len(rig.pulse.pulse_models[f"{model_id}_pulse"].questions)


def start_weekly(rig: PulseRig) -> Call:
    reply = rig.pulse_command("U1", "start groeimodel weekly tue 10:00")
    assert reply.params["response_type"] == "in_channel"  # the team sees it, not only the lead
    assert "Pulse started" in reply.params["text"]
    assert "every week on Tuesday at 10:00 (Europe/Amsterdam)" in reply.params["text"]
    assert "from 5 answers on" in reply.params["text"]
    return reply


def run_round(rig: PulseRig, answering: int) -> dict[str, Any]:
    """Start a weekly pulse, run its round with `answering` of the 6 members answering, and
    close it; returns what was seen along the way."""
    fake = rig.fake
    start_weekly(rig)
    assert rig.rows("select created_by from pulses") == [(f"{TEAM_ID}:U1",)]

    mark = rig.tick_at(DUE - timedelta(minutes=5))  # before the due time: nothing
    assert [c for c in fake.calls[mark:] if c.method == "chat.postMessage"] == []

    mark = rig.tick_at(DUE + timedelta(seconds=20))
    invited = {}
    for user in MEMBERS:
        # one message: the invitation, the model's intro, then the first question's buttons
        [post] = posts_to(fake, f"D{user}", after=mark)
        check_invitation(rig, post)
        invited[user] = fake.posted(post)
    for outsider in ("UHELPER", "UGONE", ADMIN, OUTSIDER):
        assert posts_to(fake, f"D{outsider}") == []
    assert len(fake.calls_to("users.list", after=mark)) == 1  # not users.info per member
    assert fake.calls_to("users.info", after=mark) == []

    count = pulse_questions(rig)
    for user in MEMBERS[:answering]:
        rig.answer_until_result(user, 1, invited[user])
        messages = fake.dm_messages(user)
        answered = [line for m in messages for line in m.shown() if line.startswith("✓")]
        assert len(answered) == count  # each press became "✓ question → answer"
        assert messages[0].shown()[0].startswith("Pulse for #team-a: ")  # the invitation stays
        assert messages[0].shown()[-1] == answered[0]
        assert not any(has_answers(m) for m in messages)

    mark = rig.tick_at(DUE + timedelta(hours=25))  # past the reminder delay (24 h)
    reminded = {
        user
        for user in MEMBERS
        if any(
            "Reminder: the pulse of #team-a" in c.params["text"]
            for c in posts_to(fake, f"D{user}", after=mark)
        )
    }
    assert reminded == set(MEMBERS[answering:])
    assert posts_to(fake, TEAM, after=mark) == []  # the round is still open

    mark = rig.tick_at(DUE + timedelta(hours=49))  # past the deadline (48 h)
    [report] = posts_to(fake, TEAM, after=mark)
    return {"report": report, "report_text": report.text_of_blocks()}


# ---- the round ---------------------------------------------------------------------------------
def test_a_weekly_round_reaches_everyone_reminds_the_silent_and_reports_to_the_channel(
    rig, fake, models
):
    seen = run_round(rig, answering=5)
    text = seen["report_text"]
    phases = models["groeimodel"].phases
    assert "Pulse #team-a: " in text
    assert "5 of 6 members answered (83%)" in text
    assert f"The group's phase (median): {phases[1].name.en}" in text
    assert f"{phases[1].name.en}: 5" in text
    for other in (0, 2, 3):
        assert f"{phases[other].name.en}: 0" in text
    [chart] = uploads_to(fake, TEAM)
    assert chart["content"].startswith(b"\x89PNG")
    # nobody is named: not in the channel, not in the stored report
    for user in MEMBERS:
        assert user.lower() not in text.lower()
    assert rig.rows("select json_extract(report, '$.distribution') from rounds") == [("[0,5,0,0]",)]
    assert rig.rows("select count(*) from round_invites where answered_at is not null") == [(5,)]


def test_below_k_the_channel_sees_only_the_count(rig, fake, models):
    seen = run_round(rig, answering=4)
    text = seen["report_text"]
    assert "4 of 6 members answered" in text
    assert "results are shown from 5 answers on" in text
    for phase in models["groeimodel"].phases:
        assert phase.name.en not in text
    assert uploads_to(fake, TEAM) == []  # no chart drawn or sent
    assert rig.rows("select median_index, json_extract(report, '$.distribution') from rounds") == [
        (None, "[]")
    ]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE semantics")
def test_a_pulse_command_the_disk_cannot_take_is_said_to_its_sender(rig, fake):
    """A full disk: `/maturity pulse start` answers, only to its sender, that it was not saved;
    no pulse runs until there is room again."""
    from tests.test_bad_environments import files_limited_to

    rig.pulse_command("U1", "status")  # the database is past the limit below by now
    with files_limited_to(4096):
        reply = rig.pulse_command("U1", "start groeimodel weekly")
    assert reply.params["text"] == t("not_saved", "en")
    assert reply.params["response_type"] == "ephemeral"
    assert rig.rows("select count(*) from pulses") == [(0,)]
    assert "Pulse started" in rig.pulse_command("U1", "start groeimodel weekly").params["text"]


def test_only_the_creator_and_workspace_admins_may_change_or_export(rig, fake):
    run_round(rig, answering=5)
    refused = rig.pulse_command("U2", "start altimeter monthly")
    assert refused.params["response_type"] == "ephemeral"  # only U2 sees the refusal
    assert "Only a workspace admin or owner" in refused.params["text"]
    assert rig.rows("select model_id, created_by from pulses") == [("groeimodel", f"{TEAM_ID}:U1")]
    assert [c.params["user"] for c in fake.calls_to("users.info") if c.params.get("user") == "U2"]

    refused = rig.pulse_command("U2", "report")
    assert "Only a workspace admin or owner" in refused.params["text"]
    assert "members answered" not in refused.params["text"]

    for allowed in ("U1", ADMIN, OWNER):  # the creator, a workspace admin, an owner
        report = rig.pulse_command(allowed, "report")
        assert report.params["response_type"] == "in_channel"
        assert "5 of 6 members answered (83%)" in report.params["text"]

    paused = rig.pulse_command(ADMIN, "pause")
    assert "Pulse paused" in paused.params["text"]
    assert rig.rows("select status from pulses") == [("paused",)]


def test_the_round_closes_as_soon_as_the_last_member_answers(rig, fake):
    """No tick after the answers (the clock stands still): the last answer closes the round
    and the team gets its report at once, not at the next check."""
    start_weekly(rig)
    mark = rig.tick_at(DUE + timedelta(seconds=20))
    for user in MEMBERS[:-1]:
        rig.answer_until_result(user, 1, rig.question(user, after=mark))
    assert posts_to(fake, TEAM, after=mark) == []  # one member still to answer: still open
    assert rig.rows("select status from rounds") == [("open",)]
    rig.answer_until_result(MEMBERS[-1], 1, rig.question(MEMBERS[-1], after=mark))
    report = fake.wait_for(
        "chat.postMessage",
        lambda c: c.response.get("channel") == TEAM and "members answered" in c.params["text"],
        after=mark,
    )
    assert "6 of 6 members answered (100%)" in report.params["text"]
    assert rig.rows("select status from rounds") == [("closed",)]


def test_a_stored_dm_channel_is_reused_and_a_gone_one_reopened(rig, fake):
    start_weekly(rig)
    rig.tick_at(DUE + timedelta(seconds=20))
    assert sorted(c.params["users"] for c in fake.calls_to("conversations.open")) == MEMBERS
    assert len(rig.rows("select member from dm_channels")) == len(MEMBERS)

    rig.restart()  # a new process: nothing cached in memory
    fake.move_dm("U3", "DNEW3")  # U3's old DM channel is gone
    mark = rig.tick_at(DUE + timedelta(days=7, seconds=20))
    reopened = [c.params["users"] for c in fake.calls_to("conversations.open", after=mark)]
    assert reopened == ["U3"]  # only the gone one is opened again
    for user in MEMBERS:
        channel = "DNEW3" if user == "U3" else f"D{user}"
        # one chat.postMessage each: the invitation, then the last round's reminder
        invitation, reminder = posts_to(fake, channel, after=mark)
        check_invitation(rig, invitation)
        assert reminder.params["text"].startswith("Reminder: the pulse of #team-a")
    gone = [
        c for c in fake.calls_to("chat.postMessage", after=mark) if c.params["channel"] == "DU3"
    ]
    assert [c.response.get("error") for c in gone] == ["channel_not_found"]
    assert rig.rows("select dm from dm_channels where member like '%:U3'") == [("DNEW3",)]


def test_status_counts_the_members_invited_to_the_latest_round(rig):
    start_weekly(rig)
    assert "Members: 0." in rig.pulse_command("U2", "status").params["text"]  # no round yet
    rig.tick_at(DUE + timedelta(seconds=20))
    status = rig.pulse_command("U2", "status").params["text"]
    assert f"Members: {len(MEMBERS)}." in status  # the six humans, not the bot or the leaver


def test_a_plain_member_may_not_start_a_pulse_the_channel_creator_and_admins_may(rig, fake):
    fake.add_channel("C0OTHER", ["U2", "U3", OUTSIDER], creator="U2")
    refused = rig.pulse_command("U3", "start altimeter monthly", channel="C0OTHER")
    assert refused.params["response_type"] == "ephemeral"  # only U3 sees it
    assert "Only a workspace admin or owner, the creator of this channel" in refused.params["text"]
    assert rig.rows("select count(*) from pulses") == [(0,)]
    assert [c.params["channel"] for c in fake.calls_to("conversations.info")] == ["C0OTHER"]

    started = rig.pulse_command("U2", "start altimeter monthly", channel="C0OTHER")
    assert started.params["response_type"] == "in_channel"
    assert "Pulse started" in started.params["text"]
    status = rig.pulse_command("U3", "status", channel="C0OTHER")  # anyone may ask the status
    assert "every month on the first Monday" in status.params["text"]
    assert (
        "Only a workspace admin or owner"
        in rig.pulse_command("U3", "stop", channel="C0OTHER").params["text"]
    )
    assert "Pulse stopped" in rig.pulse_command("U2", "stop", channel="C0OTHER").params["text"]

    fake.add_channel("C0THIRD", ["U4", ADMIN], creator="U4")
    by_admin = rig.pulse_command(ADMIN, "start groeimodel weekly", channel="C0THIRD")
    assert "Pulse started" in by_admin.params["text"]  # a workspace admin, in any channel


def test_an_allow_listed_user_may_start_and_manage_any_pulse(fake, tmp_path, models, scan):
    fake.add_channel("C0OTHER", ["U2", "U3"], creator="U2")
    rig = PulseRig(fake, tmp_path / "pulse.db", models, scan, admins=frozenset({"U3"}))
    try:
        started = rig.pulse_command("U3", "start altimeter monthly", channel="C0OTHER")
        assert "Pulse started" in started.params["text"]
        assert rig.rows("select created_by from pulses") == [(f"{TEAM_ID}:U3",)]
        refused = rig.pulse_command("U4", "start altimeter monthly", channel="C0OTHER")
        assert "Only a workspace admin or owner" in refused.params["text"]
    finally:
        rig.stop()


def test_a_restart_between_scheduling_and_the_due_time_runs_the_round_once(rig, fake):
    start_weekly(rig)
    rig.restart()  # the bot goes down before the round and comes back after its due time
    mark = rig.tick_at(DUE + timedelta(hours=6))
    rig.tick_at(DUE + timedelta(hours=6, seconds=30))
    rig.restart()
    rig.tick_at(DUE + timedelta(hours=6, minutes=1))
    for user in MEMBERS:
        invitations = [
            c for c in posts_to(fake, f"D{user}", after=mark) if "Pulse for" in c.params["text"]
        ]
        assert len(invitations) == 1, user
    assert rig.rows("select count(*) from rounds") == [(1,)]
    assert rig.rows("select next_run_at from pulses")[0][0].startswith("2026-12-01")


def test_a_member_can_answer_after_a_restart(rig, fake):
    """The pulse questions are known to the engine from start-up, not only after a tick."""
    start_weekly(rig)
    mark = rig.tick_at(DUE + timedelta(seconds=20))
    message = rig.question("U4", after=mark)
    rig.restart()
    result = rig.answer_until_result("U4", 0, message)
    assert is_result(result)
    assert rig.rows("select count(*) from round_invites where answered_at is not null") == [(1,)]


# ---- where the command is typed -----------------------------------------------------------------
def test_pulse_in_a_dm_says_to_use_the_team_channel(rig, fake):
    fake.locales["U5"] = "nl-NL"
    fake.add_user("U5", locale="nl-NL")
    for user, words in (("U4", "channel"), ("U5", "kanaal")):
        mark = rig.dm_command(user, "pulse start groeimodel weekly")
        call = fake.wait_for("chat.postMessage", after=mark)
        assert call.response["channel"] == f"D{user}"
        assert words in call.params["text"] and "/maturity pulse" in call.params["text"]
    assert rig.rows("select count(*) from pulses") == [(0,)]


def test_pulse_help_in_a_channel_explains_the_slack_words(rig):
    reply = rig.pulse_command("U2", "")
    text = reply.params["text"]
    assert "weekly|biweekly|monthly" in text
    assert "Results are only shown from 5 answers on" in text
    assert "/maturity pulse start groeimodel weekly tue 10:00" in text
    assert reply.params["response_type"] == "in_channel"


def test_pulse_now_runs_a_round_at_once_and_only_once(rig, fake):
    start_weekly(rig)
    mark = fake.mark()
    reply = rig.pulse_command("U1", "now")
    assert "A round starts now" in reply.params["text"]
    again = rig.pulse_command("U1", "now")
    assert "A round is already running" in again.params["text"]
    rig.tick_at(T0 + timedelta(seconds=1))
    for user in MEMBERS:
        invitations = [
            c for c in posts_to(fake, f"D{user}", after=mark) if "Pulse for" in c.params["text"]
        ]
        assert len(invitations) == 1
    assert rig.rows("select count(*) from rounds") == [(1,)]


# ---- pacing --------------------------------------------------------------------------------------
def test_a_big_team_gets_its_dms_under_slacks_limits(rig, fake):
    """The fake enforces the same (scaled) limits Slack does and answers 429 beyond them: the
    pacing keeps every call under them, so the round reaches everyone without one refusal."""
    team = [f"UBIG{i:03d}" for i in range(40)]
    for user in team:
        fake.add_user(user)
    fake.add_channel("C0BIG", team, creator=team[0])
    for method, rate in FAST.per_method.items():
        # one call of margin, as Slack's "50+ per minute" has: it absorbs the network's jitter
        # between the pacer's clock and the server's
        fake.limit(method, rate.per_second, rate.burst + 1)
    rig.pulse_command(team[0], "start groeimodel weekly tue 10:00", channel="C0BIG")
    mark = rig.tick_at(DUE + timedelta(seconds=20))
    for user in team:
        assert is_question(posts_to(fake, f"D{user}", after=mark)[-1])
    assert [c.method for c in fake.calls[mark:] if c.status == 429] == []


def test_the_pacer_spaces_calls_at_the_limit_after_a_burst():
    waits: list[float] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    pacing = Pacing()
    pacer = Pacer(pacing, clock=lambda: now[0], sleep=sleep)
    for _ in range(1000):
        pacer.wait("conversations.open")
    rate = pacing.per_method["conversations.open"]
    assert now[0] == pytest.approx((1000 - rate.burst) / rate.per_second)
    assert now[0] == pytest.approx(pacing.minimum_seconds({"conversations.open": 1000}))
    assert len(waits) == 1000 - rate.burst  # the burst goes at once, then one per interval
    # a first round of 1,000 members (a DM opened and one message each) against a later one
    # (one message each: the DM is stored): at Slack's own limits the later one is 4x faster
    first = pacing.minimum_seconds({"conversations.open": 1000, "chat.postMessage": 1000})
    later = pacing.minimum_seconds({"chat.postMessage": 1000})
    assert first == pytest.approx(now[0]) and first >= 4 * later

    # one channel: a burst of three, then one message per second
    now[0] = 10_000.0
    waits.clear()
    for _ in range(5):
        pacer.wait("chat.postMessage", "C1")
    assert now[0] == pytest.approx(10_002.0)


# ---- issue 6 in Slack ----------------------------------------------------------------------------
def test_the_quick_scan_by_buttons_shows_every_model_and_the_next_step(rig, fake, models, scan):
    mark = rig.dm_command("U1", "scan")
    first = rig.question("U1", after=mark)
    result = rig.answer_until_result("U1", 0, first)
    text = result.text_of_blocks()
    for model_id in scan.models:
        model = models[model_id]
        assert f"{model.name.en}: {model.phases[0].name.en} (1 of {len(model.phases)})" in text
    assert "Your next implementation step: " in text
    assert rig.rows("select model_id from results") == [(scan.id,)]


def test_initiatives_matrix_in_slack_shows_text_uploads_a_png_and_flags_a_missing_goal(rig, fake):
    rig.dm_command("U1", "initiatives add Webcare; X; supporting; customer satisfaction")
    fake.wait_for("chat.postMessage", lambda c: "Added: Webcare" in c.params["text"])
    rig.dm_command("U1", "initiatives add Monitor; Brandwatch; listening")
    fake.wait_for("chat.postMessage", lambda c: "Added: Monitor" in c.params["text"])
    mark = rig.dm_command("U1", "initiatives matrix")
    matrix = fake.wait_for(
        "chat.postMessage", lambda c: "Groundswell matrix" in c.params["text"], after=mark
    )
    text = matrix.text_of_blocks()
    assert "Webcare" in text and "customer satisfaction" in text
    assert "Without an organisational goal: Monitor" in text
    assert "Objectives nobody works on: " in text
    fake.wait_for("files.completeUploadExternal", after=mark)
    [chart] = uploads_to(fake, "DU1")
    assert chart["content"].startswith(b"\x89PNG")
    assert chart["title"] == "Initiatives per objective and organisational goal"


# ---- `maturity-bot slack` runs the scheduler next to the app -------------------------------------
def seed_due_pulse(db_path, models, scan, fake: FakeSlack) -> None:
    """A pulse whose first round fell due long ago (the bot was down): the scheduler's first
    tick at start-up must run it."""
    storage = Storage(db_path)
    try:
        service = AssessmentService(storage, models, scan=scan)
        pulse = PulseService(service, clock=lambda: datetime(2020, 1, 6, 12, 0, tzinfo=UTC))
        client = make_client(BOT_TOKEN, fake.api_url)
        messenger = SlackTeamMessenger(client, service, SlackChannel(service))
        words = ["start", "groeimodel", "weekly", "tue"]
        reply = pulse_text(
            asyncio.run(pulse.command(messenger, TEAM, "#team-a", "T:U1", words, "en")), "en"
        )
        assert "Pulse started" in reply
    finally:
        storage.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("mode", ["http", "socket"])
def test_the_slack_command_runs_due_rounds_and_stops_cleanly(fake, tmp_path, models, scan, mode):
    db = tmp_path / "bot.db"
    seed_due_pulse(db, models, scan, fake)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MATURITY_"))},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": fake.api_url,
        "MATURITY_DB": str(db),
    }
    command = [sys.executable, "-m", "bot", "slack"]
    if mode == "http":
        env["SLACK_SIGNING_SECRET"] = SECRET
        command += ["--http", "--port", str(free_port())]
    else:
        env["SLACK_APP_TOKEN"] = "xapp-1-A0FAKE-1-fake"  # the fake's WebSocket URL is closed
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        for user in MEMBERS:
            fake.wait_for(
                "chat.postMessage",
                lambda c, user=user: (
                    c.response.get("channel") == f"D{user}"
                    and "Pulse for #team-a" in c.params["text"]
                ),
                timeout=30,
            )
    finally:
        process.terminate()  # SIGTERM, as a service manager stops it
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "pulse scheduler started" in output and "pulse scheduler stopped" in output
    assert "Traceback" not in output
    assert BOT_TOKEN not in output


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"MATURITY_PULSE_MIN_RESPONSES": "2"}, "never accepted below 3"),
        ({"MATURITY_TIMEZONE": "Mars/Olympus_Mons"}, "MATURITY_TIMEZONE"),
    ],
)
def test_pulse_settings_that_would_expose_people_stop_the_slack_command(
    monkeypatch, tmp_path, capsys, env, named
):
    from bot.cli import main

    for name in list(os.environ):
        if name.startswith(("SLACK_", "MATURITY_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-A0FAKE-1-fake")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["slack", "--db", str(tmp_path / "bot.db")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("maturity-bot: error: ") and named in err and err.count("\n") == 1
    assert not (tmp_path / "bot.db").exists()  # refused before a database file was made
