"""The team pulse in OAuth mode ("Add to Slack"), end to end, on SQLite and PostgreSQL: two
workspaces install the hosted app, and in each the channel's creator starts a pulse with
`/maturity pulse start`. Both workspaces have members `U1`-`U3` (Slack user ids are unique
only within a workspace). A round reaches every member of each workspace with that workspace's
own token (the fake Slack refuses a call about a channel of another workspace), members answer,
and each channel gets its own report. An uninstall stops that workspace's pulse at once and a
reinstall resumes it, with the new token, from its next scheduled round.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.parse
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.pulse.service import PulseSettings
from bot.slack.http import EVENTS_PATH
from bot.slack.oauth import INSTALL_PATH, REDIRECT_PATH
from bot.storage.pulses import PulseStore
from flows.i18n import t
from tests.fake_slack import Call, FakeSlack, Message, SlackSender
from tests.test_slack_oauth import (
    CLIENT_ID,
    CLIENT_SECRET,
    COOKIE,
    SECRET,
    Hosted,
    is_question,
    is_result,
)
from tests.test_slack_pulse import Clock
from tests.test_slack_startup import free_port

MEMBERS = ["U1", "U2", "U3"]
TEAMS = ("T1", "T2")
START = datetime(2027, 6, 1, 8, 0, tzinfo=UTC)  # a Tuesday
"""The pulses start on Tuesday morning; their rounds are on Tuesdays at 10:00 (UTC)."""


@pytest.fixture
def fake():
    with FakeSlack() as server:
        server.oauth_client = (CLIENT_ID, CLIENT_SECRET)
        for user in MEMBERS:
            server.add_user(user)
        for team in TEAMS:
            server.add_channel(f"C{team}", [*MEMBERS, f"UBOT{team}"], creator="U1", team=team)
        yield server


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def hosted(fake, database_target, models, clock):
    settings = PulseSettings(min_responses=3, timezone="UTC")
    app = Hosted(fake, database_target, models, pulse_settings=settings, clock=clock)
    for team in TEAMS:
        app.install(team)
    yield app
    app.close()


def start_pulse(hosted: Hosted, team: str) -> str:
    mark = hosted.fake.mark()
    words = "pulse start groeimodel weekly tue 10:00"
    answer = hosted.send.command(words, "U1", team=team, channel=f"C{team}", channel_name="team")
    assert answer.status_code == 200
    reply = hosted.fake.wait_for("/response/U1", after=mark)
    return reply.params["text"]


def tick(hosted: Hosted, clock: Clock, moment: datetime) -> int:
    mark = hosted.fake.mark()
    clock.now = moment
    assert hosted.pulse is not None
    hosted.pulse.runtime.tick(moment)
    return mark


def invitations(hosted: Hosted, after: int) -> list[Call]:
    return [c for c in hosted.fake.calls_to("chat.postMessage", after) if is_question(c)]


def answer_all(hosted: Hosted, team: str, user: str, invitation: Call) -> Call:
    """Press the first option on every question of the pulse until the result comes."""
    message: Message = hosted.fake.posted(invitation)
    while True:
        row = next(b for b in message.blocks if b.get("block_id") == "answers")
        element = row["elements"][0]
        action = {"action_id": element["action_id"], "block_id": "b", "type": element["type"]}
        if element["type"] == "static_select":
            action["selected_option"] = element["options"][0]
        else:
            action.update(value=element["value"], text=element["text"])
        mark = hosted.fake.mark()
        assert hosted.send.action(user, action, message=message, team=team).status_code == 200
        call = hosted.fake.wait_for(
            "chat.postMessage",
            lambda c: (
                c.response.get("channel") == f"D{team}{user}" and (is_question(c) or is_result(c))
            ),
            after=mark,
        )
        if is_result(call):
            return call
        message = hosted.fake.posted(call)


def stored_teams(hosted: Hosted) -> list[tuple[str, str]]:
    rows = hosted.storage._rows("select external_id, created_by from teams order by external_id")
    return [(row["external_id"], row["created_by"]) for row in rows]


def test_two_workspaces_each_run_a_pulse_with_their_own_token(hosted, fake, clock):
    for team in TEAMS:
        assert "Pulse started" in start_pulse(hosted, team)
    # a team is its workspace and channel: a channel shared by two workspaces is two teams
    assert stored_teams(hosted) == [("T1:CT1", "T1:U1"), ("T2:CT2", "T2:U1")]

    mark = tick(hosted, clock, START.replace(hour=10))
    sent = invitations(hosted, mark)
    assert sorted((c.team, c.response.get("channel")) for c in sent) == sorted(
        (team, f"D{team}{user}") for team in TEAMS for user in MEMBERS
    )
    assert fake.wrong_workspace == []

    for team in TEAMS:
        mark = fake.mark()
        for user in MEMBERS:
            invitation = next(c for c in sent if c.response.get("channel") == f"D{team}{user}")
            answer_all(hosted, team, user, invitation)
        report = fake.wait_for(
            "chat.postMessage",
            lambda c, team=team: c.params.get("channel") == f"C{team}",
            after=mark,
        )
        assert report.team == team  # posted with the workspace's own token
        assert "3 of 3" in report.params["text"] or "3/3" in report.params["text"]
    invited = hosted.storage._rows("select member from round_invites order by member")
    assert [row["member"] for row in invited] == [f"{t}:{u}" for t in TEAMS for u in MEMBERS]
    assert fake.wrong_workspace == []


def test_an_uninstall_stops_the_pulse_and_a_reinstall_resumes_it(hosted, fake, clock):
    for team in TEAMS:
        start_pulse(hosted, team)
    old_token = fake.token_of("T1")
    assert hosted.send.event({"type": "app_uninstalled"}, team="T1").status_code == 200
    store = PulseStore(hosted.storage)
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while store.pulse("slack", "T1:CT1").status != "uninstalled":
        assert datetime.now(UTC) < deadline, "the uninstall never stopped T1's pulse"

    mark = tick(hosted, clock, START.replace(hour=10))  # T1's round is due, but it is stopped
    assert {c.team for c in invitations(hosted, mark)} == {"T2"}
    assert store.pulse("slack", "T1:CT1").status == "uninstalled"
    assert "uninstalled" not in store.pulse("slack", "T2:CT2").status

    clock.now = START + timedelta(days=2)  # Thursday: reinstalled
    hosted.install("T1")
    resumed = store.pulse("slack", "T1:CT1")
    assert resumed.status == "active"
    assert resumed.next_run_at == "2027-06-08T10:00:00+00:00"  # the next Tuesday, not made up
    mark = tick(hosted, clock, datetime(2027, 6, 8, 10, 0, tzinfo=UTC))
    t1 = [c for c in invitations(hosted, mark) if c.team == "T1"]
    assert sorted(c.response.get("channel") for c in t1) == [f"DT1{user}" for user in MEMBERS]
    assert fake.token_of("T1") != old_token  # the new token reached them


def test_a_team_whose_channel_is_gone_does_not_hold_up_the_other_workspace(hosted, fake, clock):
    for team in TEAMS:
        start_pulse(hosted, team)
    with fake._lock:
        del fake.channels["CT1"]  # archived, or the bot was removed: Slack says channel_not_found
    first = mark = tick(hosted, clock, START.replace(hour=10))
    assert sorted(c.response.get("channel") for c in invitations(hosted, mark)) == [
        f"DT2{user}" for user in MEMBERS
    ]
    rounds = hosted.storage._rows(
        "select t.external_id from rounds r join teams t on t.id = r.team_id"
    )
    assert [row["external_id"] for row in rounds] == ["T2:CT2"]
    # its creator is told, once, in their DM, what happened and what to do
    [told] = [c for c in fake.calls_to("chat.postMessage", first) if c.params["channel"] == "DT1U1"]
    assert t("pulse_cannot_open", "en", team="#team") in told.params["text"]
    # T1's round is tried again a quarter of an hour later, not at every tick
    store = PulseStore(hosted.storage)
    assert store.pulse("slack", "T1:CT1").next_run_at == "2027-06-01T10:15:00+00:00"
    mark = tick(hosted, clock, START.replace(hour=10, minute=5))
    assert [c for c in fake.calls_to("conversations.members", mark) if c.team == "T1"] == []
    mark = tick(hosted, clock, START.replace(hour=10, minute=15))  # still gone: not told again
    assert [c for c in fake.calls_to("conversations.members", mark) if c.team == "T1"] != []
    assert [c for c in fake.calls_to("chat.postMessage", mark) if c.team == "T1"] == []

    fake.add_channel("CT1", [*MEMBERS, "UBOTT1"], creator="U1", team="T1")  # the bot is back
    mark = tick(hosted, clock, START.replace(hour=10, minute=30))
    assert sorted(c.response.get("channel") for c in invitations(hosted, mark)) == [
        f"DT1{user}" for user in MEMBERS
    ]
    assert store.pulse("slack", "T1:CT1").next_run_at == "2027-06-08T10:00:00+00:00"


def test_the_real_command_runs_the_pulse_in_oauth_mode(fake, database_target, tmp_path):
    """`maturity-bot slack --http` in its own process with only the OAuth settings: a workspace
    installs it in a browser, and a channel's creator starts a pulse there."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MATURITY_"))},
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "MATURITY_DB": database_target,
    }
    command = [sys.executable, "-m", "bot", "slack", "--http", "--port", str(port)]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stdout.read()
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the HTTP server did not come up"
            time.sleep(0.05)
        with httpx.Client(base_url=url, follow_redirects=False, timeout=10) as browser:
            install = browser.get(INSTALL_PATH)
            assert install.status_code == 302
            query = dict(
                urllib.parse.parse_qsl(urllib.parse.urlsplit(install.headers["location"]).query)
            )
            state = query["state"]
            done = browser.get(
                REDIRECT_PATH,
                params={"code": fake.oauth_code("T1"), "state": state},
                headers={"Cookie": f"{COOKIE}={state}"},
            )
            assert done.status_code == 200, done.text
        sender = SlackSender(f"{url}{EVENTS_PATH}", SECRET, fake)
        try:
            mark = fake.mark()
            words = "pulse start groeimodel weekly tue 10:00"
            reply = sender.command(words, "U1", team="T1", channel="CT1", channel_name="team")
            assert reply.status_code == 200
            started = fake.wait_for("/response/U1", after=mark)
            assert "Pulse started" in started.params["text"]
        finally:
            sender.close()
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert fake.token_of("T1") not in output and CLIENT_SECRET not in output
