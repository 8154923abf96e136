"""The storage contract, once per backend (a SQLite file and a real PostgreSQL database): every
store method, the duplicate-delivery rules, the claims (also with two connections racing),
invitation leases, the scheduler lease, transactions that nest, migrations from an empty
database and the refusal of a newer one. What one backend does, the other must do too."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.storage import SCHEMA_VERSION, Storage, StorageError, migrations
from bot.storage.admin import reference
from bot.storage.pulses import PulseRow, PulseStore
from flows.engine import Conversation
from flows.initiatives import NewInitiative
from flows.results import StoredResult

NOW = "2026-03-02T09:00:00+00:00"
LATER = "2026-03-02T10:00:00+00:00"
PULSE = {
    "model_id": "groeimodel", "cadence": "weekly", "weekday": 0, "hour": 9, "minute": 0,
    "timezone": "Europe/Amsterdam", "next_run_at": NOW, "lang": "en",
}  # fmt: skip


@pytest.fixture
def store(database_target):
    storage = Storage(database_target)
    yield storage
    storage.close()


def count(storage: Storage, table: str) -> int:
    with storage.reading():
        return storage.execute(f"select count(*) from {table}").fetchone()[0]


def result(phase: str = "p1") -> StoredResult:
    return StoredResult(phase_id=phase, spread=(phase, phase), answered=1, skipped=0, held_back=())


def race(target: str, attempt: Callable[..., object], workers: int = 2) -> list[object]:
    """Run `attempt(storage, index)` at the same moment on separate connections (as separate
    workers would); what each returned."""
    stores = [Storage(target) for _ in range(workers)]
    barrier = threading.Barrier(workers)
    outcomes: list[object] = [None] * workers
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            outcomes[index] = attempt(stores[index], index)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for storage in stores:
        storage.close()
    assert not errors, errors
    return outcomes


# ---- migrations --------------------------------------------------------------------------
def test_an_empty_database_gets_every_table_and_records_every_step(database_target):
    storage = Storage(database_target)
    try:
        assert storage.schema_current() and storage.ping()
        assert storage.backend.applied_migrations() == [m.name for m in migrations._migrations]
        assert len(storage.backend.applied_migrations()) == SCHEMA_VERSION
        columns = storage.backend.columns()
        for shape in reference():
            assert set(shape.columns) <= set(columns[shape.name]), shape.name
    finally:
        storage.close()
    again = Storage(database_target)  # opening again applies nothing twice
    try:
        assert len(again.backend.applied_migrations()) == SCHEMA_VERSION
    finally:
        again.close()


def contents(target: str) -> object:
    """What the database holds, read around our code: a SQLite file's bytes and the files
    beside it; a PostgreSQL database's tables with their row counts."""
    if target.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(target) as conn:
            tables = [
                row[0]
                for row in conn.execute(
                    "select table_name from information_schema.tables "
                    "where table_schema = 'public' order by 1"
                )
            ]
            return {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}
    path = Path(target)
    return hashlib.sha256(path.read_bytes()).hexdigest(), sorted(os.listdir(path.parent))


def test_a_database_of_a_newer_version_is_refused_untouched(database_target):
    storage = Storage(database_target)
    table = "_sqlite_migrations" if storage.dialect.name == "sqlite" else "schema_migrations"
    with storage.transaction():
        storage.user("test", "ann")
        storage.execute(
            f"insert into {table} (migration_set, name, applied_at) values (?, ?, ?)",
            (migrations.name, "m099_from_the_future", "2031-01-01 00:00:00+00:00"),
        )
    storage.close()
    before = contents(database_target)
    with pytest.raises(StorageError) as refused:
        Storage(database_target)
    message = str(refused.value)
    assert "newer maturity-bot" in message and "m099_from_the_future" in message
    assert "\n" not in message
    assert contents(database_target) == before


def test_another_programs_database_is_refused(database_target):
    storage = Storage(database_target)
    with storage.transaction():
        storage.execute("create table photos (id integer primary key, name text)")
        for shape in reversed(reference()):
            storage.execute(f"drop table {shape.name}")
        table = "_sqlite_migrations" if storage.dialect.name == "sqlite" else "schema_migrations"
        storage.execute(f"drop table {table}")
    storage.close()
    with pytest.raises(StorageError, match="not a maturity-bot database.*photos"):
        Storage(database_target)


