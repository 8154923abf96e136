"""Storage: schema, migrations, durability settings and answer updates."""

from __future__ import annotations

import contextlib
import time

import pytest

from bot.storage import SCHEMA_VERSION, Storage
from flows.events import Event, Kind
from tests.helpers import Chat, unavailable


def test_file_database_uses_wal_foreign_keys_and_records_migrations(tmp_path):
    storage = Storage(tmp_path / "s.db")
    db = storage.db
    assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert db.execute("pragma foreign_keys").fetchone()[0] == 1
    assert db.execute("pragma busy_timeout").fetchone()[0] >= 5000
    applied = db.execute("select name from _sqlite_migrations").fetchall()
    assert len(applied) == SCHEMA_VERSION
    storage.close()
    # opening again applies nothing twice
    again = Storage(tmp_path / "s.db")
    assert len(again.db.execute("select name from _sqlite_migrations").fetchall()) == SCHEMA_VERSION


def test_changing_an_answer_updates_the_row_and_its_time(service, models):
    chat = Chat(service)
    chat.start("groeimodel")
    chat.type("1")
    first = service.storage.db.execute("select option_id, answered_at from answers").fetchall()
    time.sleep(1.1)  # answered_at has second precision
    chat.type("/back")
    chat.type("2")
    rows = service.storage.db.execute("select option_id, answered_at from answers").fetchall()
    assert len(rows) == 1
    assert rows[0][0] != first[0][0] and rows[0][1] > first[0][1]


def test_a_failed_event_stores_nothing(service, models, monkeypatch):
    chat = Chat(service)
    chat.start("groeimodel")

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(service.storage, "save_conversation", explode)
    with contextlib.suppress(RuntimeError):
        chat.type("1")
    assert service.storage.db.execute("select count(*) from answers").fetchone()[0] == 0


def test_duplicate_delivery_is_applied_once(service):
    first = service.handle(
        "t", "u", Event(Kind.CHOOSE, "groeimodel", direct=True), delivery_key="1"
    )
    again = service.handle(
        "t", "u", Event(Kind.CHOOSE, "groeimodel", direct=True), delivery_key="1"
    )
    assert first.replies and again.duplicate and not again.replies
    assert service.storage.db.execute("select count(*) from assessments").fetchone()[0] == 1


def test_forget_and_export(service, models):
    chat = Chat(service, user="f")
    chat.start("groeimodel")
    for _ in models["groeimodel"].questions:
        chat.type("1")
    data = service.export("test", "f")
    assert data["assessments"][0]["result"]["phase_id"] == models["groeimodel"].phases[0].id
    assert len(data["assessments"][0]["answers"]) == len(models["groeimodel"].questions)
    assert service.forget("test", "f")
    for table in ("users", "conversations", "assessments", "answers", "results"):
        assert service.storage.db.execute(f"select count(*) from {table}").fetchone()[0] == 0


def test_transactions_nest_as_savepoints(tmp_path):
    """An inner transaction commits with the outer one; a failed inner one undoes only its own
    writes; a failed outer one undoes everything, the inner writes included."""
    storage = Storage(tmp_path / "nest.db")
    try:
        names = lambda: [r[0] for r in storage.db.execute("select channel from users order by id")]  # noqa: E731
        add = "insert into users (channel, external_id, lang, created_at) values (?, ?, 'en', 'x')"
        with storage.transaction() as db:
            db.execute(add, ("outer", "1"))
            with storage.transaction() as inner:
                inner.execute(add, ("inner", "2"))
            with pytest.raises(ValueError), storage.transaction() as inner:
                inner.execute(add, ("undone", "3"))
                raise ValueError("only this part fails")
            assert names() == ["outer", "inner"]
        assert names() == ["outer", "inner"]

        with pytest.raises(RuntimeError), storage.transaction() as db:
            db.execute(add, ("second-outer", "4"))
            with storage.transaction() as inner:
                inner.execute(add, ("second-inner", "5"))
            raise RuntimeError("the whole event fails")
        assert names() == ["outer", "inner"]
        assert not storage.db.conn.in_transaction
    finally:
        storage.close()


def test_the_trend_holds_the_latest_26_reported_rounds_oldest_first(tmp_path):
    from bot.storage.pulses import TREND_ROUNDS, PulseStore

    storage = Storage(tmp_path / "trend.db")
    try:
        store = PulseStore(storage)
        store.join("test", "C1", "Team", "m1", "2026-01-01T00:00:00+00:00")
        with storage.transaction() as db:
            for week in range(30):
                day = f"2026-{1 + week // 4:02d}-{1 + (week % 4) * 7:02d}"
                db.execute(
                    "insert into rounds (team_id, model_id, due_at, opened_at, deadline_at, "
                    "closed_at, status, median_index) values (1, 'groeimodel', ?, ?, ?, ?, "
                    "'closed', ?)",
                    (day, day, day, f"{day}T12:00:00+00:00", week % 4),
                )
        trend = store.trend(1)
        assert TREND_ROUNDS == 26 and len(trend) == 26
        assert trend[0][0] == "2026-02-01" and trend[-1][0] == "2026-08-08"  # weeks 4 to 29
        assert [date for date, _ in trend] == sorted(date for date, _ in trend)
    finally:
        storage.close()


def test_a_postgresql_server_that_goes_away_loses_nothing_and_the_bot_goes_on(models, scan):
    """The server crashes between two answers: the user is told the answer was not saved (in
    the language the platform gave, as nothing can be read either), nothing half-written is
    kept, and once the server is back the same pool serves the next event and the assessment
    continues at its question."""
    import shutil
    import tempfile
    from pathlib import Path

    from bot.service import AssessmentService
    from flows.i18n import t
    from flows.replies import Say
    from tests import postgres_server as pg

    if pg.bindir() is None:
        unavailable("PostgreSQL's server is not installed (apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="maturity-pg-"))
    storage = None
    try:
        storage = Storage(pg.start(folder))
        service = AssessmentService(storage, models, scan=scan)
        chat = Chat(service, user="ann", lang="nl")
        chat.start("groeimodel")
        chat.type("1")
        pg.stop(folder, mode="immediate")
        assert chat.type("2") == (Say(t("not_saved", "nl"), is_error=True),)
        pg.start_again(folder)
        chat.type("/resume")
        assert chat.question.question_id == models["groeimodel"].questions[1].id
        chat.type("2")
        assert chat.question.question_id == models["groeimodel"].questions[2].id
        with storage.reading():
            assert storage.execute("select count(*) from answers").fetchone()[0] == 2
    finally:
        if storage is not None:
            storage.close()
        pg.stop(folder, mode="immediate")
        shutil.rmtree(folder, ignore_errors=True)
