"""The Slack installation and OAuth state stores (bot/storage/installations.py, through
slack_sdk's interfaces in bot/slack/oauth.py), once per backend: what Bolt's OAuth flow saves
is what its authorize finds, per workspace and per org-wide install, a reinstall replaces, a
delete removes one workspace only, the token never shows in a repr; a state is accepted once,
and never when forged or expired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.oauth.installation_store import Installation

from bot.cli import main
from bot.slack.oauth import InstallationStoreOverStorage as Installations
from bot.storage import Storage
from bot.storage.installations import OAuthStates
from bot.storage.pulses import PulseStore
from bot.storage.purge import Uninstalls
from bot.storage.workspaces import WorkspaceStore


@pytest.fixture
def storage(database_target):
    store = Storage(database_target)
    yield store
    store.close()


def installation(team: str | None, token: str, **extra) -> Installation:
    fields = {
        "app_id": "A1",
        "team_id": team,
        "team_name": f"Team {team}",
        "user_id": "U1",
        "bot_token": token,
        "bot_id": f"B-{team}",
        "bot_user_id": f"UB-{team}",
        "bot_scopes": ["chat:write", "commands"],
        "installed_at": 1_780_000_000.0,
    }
    fields.update(extra)
    return Installation(**fields)


def test_each_workspace_finds_its_own_bot_token(storage):
    store = Installations(storage)
    store.save(installation("T1", "xoxb-t1"))
    store.save(installation("T2", "xoxb-t2"))
    one = store.find_bot(enterprise_id=None, team_id="T1")
    two = store.find_bot(enterprise_id=None, team_id="T2")
    assert (one.bot_token, one.bot_user_id, one.bot_id) == ("xoxb-t1", "UB-T1", "B-T1")
    assert two.bot_token == "xoxb-t2"
    assert one.bot_scopes == ["chat:write", "commands"]
    assert store.find_bot(enterprise_id=None, team_id="T3") is None
    found = store.find_installation(enterprise_id=None, team_id="T2")
    assert (found.bot_token, found.user_id, found.team_name) == ("xoxb-t2", "U1", "Team T2")
    assert store.find_installation(enterprise_id=None, team_id="T2", user_id="U9") is None
    row = store.table.find(None, "T1")
    assert row.installer_user_id == "U1" and row.installed_at.startswith("2026-05-28")
    assert "xoxb" not in repr(row) and "xoxb" not in repr(store.table.rows())


def test_a_reinstall_replaces_the_token_and_a_delete_removes_one_workspace(storage):
    store = Installations(storage)
    store.save(installation("T1", "xoxb-old"))
    store.save(installation("T2", "xoxb-t2"))
    store.save(installation("T1", "xoxb-new", user_id="U7"))
    assert store.find_bot(enterprise_id=None, team_id="T1").bot_token == "xoxb-new"
    assert [row.team_id for row in store.table.rows()] == ["T1", "T2"]
    assert store.table.find(None, "T1").installer_user_id == "U7"
    store.delete_installation(enterprise_id=None, team_id="T1", user_id="U7")
    assert store.find_bot(enterprise_id=None, team_id="T1") is not None  # a user's, not ours
    store.delete_all(enterprise_id=None, team_id="T1")
    assert store.find_bot(enterprise_id=None, team_id="T1") is None
    assert store.find_bot(enterprise_id=None, team_id="T2").bot_token == "xoxb-t2"
    store.delete_bot(enterprise_id=None, team_id="T2")
    assert store.table.rows() == []


def test_an_org_wide_install_serves_every_workspace_of_the_organisation(storage):
    store = Installations(storage)
    store.save(installation(None, "xoxb-org", enterprise_id="E1", is_enterprise_install=True))
    store.save(installation("T1", "xoxb-t1", enterprise_id="E2"))
    org = store.find_bot(enterprise_id="E1", team_id="T5", is_enterprise_install=True)
    assert org.bot_token == "xoxb-org" and org.is_enterprise_install and org.team_id is None
    assert store.find_bot(enterprise_id="E1", team_id="T5") is None
    assert store.find_bot(enterprise_id="E2", team_id="T1").bot_token == "xoxb-t1"
    assert store.find_bot(enterprise_id=None, team_id="T1") is None  # another enterprise's
    store.delete_all(enterprise_id="E1", team_id=None)
    assert store.find_bot(enterprise_id="E1", team_id=None, is_enterprise_install=True) is None


def test_a_state_is_accepted_once_and_never_when_forged_or_expired(storage):
    now = [1_000.0]
    states = OAuthStates(storage, expiration_seconds=600, clock=lambda: now[0])
    first, second = states.issue(), states.issue()
    assert first != second and len(first) >= 32
    assert states.consume(first)
    assert not states.consume(first)  # reused
    assert not states.consume("forged-state")
    now[0] += 601
    assert not states.consume(second)  # expired
    third = states.issue()  # issuing sweeps the expired ones
    with storage.reading():
        assert storage.execute("select count(*) from oauth_states").fetchone()[0] == 1
    assert states.consume(third)


# ---- uninstall and purge (m012, bot/storage/purge.py) ----------------------------------------

UNINSTALLED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
PULSE = {
    "model_id": "m",
    "cadence": "weekly",
    "weekday": 0,
    "hour": 9,
    "minute": 0,
    "timezone": "UTC",
    "next_run_at": "2026-11-02T09:00:00+00:00",
    "lang": "en",
}


def populate(storage, team: str) -> None:
    """A workspace with an installation, a setting, a member with an assessment, an answer,
    an initiative-free result-free history, a DM channel, a home view, a re-check, and a pulse
    team with a member."""
    Installations(storage).save(installation(team, f"xoxb-{team}"))
    WorkspaceStore(storage).set_workspace_setting(team, "lang", "nl")
    member = f"{team}:U1"
    user = storage.user("slack", member)
    storage.create_assessment(user, f"a-{team}", "m")
    storage.save_answer(f"a-{team}", "q1", "o1")
    storage.save_dm_channel("slack", member, f"D-{team}")
    storage.add_recheck(user, "m", "2027-01-01T00:00:00+00:00")
    pulses = PulseStore(storage)
    pulses.save_pulse("slack", f"C-{team}", "#team", member, PULSE, "2026-10-01T00:00:00+00:00")
    pulses.join("slack", f"C-{team}", "#team", f"{team}:U2", "2026-10-01T00:00:00+00:00")


def rows_of(storage, team: str) -> dict[str, int]:
    """How many rows mention the workspace, per table (every table, every text column)."""
    found = {}
    for table in ALL_TABLES:
        rows = storage._rows(f"select * from {table}")
        hits = [r for r in rows if any(team in str(v) for v in r.values() if v is not None)]
        if hits:
            found[table] = len(hits)
    return found


ALL_TABLES = (
    "users", "conversations", "assessments", "answers", "results", "initiatives", "teams",
    "team_members", "pulses", "rounds", "round_invites", "recheck_reminders", "dm_channels",
    "home_views", "slack_installations", "workspace_settings", "workspace_uninstalls",
)  # fmt: skip


def test_an_uninstall_is_due_for_purge_after_the_grace_period_unless_reinstalled(storage):
    uninstalls = Uninstalls(storage)
    uninstalls.record_uninstall("T1", UNINSTALLED)
    uninstalls.record_uninstall("T1", UNINSTALLED + timedelta(days=5))  # the first one counts
    uninstalls.record_uninstall("T2", UNINSTALLED + timedelta(days=1))
    grace = timedelta(days=30)
    assert uninstalls.due_purges(UNINSTALLED + timedelta(days=29), grace) == []
    assert uninstalls.due_purges(UNINSTALLED + timedelta(days=30), grace) == ["T1"]
    assert uninstalls.due_purges(UNINSTALLED + timedelta(days=40), grace) == ["T1", "T2"]
    Installations(storage).save(installation("T1", "xoxb-again"))  # a reinstall
    assert uninstalls.due_purges(UNINSTALLED + timedelta(days=40), grace) == ["T2"]


def test_purging_a_workspace_deletes_its_rows_in_every_table_and_no_other(storage):
    populate(storage, "TONE")
    populate(storage, "TTWO")
    uninstalls = Uninstalls(storage)
    uninstalls.record_uninstall("TONE", UNINSTALLED)
    before = rows_of(storage, "TTWO")
    assert uninstalls.stop_pulses("TONE") == 1
    assert PulseStore(storage).pulse("slack", "C-TONE").status == "uninstalled"
    assert PulseStore(storage).pulse("slack", "C-TTWO").status == "active"
    counts = uninstalls.purge_workspace("TONE")
    assert rows_of(storage, "TONE") == {}
    assert rows_of(storage, "TTWO") == before
    assert counts == {
        "answers": 1, "assessments": 1, "dm_channels": 1, "pulses": 1, "recheck_reminders": 1,
        "slack_installations": 1, "team_members": 1, "teams": 1, "users": 1,
        "workspace_settings": 1, "workspace_uninstalls": 1,
    }  # fmt: skip
    assert not uninstalls.known("TONE") and uninstalls.known("TTWO")
    assert uninstalls.purge_workspace("TONE") == {}


def test_workspace_purge_on_the_command_line_says_what_it_deleted(
    storage, database_target, capsys, clean_env
):
    populate(storage, "TONE")
    populate(storage, "TTWO")
    assert main(["workspace", "purge", "TONE", "--db", database_target]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "workspace TONE: deleted"
    assert "  users: 1" in out and "  slack_installations: 1" in out and "  teams: 1" in out
    assert rows_of(storage, "TONE") == {} and rows_of(storage, "TTWO")
    assert main(["workspace", "purge", "TONE", "--db", database_target]) == 2
    assert capsys.readouterr().out == "workspace TONE: nothing stored, nothing deleted\n"
