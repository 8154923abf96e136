"""`maturity-bot db migrate | check | copy` and choosing PostgreSQL with MATURITY_DB or --db,
through the real command line, against SQLite files and a real PostgreSQL server."""

from __future__ import annotations

import contextlib
import io
import os
import sqlite3
import subprocess
import sys

import pytest
from sqlite_utils import Database

from bot.cli import main
from bot.service import AssessmentService
from bot.storage import Storage, migrations
from bot.storage.admin import reference
from bot.storage.pulses import PulseStore
from flows.initiatives import NewInitiative
from tests.helpers import Chat, one_error_line
from tests.postgres_server import free_port

SECRET = "pw-not-to-be-printed"


def counts(target: str) -> dict[str, int]:
    storage = Storage(target)
    try:
        with storage.reading():
            return {
                shape.name: storage.execute(f"select count(*) from {shape.name}").fetchone()[0]
                for shape in reference()
            }
    finally:
        storage.close()


def fill(target: str, models) -> None:
    """A bit of everything: a finished assessment, one stopped at question 4, initiatives, a
    reminder, deliveries, a team's pulse with a round and its invitations."""
    storage = Storage(target)
    try:
        service = AssessmentService(storage, models)
        done = Chat(service, user="bob")
        done.start("groeimodel")
        for _ in models["groeimodel"].questions:
            done.type("1")
        halfway = Chat(service, user="ann")
        halfway.start("groeimodel")
        for answer in ("1", "2", "3"):
            halfway.type(answer)
        halfway.type("/initiatives add Webcare; X; supporting; customer satisfaction")
        service.handle("test", "ann", halfway_event(), delivery_key="ev-1")
        storage.save_dm_channel("test", "ann", "D1")
        pulses = PulseStore(storage)
        pulse = {
            "model_id": "groeimodel", "cadence": "weekly", "weekday": 0, "hour": 9,
            "minute": 0, "timezone": "Europe/Amsterdam",
            "next_run_at": "2026-03-02T08:00:00+00:00", "lang": "en",
        }  # fmt: skip
        pulses.save_pulse("test", "C1", "Team", "ann", pulse, "2026-03-01T00:00:00+00:00")
        row = pulses.pulse("test", "C1")
        pulses.claim_round(
            row, now="2026-03-02T08:00:00+00:00", remind_at="2026-03-03T08:00:00+00:00",
            deadline_at="2026-03-04T08:00:00+00:00", following="2026-03-09T08:00:00+00:00",
            members=["ann", "bob"],
        )  # fmt: skip
        assert pulses.try_lease("scheduler", "w1", 60)
    finally:
        storage.close()


def nth(models, number: int) -> str:
    return models["groeimodel"].questions[number - 1].id


def halfway_event():
    from flows.events import from_text

    return from_text("/help")


# ---- db copy -----------------------------------------------------------------------------------
def test_copy_sqlite_to_postgresql_keeps_every_row_and_the_assessment_resumes(
    clean_env, tmp_path, capsys, models, postgres_url
):
    source = str(tmp_path / "maturity.db")
    fill(source, models)
    before = counts(source)
    assert main(["db", "copy", "--from", source, "--to", postgres_url]) == 0
    out = capsys.readouterr().out
    for table, rows in before.items():
        assert f"{table} " in out and f" {rows} " in out
    assert "counts equal" in out
    assert counts(postgres_url) == before

    storage = Storage(postgres_url)  # the bot on the new database
    try:
        service = AssessmentService(storage, models)
        ann = Chat(service, user="ann")
        ann.type("/resume")
        assert ann.question.question_id == nth(models, 4)  # where she stopped on SQLite
        ann.type("1")
        assert ann.question.question_id == nth(models, 5)
        assert len(service.history("test", "bob")[1]) == 1
        newcomer = Chat(service, user="carol")  # new rows are numbered after the copied ones
        newcomer.start("groeimodel")
        newcomer.type("/initiatives add Blog; web; talking; reach")
        assert newcomer.question.question_id == nth(models, 1)
        assert [i.name for i in storage.initiatives(storage.find_user("test", "ann"))] == [
            "Webcare"
        ]
        assert PulseStore(storage).lease_holder("scheduler") == "w1"
    finally:
        storage.close()


def test_copy_refuses_a_target_that_holds_data_unless_told_to_replace_it(
    clean_env, tmp_path, capsys, models, database_target
):
    source = str(tmp_path / "source.db")
    fill(source, models)
    storage = Storage(database_target)
    with storage.transaction():
        storage.add_initiative(
            storage.user("test", "zed"), NewInitiative("Old", "x", "talking", None)
        )
    storage.close()
    assert main(["db", "copy", "--from", source, "--to", database_target]) == 2
    line = one_error_line(capsys)
    assert "already holds data" in line and "users: 1" in line and "--replace" in line
    assert counts(database_target)["initiatives"] == 1  # left as it was
    assert main(["db", "copy", "--from", source, "--to", database_target, "--replace"]) == 0
    assert counts(database_target) == counts(source)
    assert main(["db", "copy", "--from", source, "--to", source]) == 2
    assert "same database" in one_error_line(capsys)


