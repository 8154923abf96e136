"""Enterprise Grid in OAuth mode, end to end on SQLite and PostgreSQL: an organisation (`E1`)
installs the app org-wide, so one token serves all its workspaces. On Grid a user id is the
organisation's (`W1` in workspace T1 and in T2 is the same person), yet each workspace keeps its
own data: a member is organisation + workspace + user. An ordinary workspace T3 with a user
`W1` of its own is someone else again. The organisation's uninstall deletes its token at once
and, after the grace period (here `workspace purge E1`), every row of its workspaces; T3 stays.
"""

from __future__ import annotations

import time

import pytest

from bot.cli import main
from bot.storage.installations import Installations
from tests.fake_slack import FakeSlack
from tests.test_slack_oauth import CLIENT_ID, CLIENT_SECRET, Hosted, is_question


@pytest.fixture
def fake():
    with FakeSlack() as server:
        server.oauth_client = (CLIENT_ID, CLIENT_SECRET)
        yield server


@pytest.fixture
def hosted(fake, database_target, models):
    app = Hosted(fake, database_target, models)
    _, state = app.start_install()
    assert app.finish_install(state, fake.oauth_code(None, enterprise="E1")).status_code == 200
    app.install("T3")
    yield app
    app.close()


def users(hosted) -> list[str]:
    rows = hosted.storage._rows("select external_id from users order by external_id")
    return [row["external_id"] for row in rows]


def first_question(hosted, fake, team: str, grid: bool) -> dict:
    """`/maturity start groeimodel` by W1 in `team`; the question Slack shows them."""
    mark = fake.mark()
    extra = {"enterprise": "E1", "org_wide": True} if grid else {}
    answer = hosted.send.command("start groeimodel", "W1", team=team, **extra)
    assert answer.status_code == 200
    return fake.wait_for("chat.postMessage", is_question, after=mark)


def test_a_grid_member_is_organisation_workspace_and_user(hosted, fake, database_target, clean_env):
    org = Installations(hosted.storage).find("E1", None, org_wide=True)
    assert org is not None and org.is_enterprise_install == 1

    in_t1 = first_question(hosted, fake, "T1", grid=True)
    in_t2 = first_question(hosted, fake, "T2", grid=True)
    in_t3 = first_question(hosted, fake, "T3", grid=False)
    assert (in_t1.team, in_t2.team, in_t3.team) == ("E1", "E1", "T3")  # the org's one token
    assert users(hosted) == ["E1:T1:W1", "E1:T2:W1", "T3:W1"]
    assert fake.wrong_workspace == []

    # the organisation uninstalls the app: its token goes at once, its data after the grace
    answer = hosted.send.event(
        {"type": "app_uninstalled"}, team="T1", enterprise="E1", org_wide=True
    )
    assert answer.status_code == 200
    deadline = time.monotonic() + 10
    while Installations(hosted.storage).find("E1", None, org_wide=True) is not None:
        assert time.monotonic() < deadline, "the org-wide install was never deleted"
        time.sleep(0.02)
    recorded = hosted.storage._rows("select team_id from workspace_uninstalls")
    assert [row["team_id"] for row in recorded] == ["E1"]

    assert main(["workspace", "purge", "E1", "--db", database_target]) == 0
    assert users(hosted) == ["T3:W1"]
    assert [row.team_id for row in Installations(hosted.storage).rows()] == ["T3"]