# ---- transactions --------------------------------------------------------------------------
def test_transactions_nest_as_savepoints(store):
    names = lambda: [  # noqa: E731
        row[0] for row in store.execute("select external_id from users order by id").fetchall()
    ]
    with store.transaction():
        store.user("test", "outer")
        with store.transaction():
            store.user("test", "inner")
        with pytest.raises(ValueError), store.transaction():
            store.user("test", "undone")
            raise ValueError("only this part fails")
        assert names() == ["outer", "inner"]
    assert names() == ["outer", "inner"]
    with pytest.raises(RuntimeError), store.transaction():
        store.user("test", "second-outer")
        with store.transaction():
            store.user("test", "second-inner")
        raise RuntimeError("the whole event fails")
    assert names() == ["outer", "inner"]


def test_a_transaction_is_not_seen_by_another_connection_until_it_commits(store, database_target):
    other = Storage(database_target)
    try:
        with store.transaction():
            store.user("test", "ann")
            if store.dialect.name != "sqlite":  # SQLite: the writer holds the file meanwhile
                assert other.find_user("test", "ann") is None
        assert other.find_user("test", "ann") is not None
    finally:
        other.close()


# ---- users, conversations, assessments -------------------------------------------------------
def test_users_conversations_and_answers(store):
    with store.transaction():
        ann = store.user("test", "ann", "nl")
        assert store.user("test", "ann", "en") == ann and ann.lang == "nl"
        store.set_language(ann, "en")
    assert store.find_user("test", "ann").lang == "en"
    assert store.find_user("test", "nobody") is None
    ann = store.find_user("test", "ann")
    assert store.conversation(ann) == Conversation(lang="en")
    with store.transaction():
        store.save_conversation(ann, Conversation("asking", "en", "groeimodel", "a1", "q1"))
        store.save_conversation(ann, Conversation("asking", "en", "groeimodel", "a1", "q2"))
        store.create_assessment(ann, "a1", "groeimodel")
        store.save_answer("a1", "q1", "o1")
        store.save_answer("a1", "q1", "o2")  # a changed answer replaces the row
        store.save_answer("a1", "q2", None)  # skipped
    assert store.conversation(ann).question_id == "q2"
    assert store.answers("a1") == {"q1": "o2", "q2": None}
    assert store.open_assessment_id(ann, "groeimodel") == "a1"
    opened = store.open_assessments(ann)
    assert opened["groeimodel"].id == "a1" and opened["groeimodel"].answers == {
        "q1": "o2",
        "q2": None,
    }
    with store.transaction():
        store.create_assessment(ann, "a2", "groeimodel")
    assert store.open_assessment_id(ann, "groeimodel") == "a2"  # the newest, same second
    with store.transaction():
        store.abandon_assessment("a2")
        store.finish_assessment(ann, "a1", "groeimodel", result("p2"))
        store.finish_assessment(ann, "a1", "groeimodel", result("p3"))  # replaced, not doubled
    assert store.open_assessments(ann) == {}
    assert [(p.assessment_id, p.result.phase_id) for p in store.history(ann)] == [("a1", "p3")]
    assert count(store, "results") == 1


def test_history_pages_and_latest_results_newest_first(store):
    with store.transaction():
        ann = store.user("test", "ann")
        for number in range(5):  # all in the same second: the order written decides
            model = ("groeimodel", "bmm")[number % 2]
            store.create_assessment(ann, f"a{number}", model)
            store.finish_assessment(ann, f"a{number}", model, result(f"p{number}"))
    assert [p.assessment_id for p in store.history(ann)] == ["a4", "a3", "a2", "a1", "a0"]
    page = store.history_page(ann, 2, size=2)
    assert [p.assessment_id for p in page.results] == ["a2", "a1"] and page.total == 5
    assert [p.assessment_id for p in store.history_page(ann, 3, size=2).results] == ["a0"]
    assert [(p.model_id, p.assessment_id) for p in store.latest_results(ann)] == [
        ("groeimodel", "a4"),
        ("bmm", "a3"),
    ]


