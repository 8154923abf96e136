"""The dashboard's reads, once per backend (a SQLite file and a real PostgreSQL database): each
viewer sees their own results and exactly the teams they may see, nothing of anyone else's."""

from __future__ import annotations

import pytest

from bot.storage import Storage
from bot.storage.dashboard import DashboardStore, Scope
from bot.storage.pulses import PulseStore
from bot.storage.workspaces import WorkspaceStore
from flows.pulse import RoundReport
from flows.results import StoredResult

NOW = "2026-03-02T09:00:00+00:00"
LATER = "2026-03-04T09:00:00+00:00"
PULSE = {
    "model_id": "groeimodel", "cadence": "weekly", "weekday": 0, "hour": 9, "minute": 0,
    "timezone": "Europe/Amsterdam", "next_run_at": NOW, "lang": "en",
}  # fmt: skip


@pytest.fixture
def store(database_target):
    storage = Storage(database_target)
    yield storage
    storage.close()


def result(phase: str) -> StoredResult:
    return StoredResult(phase_id=phase, spread=(phase, phase), answered=4, skipped=0, held_back=())


def finish(storage: Storage, channel: str, member: str, aid: str, model: str, phase: str) -> None:
    with storage.transaction():
        user = storage.user(channel, member)
        storage.create_assessment(user, aid, model)
        storage.finish_assessment(user, aid, model, result(phase))


def team_with_round(
    pulses: PulseStore, channel: str, team: str, name: str, creator: str, members: list[str]
) -> int:
    pulses.save_pulse(channel, team, name, creator, PULSE, NOW)
    row = pulses.pulse(channel, team)
    round_id = pulses.claim_round(
        row, now=NOW, remind_at=NOW, deadline_at=LATER, following=LATER, members=members
    )
    answered = len(members)
    report = RoundReport(len(members), answered, 3, withheld=answered < 3)
    if answered >= 3:
        report = RoundReport(len(members), answered, 3, False, (0, answered, 0, 0), 1)
    assert pulses.close_round(round_id, report, LATER)
    return row.team_id


@pytest.fixture
def world(store):
    pulses = PulseStore(store)
    ids = {
        "alpha": team_with_round(
            pulses, "slack", "C1", "Alpha", "T1:ULEAD", ["T1:UA", "T1:UB", "T1:UC"]
        ),
        "beta": team_with_round(pulses, "slack", "C2", "Beta", "T1:UOTHER", ["T1:UD", "T1:UE"]),
        "elsewhere": team_with_round(pulses, "slack", "C9", "Elsewhere", "T2:UX", ["T2:UY"]),
    }
    pulses.save_pulse("telegram", "-100", "Group", "7", PULSE, NOW)
    pulses.join("telegram", "-100", "Group", "42", NOW)
    pulses.save_pulse("telegram", "-200", "Other group", "8", PULSE, NOW)
    ids["group"] = pulses.pulse("telegram", "-100").team_id
    ids["other_group"] = pulses.pulse("telegram", "-200").team_id
    return DashboardStore(store), ids


def names(rows) -> list[str]:
    return [row.name for row in rows]


def test_my_results_are_mine_oldest_first_without_pulse_answers(store):
    finish(store, "slack", "T1:UA", "a1", "groeimodel", "p1")
    finish(store, "slack", "T1:UA", "a2", "bmm", "p2")
    finish(store, "slack", "T1:UA", "a3", "groeimodel_pulse", "p2")
    finish(store, "slack", "T1:UB", "b1", "groeimodel", "p3")
    finish(store, "telegram", "T1:UA", "t1", "groeimodel", "p4")  # same id, other platform
    mine = DashboardStore(store).my_results("slack", "T1:UA")
    assert [r.assessment_id for r in mine] == ["a1", "a2"]
    assert mine[1].model_id == "bmm" and mine[1].result.phase_id == "p2"
    assert DashboardStore(store).my_results("slack", "T1:UNOBODY") == ()


def test_a_member_sees_only_their_own_team(world):
    dashboard, ids = world
    member = Scope("slack", "T1:UA", workspace="T1")
    assert names(dashboard.teams(member)) == ["Alpha"]
    assert dashboard.team(member, ids["alpha"]).team == "C1"
    assert dashboard.team(member, ids["beta"]) is None
    assert dashboard.team(member, 999999) is None
    assert dashboard.team(member, 2**70) is None and dashboard.team(member, -1) is None
    assert dashboard.organisation(member) is None


def test_the_creator_sees_the_team_they_started(world):
    dashboard, ids = world
    lead = Scope("slack", "T1:ULEAD", workspace="T1")
    assert names(dashboard.teams(lead)) == ["Alpha"]
    assert dashboard.team(lead, ids["beta"]) is None


def test_a_workspace_admin_sees_every_team_of_their_workspace_only(world):
    dashboard, ids = world
    admin = Scope("slack", "T1:UADMIN", workspace="T1", workspace_admin=True)
    assert names(dashboard.teams(admin)) == ["Alpha", "Beta"]
    assert names(dashboard.organisation(admin)) == ["Alpha", "Beta"]
    assert dashboard.team(admin, ids["elsewhere"]) is None
    # the same id in another workspace, claiming to be admin there, sees none of T1
    other = Scope("slack", "T2:UADMIN", workspace="T2", workspace_admin=True)
    assert names(dashboard.organisation(other)) == ["Elsewhere"]


def test_pulse_admins_come_from_the_workspace_or_else_the_operator(world, store):
    dashboard, ids = world
    operator = frozenset({"UPA"})
    pulse_admin = Scope("slack", "T1:UPA", workspace="T1", operator_pulse_admins=operator)
    assert names(dashboard.teams(pulse_admin)) == ["Alpha", "Beta"]
    assert dashboard.organisation(pulse_admin) is None  # the organisation is the admins'
    WorkspaceStore(store).set_workspace_setting("T1", "pulse_admins", ("UOWN",))
    assert dashboard.teams(pulse_admin) == []
    own = Scope("slack", "T1:UOWN", workspace="T1")
    assert names(dashboard.teams(own)) == ["Alpha", "Beta"]


def test_a_team_stays_in_its_workspace_when_its_creator_is_forgotten(world, store):
    dashboard, ids = world
    with store.transaction():
        store.forget_user(store.user("slack", "T1:ULEAD"))
    admin = Scope("slack", "T1:UADMIN", workspace="T1", workspace_admin=True)
    assert names(dashboard.organisation(admin)) == ["Alpha", "Beta"]


def test_telegram_members_and_group_admins(world):
    dashboard, ids = world
    joined = Scope("telegram", "42")
    assert names(dashboard.teams(joined)) == ["Group"]
    assert dashboard.organisation(joined) is None
    owner = Scope("telegram", "99", groups=("-100", "-200"))
    assert names(dashboard.teams(owner)) == ["Group", "Other group"]
    assert names(dashboard.organisation(owner)) == ["Group", "Other group"]
    slack_member = Scope("slack", "42")
    assert dashboard.teams(slack_member) == []


def test_rounds_carry_the_stored_reports_and_nothing_below_k(world):
    dashboard, ids = world
    rounds = dashboard.rounds([ids["alpha"], ids["beta"], ids["group"]])
    alpha, beta = rounds[ids["alpha"]][0].report, rounds[ids["beta"]][0].report
    assert alpha.median_index == 1 and alpha.distribution == (0, 3, 0, 0)
    assert beta.withheld and beta.distribution == () and beta.median_index is None
    assert rounds[ids["group"]] == []
    assert dashboard.rounds([]) == {}
