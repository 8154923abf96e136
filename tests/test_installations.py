"""The Slack installation and OAuth state stores (bot/storage/installations.py, through
slack_sdk's interfaces in bot/slack/oauth.py), once per backend: what Bolt's OAuth flow saves
is what its authorize finds, per workspace and per org-wide install, a reinstall replaces, a
delete removes one workspace only, the token never shows in a repr; a state is accepted once,
and never when forged or expired."""

from __future__ import annotations

import pytest
from slack_sdk.oauth.installation_store import Installation

from bot.slack.oauth import InstallationStoreOverStorage as Installations
from bot.storage import Storage
from bot.storage.installations import OAuthStates


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