def test_initiatives_and_rechecks(store):
    with store.transaction():
        ann, bob = store.user("test", "ann"), store.user("test", "bob")
        store.add_initiative(ann, NewInitiative("Webcare", "X", "supporting", "care"))
        store.add_initiative(bob, NewInitiative("Blog", "web", "talking", None))
    mine = store.initiatives(ann)
    assert [i.name for i in mine] == ["Webcare"]
    with store.transaction():
        store.remove_initiative(bob, mine[0].id)  # not bob's: stays
    assert len(store.initiatives(ann)) == 1
    with store.transaction():
        store.remove_initiative(ann, mine[0].id)
    assert store.initiatives(ann) == ()
    with store.transaction():
        store.add_recheck(ann, "groeimodel", NOW)
        store.add_recheck(bob, "bmm", NOW)
        store.add_recheck(bob, "bmm", "2027-01-01T00:00:00+00:00")
    assert [r[:2] for r in store.claim_due_rechecks("test", LATER, "ann")] == [
        ("ann", "groeimodel")
    ]
    assert [r[:2] for r in store.claim_due_rechecks("test", LATER)] == [("bob", "bmm")]
    assert store.claim_due_rechecks("test", LATER) == []


def test_due_rechecks_are_claimed_once_by_racing_workers(store, database_target):
    with store.transaction():
        ann = store.user("test", "ann")
        for _ in range(20):
            store.add_recheck(ann, "groeimodel", NOW)
    claimed = race(database_target, lambda s, _: s.claim_due_rechecks("test", LATER), workers=3)
    assert sum(len(batch) for batch in claimed) == 20


def test_deliveries_and_signed_requests_are_applied_once(store, database_target):
    with store.transaction():
        assert store.first_delivery("slack", "Ev1")
        assert not store.first_delivery("slack", "Ev1")
        assert store.first_delivery("telegram", "Ev1")
    assert store.first_signed_request("sig", 100, oldest=50)
    assert not store.first_signed_request("sig", 100, oldest=50)
    assert store.first_signed_request("sig", 100, oldest=101)  # the old one was dropped
    for key in ("Ev2", "Ev3", "Ev4"):
        won = race(database_target, lambda s, _, key=key: _delivered(s, key), workers=3)
        assert sorted(won) == [False, False, True]


def _delivered(storage: Storage, key: str) -> bool:
    with storage.transaction():
        return storage.first_delivery("slack", key)


def test_dm_channels_and_home_views(store):
    assert store.dm_channel("slack", "U1") is None
    store.save_dm_channel("slack", "U1", "D1")
    store.save_dm_channel("slack", "U1", "D2")
    assert store.dm_channel("slack", "U1") == "D2"
    assert not store.claim_home_view("slack", "U1", "x")  # not a user (yet)
    with store.transaction():
        store.user("slack", "U1")
    assert store.claim_home_view("slack", "U1", "x")
    assert store.home_view_digest("slack", "U1") == "x"
    assert not store.claim_home_view("slack", "U1", "x")
    store.release_home_view("slack", "U1", "x")
    assert store.claim_home_view("slack", "U1", "x")


def test_forget_and_export(store):
    pulses = PulseStore(store)
    with store.transaction():
        ann = store.user("test", "ann")
        store.create_assessment(ann, "a1", "groeimodel")
        store.save_answer("a1", "q1", "o1")
        store.finish_assessment(ann, "a1", "groeimodel", result())
        store.add_initiative(ann, NewInitiative("Webcare", "X", "supporting", "care"))
        store.add_recheck(ann, "groeimodel", NOW)
    store.save_dm_channel("test", "ann", "D1")
    pulses.save_pulse("test", "C1", "Team", "ann", PULSE, NOW)
    pulses.join("test", "C1", "Team", "ann", NOW)
    data = store.export_user(ann)
    assert data["assessments"][0]["answers"][0]["option_id"] == "o1"
    assert data["assessments"][0]["result"]["phase_id"] == "p1"
    assert data["initiatives"][0]["channel"] == "X"
    assert data["pulses_created"][0]["team"] == "C1" and data["pulse_memberships"]
    with store.transaction():
        assert store.forget_user(ann)
    for table in ("users", "assessments", "answers", "results", "initiatives", "team_members"):
        assert count(store, table) == 0, table
    assert pulses.pulse("test", "C1").created_by is None  # the pulse runs on for the team