def test_copy_postgresql_back_to_sqlite(clean_env, tmp_path, capsys, models, postgres_url):
    fill(postgres_url, models)
    target = str(tmp_path / "back.db")
    assert main(["db", "copy", "--from", postgres_url, "--to", target]) == 0
    assert counts(target) == counts(postgres_url)
    storage = Storage(target)
    try:
        ann = Chat(AssessmentService(storage, models), user="ann")
        ann.type("/resume")
        assert ann.question.question_id == nth(models, 4)
    finally:
        storage.close()


# ---- db migrate and db check -------------------------------------------------------------------
def test_check_a_current_database(clean_env, capsys, database_target):
    Storage(database_target).close()
    assert main(["db", "check", "--db", database_target]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("database: ")
    assert lines[1] == f"schema: version {len(migrations._migrations)} of " + (
        f"{len(migrations._migrations)} (current)"
    )
    assert lines[2] == f"integrity: ok ({len(reference())} tables)"


def test_an_older_database_is_reported_by_check_and_brought_up_by_migrate(
    clean_env, tmp_path, capsys
):
    path = tmp_path / "older.db"
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        migrations.apply(Database(conn), stop_before="m008_history_pages")
    assert main(["db", "check", "--db", str(path)]) == 2
    out = capsys.readouterr().out
    assert "schema: version 7 of" in out and "run maturity-bot db migrate" in out
    assert main(["db", "check", "--db", str(path)]) == 2  # check changed nothing
    capsys.readouterr()
    assert main(["db", "migrate", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert "applied: m008_history_pages, m009_leases" in out
    assert main(["db", "migrate", "--db", str(path)]) == 0
    assert "applied: nothing" in capsys.readouterr().out
    assert main(["db", "check", "--db", str(path)]) == 0


def test_migrate_an_empty_postgresql_database(clean_env, capsys, postgres_url):
    assert main(["db", "migrate", "--db", postgres_url]) == 0
    out = capsys.readouterr().out
    assert "applied: m001_initial" in out and f"version {len(migrations._migrations)}" in out
    assert main(["db", "check", "--db", postgres_url]) == 0
    assert "PostgreSQL" in capsys.readouterr().out


def test_a_newer_postgresql_database_is_refused_untouched(clean_env, capsys, postgres_url):
    import psycopg

    Storage(postgres_url).close()
    with psycopg.connect(postgres_url) as conn:
        conn.execute(
            "insert into schema_migrations (migration_set, name, applied_at) "
            "values (%s, 'm099_from_the_future', 'x')",
            (migrations.name,),
        )
    before = counts_raw(postgres_url)
    for argv in (["db", "check"], ["db", "migrate"], ["history", "--user", "x"]):
        assert main([*argv, "--db", postgres_url]) == 2
        line = one_error_line(capsys)
        assert "newer maturity-bot" in line and "left unchanged" in line
    assert counts_raw(postgres_url) == before


def counts_raw(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'public'"
            )
        ]
        return {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}


# ---- choosing PostgreSQL, and what a wrong URL says --------------------------------------------
def test_the_console_runs_on_postgresql_from_the_setting(clean_env, capsys, postgres_url):
    clean_env.setenv("MATURITY_DB", postgres_url)
    argv = ["console", "--model", "groeimodel", "--user", "ann", "--lang", "en"]
    clean_env.setattr(sys, "stdin", io.StringIO("1\n1\n"))
    assert main(argv) == 0
    assert "Question 3 of" in capsys.readouterr().out
    clean_env.setattr(sys, "stdin", io.StringIO("/resume\n"))
    assert main(argv) == 0  # a new start: the same database, the same question
    assert "Question 3 of" in capsys.readouterr().out
    assert counts(postgres_url)["answers"] == 2


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://ann:{secret}@127.0.0.1:{port}/maturity",  # nobody listens there
        "postgresql://ann:{secret}@127.0.0.1:notaport/maturity",
        "postgresql://ann@127.0.0.1:{port}/maturity?password={secret}",
    ],
)
def test_an_unreachable_server_or_a_bad_url_is_one_line_naming_the_setting(clean_env, capsys, url):
    url = url.format(secret=SECRET, port=free_port())
    clean_env.setenv("MATURITY_DB", url)
    assert main(["history", "--user", "x"]) == 2
    line = one_error_line(capsys)
    assert "MATURITY_DB" in line and "PostgreSQL" in line and SECRET not in line
    assert main(["db", "check", "--db", url]) == 2
    line = one_error_line(capsys)
    assert "MATURITY_DB" in line and SECRET not in line


def test_an_unreachable_server_in_a_real_process(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MATURITY_", "SLACK_"))}
    env["MATURITY_DB"] = f"postgresql://ann:{SECRET}@127.0.0.1:{free_port()}/maturity"
    run = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--user", "ann"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120, input="",
    )  # fmt: skip
    assert run.returncode == 2
    assert len(run.stderr.splitlines()) == 1, run.stderr
    assert "MATURITY_DB" in run.stderr and SECRET not in run.stderr
