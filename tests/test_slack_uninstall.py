"""Uninstall in OAuth mode, end to end (issue 14): the real Bolt app with our OAuth stores
behind web_app on 127.0.0.1 and the fake Slack. Two workspaces install, each member completes
an assessment, and each workspace has a pulse. `app_uninstalled` (a signed event) deletes T1's
token at once and stops its pulse; T1's data goes when the pulse tick runs past the grace period
(or at once with `maturity-bot workspace purge`), and a reinstall in time keeps it. T2 is never
touched. The pulses are stored as `/maturity pulse start` stores them in OAuth mode (the team is
the workspace and the channel; tests/test_slack_hosted_pulse.py runs the command itself); the
tick is the pulse runtime's own, run by hand at a chosen moment as its scheduler would. On
SQLite and PostgreSQL: every row of every table is read back through the store's connection."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from bot.cli import main
from bot.pulse.service import PulseSettings
from bot.settings import Settings, describe
from bot.storage.admin import reference
from bot.storage.installations import Installations
from bot.storage.pulses import PulseStore
from tests.fake_slack import FakeSlack
from tests.test_slack_oauth import CLIENT_ID, CLIENT_SECRET, Hosted

GRACE = PulseSettings().workspace_grace_days
PULSE = {
    "model_id": "groeimodel",
    "cadence": "weekly",
    "weekday": 0,
    "hour": 9,
    "minute": 0,
    "timezone": "UTC",
    "next_run_at": "2027-06-07T09:00:00+00:00",
    "lang": "en",
}


@pytest.fixture
def fake():
    with FakeSlack() as server:
        server.oauth_client = (CLIENT_ID, CLIENT_SECRET)
        yield server


@pytest.fixture
def db_path(database_target) -> str:
    return database_target


@pytest.fixture
def hosted(fake, db_path, models):
    app = Hosted(fake, db_path, models, pulse_settings=PulseSettings())
    for team in ("T1", "T2"):
        app.install(team)
        mark = fake.mark()
        app.assessment(team, "U1", "groeimodel", option=0)
        fake.wait_for("views.publish", lambda c, team=team: c.team == team, after=mark)
        PulseStore(app.storage).save_pulse(
            "slack", f"{team}:C{team}", f"#{team}", f"{team}:U1", PULSE, "2026-11-01T00:00:00+00:00"
        )
    yield app
    app.close()


def dump(hosted) -> dict[str, list[dict]]:
    """Every row of every table of the schema (`db copy`'s list of them)."""
    return {
        shape.name: [dict(row) for row in hosted.storage._rows(f'select * from "{shape.name}"')]
        for shape in reference()
    }


def of(rows: dict[str, list[dict]], team: str) -> dict[str, list[dict]]:
    """The rows of the workspace: naming it as stored (`T1:U1`, channel `CT1`, DM `DT1…`, the
    id itself), or keyed by one of its users' row ids or their assessments' ids."""
    needles = (f"{team}:", f"C{team}", f"D{team}")
    users = {u["id"] for u in rows["users"] if u["external_id"].startswith(f"{team}:")}
    assessments = {a["id"] for a in rows["assessments"] if a["user_id"] in users}

    def mine(row: dict) -> bool:
        return (
            any(v == team or any(n in str(v) for n in needles) for v in row.values())
            or row.get("user_id") in users
            or bool(assessments & {row.get("assessment_id"), row.get("id")})
        )

    found = {table: [row for row in table_rows if mine(row)] for table, table_rows in rows.items()}
    return {table: found_rows for table, found_rows in found.items() if found_rows}


def until(condition, what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.02)


def uninstall(hosted, team: str) -> None:
    answer = hosted.send.event({"type": "app_uninstalled"}, team=team)
    assert answer.status_code == 200
    until(lambda: Installations(hosted.storage).find(None, team) is None, f"{team} uninstalled")


def status(hosted, team: str) -> str:
    return PulseStore(hosted.storage).pulse("slack", f"{team}:C{team}").status


def tick(hosted, moment: datetime) -> None:
    hosted.pulse.runtime.tick(moment)


def test_an_uninstall_stops_at_once_and_purges_after_the_grace_period(hosted, fake, db_path):
    before = dump(hosted)
    t1 = of(before, "T1")
    assert {"users", "assessments", "answers", "results", "pulses", "teams"} <= set(t1)
    uninstall(hosted, "T1")
    until(lambda: status(hosted, "T1") == "uninstalled", "T1's pulse stopped")
    assert status(hosted, "T2") == "active"
    assert Installations(hosted.storage).find(None, "T2") is not None

    mark = fake.mark()  # a further T1 request gets no answer; T2 still does
    assert hosted.send.command("help", "U1", team="T1").status_code == 200
    assert hosted.send.command("help", "U1", team="T2").status_code == 200
    fake.wait_for("chat.postMessage", lambda c: c.team == "T2", after=mark)
    made = [c for c in fake.calls[mark:] if not c.method.startswith("/")]
    assert made and all(c.team == "T2" for c in made), [(c.method, c.team) for c in made]
    t2 = of(dump(hosted), "T2")  # as T2's help left it

    now = datetime.now(UTC)
    tick(hosted, now + timedelta(days=GRACE - 1))  # within the grace period: all kept
    kept = of(dump(hosted), "T1")
    assert {"users", "assessments", "answers", "results", "pulses", "teams"} <= set(kept)

    tick(hosted, now + timedelta(days=GRACE, hours=1))
    after = dump(hosted)
    assert of(after, "T1") == {}
    assert of(after, "T2") == t2


def test_a_reinstall_within_the_grace_period_keeps_the_data(hosted, db_path):
    uninstall(hosted, "T1")
    hosted.install("T1")
    tick(hosted, datetime.now(UTC) + timedelta(days=GRACE + 10))
    kept = of(dump(hosted), "T1")
    assert {"users", "assessments", "answers", "results", "pulses", "teams"} <= set(kept)


def test_revoking_the_bot_token_is_an_uninstall(hosted):
    event = {"type": "tokens_revoked", "tokens": {"bot": ["UBOTT1"]}}
    assert hosted.send.event(event, team="T1").status_code == 200
    until(lambda: Installations(hosted.storage).find(None, "T1") is None, "T1's token deleted")
    until(lambda: status(hosted, "T1") == "uninstalled", "T1's pulse stopped")
    assert status(hosted, "T2") == "active"


def test_workspace_purge_deletes_at_once(hosted, db_path, capsys, clean_env):
    uninstall(hosted, "T1")
    t2 = of(dump(hosted), "T2")
    assert main(["workspace", "purge", "T1", "--db", str(db_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("workspace T1: deleted\n") and "  results: 1\n" in out
    after = dump(hosted)
    assert of(after, "T1") == {} and of(after, "T2") == t2


@pytest.mark.parametrize("value", ["-1", "3651", "2.5", "thirty"])
def test_the_grace_period_is_a_whole_number_of_days_up_to_ten_years(value, clean_env):
    assert Settings(_env_file=None).maturity_workspace_grace_days == 30
    none = Settings(_env_file=None, maturity_workspace_grace_days="0")
    assert none.maturity_workspace_grace_days == 0
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, maturity_workspace_grace_days=value)
    assert "MATURITY_WORKSPACE_GRACE_DAYS must be a whole number of days from 0 to 3650" in (
        describe(refused.value)
    )