# ---- the pulse store ---------------------------------------------------------------------
def open_round(pulses: PulseStore, members: list[str]) -> tuple[PulseRow, int | None]:
    pulses.save_pulse("test", "C1", "Team", "admin", PULSE, NOW)
    row = pulses.pulse("test", "C1")
    claimed = pulses.claim_round(
        row, now=NOW, remind_at=NOW, deadline_at=LATER, following=LATER, members=members
    )
    return row, claimed


def test_pulses_and_members(store):
    pulses = PulseStore(store)
    pulses.save_pulse("test", "C1", "Team", "admin", PULSE, NOW)
    pulses.save_pulse("test", "C1", "Team 2", "other", {**PULSE, "hour": 10}, NOW)
    row = pulses.pulse("test", "C1")
    assert (row.team_name, row.hour, row.created_by, row.status) == (
        "Team 2",
        10,
        "admin",
        "active",
    )
    assert [p.team for p in pulses.due_pulses("test", NOW)] == ["C1"]
    pulses.set_status(row.team_id, "paused")
    assert pulses.due_pulses("test", NOW) == []
    pulses.set_status(row.team_id, "active", LATER)
    assert pulses.pulse("test", "C1").next_run_at == LATER
    pulses.join("test", "C1", "Team", "m1", NOW)
    pulses.join("test", "C1", "Team", "m1", NOW)
    pulses.join("test", "C1", "Team", "m2", NOW)
    assert pulses.joined(row.team_id) == ["m1", "m2"] and pulses.member_count(row.team_id) == 2


def test_a_round_is_claimed_once_its_invitations_leased_and_closed_once(store):
    pulses = PulseStore(store)
    row, round_id = open_round(pulses, ["m1", "m2", "m2", "m3"])
    assert round_id is not None
    again = pulses.claim_round(
        row, now=NOW, remind_at=NOW, deadline_at=LATER, following=LATER, members=["m1"]
    )
    assert again is None and pulses.pulse("test", "C1").next_run_at == LATER
    assert pulses.open_round(row.team_id)["id"] == round_id
    assert pulses.member_count(row.team_id) == 3
    pending = pulses.pending_invitations("test", NOW, max_attempts=3)
    assert [i.member for i in pending] == ["m1", "m2", "m3"]
    lease = "2026-03-02T09:02:00+00:00"
    assert pulses.claim_invitation(round_id, "m1", NOW, lease)
    assert not pulses.claim_invitation(round_id, "m1", NOW, lease)  # held
    assert [i.member for i in pulses.pending_invitations("test", NOW, 3)] == ["m2", "m3"]
    assert pulses.claim_invitation(round_id, "m1", lease, LATER)  # the lease ran out
    pulses.release_invitation(round_id, "m1")
    assert pulses.claim_invitation(round_id, "m1", NOW, lease)
    assert pulses.pending_invitations("test", LATER, max_attempts=3)[0].member == "m2"  # 3 tries
    for member in ("m1", "m2", "m3"):
        pulses.claim_invitation(round_id, member, LATER, LATER)
        pulses.set_invitation_assessment(round_id, member, f"as-{member}")
        pulses.delivered(round_id, member, NOW)
    assert pulses.pending_invitations("test", LATER, 9) == []
    assert [r.round_id for r in pulses.due_reminders("test", NOW)] == [round_id]
    assert pulses.claim_reminder(round_id, NOW) == ["m1", "m2", "m3"]
    assert pulses.claim_reminder(round_id, NOW) is None
    with store.transaction():
        user = store.user("test", "m1")
        store.create_assessment(user, "as-m1", "groeimodel")
        store.finish_assessment(user, "as-m1", "groeimodel", result())
    assert not pulses.mark_answered("as-m1", NOW)
    assert not pulses.mark_answered("as-m1", NOW)  # once
    assert pulses.closable_rounds("test", NOW) == []
    assert not pulses.mark_answered("as-m2", NOW)
    assert pulses.mark_answered("as-m3", NOW)  # the last one completes the round
    assert [r.round_id for r in pulses.closable_rounds("test", NOW)] == [round_id]
    inputs = pulses.round_inputs(round_id, row.team_id)
    assert inputs.invited == 3 and len(inputs.results) == 1 and inputs.previous_median is None


def test_closing_reports_and_trend(store):
    from flows.pulse import aggregate

    pulses = PulseStore(store)
    row, round_id = open_round(pulses, ["m1"])
    report = aggregate(_model(), (), invited=1, min_responses=3)
    assert pulses.close_round(round_id, report, LATER)
    assert not pulses.close_round(round_id, report, LATER)
    closed = pulses.closed_rounds("test", "C1")
    assert [(c.round_id, c.closed_at) for c in closed] == [(round_id, LATER)]
    assert closed[0].report == report
    assert pulses.trend(row.team_id) == []  # no median below the minimum of answers


def _model():
    from flows.model_loader import load_models

    return load_models()["groeimodel"]


def test_two_workers_racing_claim_a_round_once(store, database_target):
    pulses = PulseStore(store)
    pulses.save_pulse("test", "C1", "Team", "admin", PULSE, NOW)
    row = pulses.pulse("test", "C1")
    members = [f"m{i}" for i in range(30)]
    won = race(
        database_target,
        lambda s, _: PulseStore(s).claim_round(
            row, now=NOW, remind_at=NOW, deadline_at=LATER, following=LATER, members=members
        ),
        workers=3,
    )
    assert len([w for w in won if w is not None]) == 1
    assert count(store, "rounds") == 1 and count(store, "round_invites") == 30
    round_id = next(w for w in won if w is not None)
    claims = race(
        database_target,
        lambda s, _: [PulseStore(s).claim_invitation(round_id, m, NOW, LATER) for m in members],
        workers=3,
    )
    assert sum(sum(per_worker) for per_worker in claims) == 30  # each invitation once
    reminded = race(database_target, lambda s, _: PulseStore(s).claim_reminder(round_id, NOW), 3)
    assert len([r for r in reminded if r is not None]) == 1


def test_the_last_two_answers_arriving_at_once_complete_the_round(store, database_target):
    pulses = PulseStore(store)
    _, round_id = open_round(pulses, ["m1", "m2"])
    for member in ("m1", "m2"):
        pulses.set_invitation_assessment(round_id, member, f"as-{member}")
    done = race(
        database_target,
        lambda s, index: PulseStore(s).mark_answered(f"as-m{index + 1}", NOW),
    )
    assert count(store, "round_invites where answered_at is not null") == 2
    assert sorted(done) == [False, True]  # whichever came second saw the first's mark


# ---- the scheduler's lease ---------------------------------------------------------------
def test_one_holder_at_a_time_and_an_expired_lease_is_taken_over(store, database_target):
    pulses = PulseStore(store)
    assert pulses.lease_holder("scheduler") is None
    assert pulses.try_lease("scheduler", "w1", 60)
    assert pulses.try_lease("scheduler", "w1", 60)  # renewed
    assert not pulses.try_lease("scheduler", "w2", 60)
    assert pulses.lease_holder("scheduler") == "w1"
    pulses.release_lease("scheduler", "w2")  # not w2's to release
    assert pulses.lease_holder("scheduler") == "w1"
    pulses.release_lease("scheduler", "w1")
    assert pulses.try_lease("scheduler", "w2", 0.5)
    time.sleep(0.6)  # w2 died without releasing: its lease runs out
    assert pulses.lease_holder("scheduler") is None
    won = race(
        database_target, lambda s, _: PulseStore(s).try_lease("scheduler", str(id(s)), 60), 3
    )
    assert sorted(won) == [False, False, True]


def test_the_trend_holds_the_latest_26_reported_rounds_oldest_first(store):
    from bot.storage.pulses import TREND_ROUNDS

    pulses = PulseStore(store)
    pulses.join("test", "C1", "Team", "m1", NOW)
    with store.transaction() as db:
        team_id = db.execute("select id from teams").fetchone()[0]
        for week in range(30):
            day = f"2026-{1 + week // 4:02d}-{1 + (week % 4) * 7:02d}"
            db.execute(
                "insert into rounds (team_id, model_id, due_at, opened_at, deadline_at, "
                "closed_at, status, median_index) values (?, 'groeimodel', ?, ?, ?, ?, "
                "'closed', ?)",
                (team_id, day, day, day, f"{day}T12:00:00+00:00", week % 4),
            )
    trend = pulses.trend(team_id)
    assert TREND_ROUNDS == 26 and len(trend) == 26
    assert trend[0] == ("2026-02-01", 0) and trend[-1] == ("2026-08-08", 1)  # weeks 4 to 29
    assert [date for date, _ in trend] == sorted(date for date, _ in trend)
