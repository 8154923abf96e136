"""Bad environments (issue 9): a wrong setting, a database we must not touch, a full disk.

Each gives one line and exit code 2, or (a full disk while running) a clear reply in the user's
language while the bot keeps going; nothing already stored is lost or half-written. Real SQLite
files, real subprocesses and real file-size limits throughout.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import resource
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.cli import main
from bot.service import AssessmentService
from bot.settings import RANGES, Settings
from bot.storage import Storage, StorageWriteError, migrations
from flows.events import Event, Kind, from_text
from flows.i18n import t
from flows.pulse import MIN_RESPONSES_FLOOR
from flows.replies import Say
from tests.helpers import one_error_line

SECRET = "123456:not-to-be-printed-anywhere"


# ---- 1. settings --------------------------------------------------------------------------
BAD_SETTINGS = [
    ("MATURITY_PULSE_MIN_RESPONSES", "abc"),
    ("MATURITY_PULSE_MIN_RESPONSES", "2.5"),
    ("MATURITY_PULSE_MIN_RESPONSES", "5.0"),
    ("MATURITY_PULSE_MIN_RESPONSES", str(MIN_RESPONSES_FLOOR - 1)),
    ("MATURITY_PULSE_MIN_RESPONSES", "-5"),
    ("MATURITY_PULSE_MIN_RESPONSES", ""),
    ("MATURITY_PULSE_DEADLINE_HOURS", "soon"),
    ("MATURITY_PULSE_DEADLINE_HOURS", "-1"),
    ("MATURITY_PULSE_DEADLINE_HOURS", "0"),
    ("MATURITY_PULSE_DEADLINE_HOURS", "nan"),
    ("MATURITY_PULSE_DEADLINE_HOURS", "inf"),
    ("MATURITY_PULSE_DEADLINE_HOURS", "1e300"),
    ("MATURITY_PULSE_REMIND_HOURS", "-0.5"),
    ("MATURITY_PULSE_REMIND_HOURS", "0"),
    ("MATURITY_PULSE_REMIND_HOURS", "NaN"),
    ("MATURITY_PULSE_REMIND_HOURS", "-inf"),
    ("MATURITY_PULSE_REMIND_HOURS", "48"),  # not before the deadline (default 48)
    ("MATURITY_MAX_BODY_BYTES", "1023"),
    ("MATURITY_MAX_BODY_BYTES", "67108865"),
    ("MATURITY_MAX_BODY_BYTES", "1.5"),
    ("MATURITY_MAX_BODY_BYTES", "lots"),
    ("MATURITY_SLACK_THREADS", "0"),
    ("MATURITY_SLACK_THREADS", "257"),
    ("MATURITY_SLACK_THREADS", "2.5"),
    ("MATURITY_SLACK_MAX_PENDING", "0"),
    ("MATURITY_SLACK_MAX_PENDING", "many"),
    ("MATURITY_TIMEZONE", "Mars/Olympus_Mons"),
    ("MATURITY_TIMEZONE", "../../etc/passwd"),
    ("MATURITY_LANG", "fr"),
]


@pytest.mark.parametrize("command", ["models", "console"])
@pytest.mark.parametrize(("name", "value"), BAD_SETTINGS)
def test_a_bad_setting_stops_every_command_with_one_line(
    clean_env, tmp_path, capsys, command, name, value
):
    clean_env.setenv(name, value)
    clean_env.setattr(sys, "stdin", io.StringIO("1\n"))
    db = tmp_path / "never.db"
    assert main([command, "--db", str(db)]) == 2
    line = one_error_line(capsys)
    assert name in line
    assert not db.exists()  # refused before anything was made


def test_the_line_says_what_is_allowed(clean_env, capsys):
    clean_env.setenv("MATURITY_PULSE_MIN_RESPONSES", "2.5")
    assert main(["models"]) == 2
    assert f"whole number of at least {MIN_RESPONSES_FLOOR}" in one_error_line(capsys)
    clean_env.setenv("MATURITY_PULSE_MIN_RESPONSES", "5")
    clean_env.setenv("MATURITY_PULSE_DEADLINE_HOURS", "soon")
    assert main(["models"]) == 2
    assert "number of hours above 0" in one_error_line(capsys)
    clean_env.setenv("MATURITY_PULSE_DEADLINE_HOURS", "48")
    clean_env.setenv("MATURITY_MAX_BODY_BYTES", "12")
    assert main(["models"]) == 2
    assert "from 1024 to 67108864" in one_error_line(capsys)


@pytest.mark.parametrize("field", list(RANGES))
def test_every_bounded_setting_takes_its_bounds_and_refuses_past_them(clean_env, field):
    from pydantic import ValidationError

    lowest, highest, lowest_allowed = RANGES[field]
    whole = Settings.model_fields[field].annotation in (int, "int")
    step = 1 if whole else 0.5
    edges = [(lowest, lowest_allowed), (lowest - step, False)]
    if highest != float("inf"):
        # the reminder must also come before the deadline, at most the same bound
        top = highest - step if field == "maturity_pulse_remind_hours" else highest
        edges += [(top, True), (highest + step, False)]
    others = {"maturity_pulse_deadline_hours": RANGES["maturity_pulse_deadline_hours"][1]}
    for value, allowed in edges:
        value = int(value) if whole else value
        given = {**others, field: value}
        if allowed:
            assert getattr(Settings(**given), field) == value
        else:
            with pytest.raises(ValidationError, match=field):
                Settings(**given)


def test_two_bad_settings_are_still_one_line_and_no_secret_is_echoed(clean_env, capsys):
    clean_env.setenv("TELEGRAM_BOT_TOKEN", SECRET)
    clean_env.setenv("SLACK_SIGNING_SECRET", SECRET)
    clean_env.setenv("MATURITY_PULSE_MIN_RESPONSES", "abc")
    clean_env.setenv("MATURITY_PULSE_REMIND_HOURS", "nan")
    assert main(["models"]) == 2
    line = one_error_line(capsys)
    assert "MATURITY_PULSE_MIN_RESPONSES" in line and "MATURITY_PULSE_REMIND_HOURS" in line
    assert SECRET not in line


def test_a_bad_setting_in_the_env_file_is_named_too(clean_env, tmp_path, capsys):
    (tmp_path / ".env").write_text(
        f"TELEGRAM_BOT_TOKEN={SECRET}\nMATURITY_PULSE_DEADLINE_HOURS=tomorrow\n", "utf-8"
    )
    assert main(["models"]) == 2
    line = one_error_line(capsys)
    assert "MATURITY_PULSE_DEADLINE_HOURS" in line and SECRET not in line


def test_the_anonymity_floor_itself_and_the_limits_are_accepted(clean_env, capsys):
    clean_env.setenv("MATURITY_PULSE_MIN_RESPONSES", str(MIN_RESPONSES_FLOOR))
    clean_env.setenv("MATURITY_PULSE_DEADLINE_HOURS", "8760")
    clean_env.setenv("MATURITY_PULSE_REMIND_HOURS", "0.5")
    clean_env.setenv("MATURITY_MAX_BODY_BYTES", "1024")
    clean_env.setenv("MATURITY_TIMEZONE", "America/New_York")
    clean_env.setenv("MATURITY_LANG", "nl_NL")
    assert main(["models"]) == 0
    assert capsys.readouterr().err == ""
    settings = Settings()
    assert settings.maturity_pulse_min_responses == MIN_RESPONSES_FLOOR
    assert settings.maturity_max_body_bytes == 1024


def test_a_bad_setting_in_a_real_process_is_one_line_and_exit_2(tmp_path):
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("MATURITY_", "SLACK_", "TELEGRAM_"))
    }
    env["MATURITY_PULSE_MIN_RESPONSES"] = "2.5"
    env["TELEGRAM_BOT_TOKEN"] = SECRET
    run = subprocess.run(
        [sys.executable, "-m", "bot", "models"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert run.returncode == 2
    assert run.stdout == ""
    assert len(run.stderr.splitlines()) == 1, run.stderr
    assert "MATURITY_PULSE_MIN_RESPONSES" in run.stderr and SECRET not in run.stderr


# ---- 2. a database we must not change -----------------------------------------------------
def fingerprint(path: Path) -> tuple[str, list[str]]:
    """The file's bytes and the files beside it (no -wal or -shm may appear)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest, sorted(p.name for p in path.parent.iterdir())


def newer_database(path: Path) -> Path:
    storage = Storage(path)
    with storage.transaction() as db:
        db.execute(
            "insert into _sqlite_migrations (migration_set, name, applied_at) values (?, ?, ?)",
            (migrations.name, "m099_from_the_future", "2031-01-01 00:00:00+00:00"),
        )
    storage.close()
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ["history", "--user", "x"],
        ["console", "--model", "groeimodel", "--user", "ann", "--lang", "en"],
        ["pulse", "report", "--team", "C1"],
    ],
)
def test_a_database_from_a_newer_version_is_refused_untouched(clean_env, tmp_path, capsys, argv):
    (tmp_path / "data").mkdir()
    path = newer_database(tmp_path / "data" / "newer.db")
    before = fingerprint(path)
    clean_env.setattr(sys, "stdin", io.StringIO("1\n1\n"))
    assert main([*argv, "--db", str(path)]) == 2
    line = one_error_line(capsys)
    assert str(path) in line and "newer maturity-bot" in line
    assert "upgrade maturity-bot" in line and "--db" in line
    assert fingerprint(path) == before


def test_another_programs_database_is_refused_untouched(clean_env, tmp_path, capsys):
    (tmp_path / "data").mkdir()
    path = tmp_path / "data" / "photos.db"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("create table foo (id integer primary key, name text)")
        conn.execute("insert into foo (name) values ('keep me')")
        conn.commit()
    before = fingerprint(path)
    clean_env.setattr(sys, "stdin", io.StringIO("1\n"))
    assert main(["console", "--user", "ann", "--db", str(path)]) == 2
    line = one_error_line(capsys)
    assert str(path) in line and "not a maturity-bot database" in line and "foo" in line
    assert fingerprint(path) == before
    assert path.read_bytes()[18] == 1  # still a rollback-journal file: not switched to WAL


def test_a_sqlite_utils_database_of_another_program_is_refused(clean_env, tmp_path, capsys):
    (tmp_path / "data").mkdir()
    path = tmp_path / "data" / "other.db"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute(
            "create table _sqlite_migrations (id integer primary key, migration_set "
            "text, name text, applied_at text)"
        )
        conn.execute(
            "insert into _sqlite_migrations (migration_set, name, applied_at) "
            "values ('somebody-else', 'm001', 'x')"
        )
        conn.execute("create table notes (body text)")
        conn.commit()
    before = fingerprint(path)
    assert main(["history", "--user", "x", "--db", str(path)]) == 2
    assert "not a maturity-bot database" in one_error_line(capsys)
    assert fingerprint(path) == before


def test_an_empty_file_becomes_a_new_database(clean_env, tmp_path, capsys):
    path = tmp_path / "empty.db"
    path.touch()
    clean_env.setattr(sys, "stdin", io.StringIO("1\n"))
    argv = ["console", "--model", "groeimodel", "--user", "ann", "--lang", "en"]
    assert main([*argv, "--db", str(path)]) == 0
    assert "Question 2 of" in capsys.readouterr().out
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("select count(*) from answers").fetchone()[0] == 1


def test_a_database_of_an_older_version_is_still_upgraded(tmp_path):
    path = tmp_path / "older.db"
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        migrations.apply(Database(conn), stop_before="m004_invite_attempts")
    storage = Storage(path)
    applied = storage.db.execute("select name from _sqlite_migrations").fetchall()
    assert len(applied) == len(migrations._migrations)
    storage.close()


# ---- 3. a full disk -----------------------------------------------------------------------
linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE semantics and prlimit are Linux's"
)


def console_args(db: Path, lang: str) -> list[str]:
    return [sys.executable, "-m", "bot", "console", "--db", str(db), "--model", "groeimodel",
            "--lang", lang, "--user", "ann"]  # fmt: skip


def bot_env(tmp_path: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("MATURITY_", "SLACK_", "TELEGRAM_"))
    }
    return {**env, "MATURITY_CHART_DIR": str(tmp_path / "charts")}


def stored(db: Path) -> tuple[list[tuple], str]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        answers = conn.execute(
            "select question_id, option_id from answers order by question_id"
        ).fetchall()
        return answers, conn.execute("pragma integrity_check").fetchone()[0]


@linux_only
@pytest.mark.parametrize(("lang", "question"), [("en", "Question {n} of"), ("nl", "Vraag {n} van")])
def test_a_disk_that_fills_up_mid_session_loses_nothing_and_the_console_goes_on(
    tmp_path, lang, question
):
    """The disk fills while the console waits for the second answer: a file-size limit of a
    few KiB is put on the running process (resource.prlimit; the -wal file is already past
    it). At start-up it could not be: SQLite needs 32 KiB for its -shm file just to open."""
    db = tmp_path / "bot.db"
    env = bot_env(tmp_path)
    first = subprocess.run(
        console_args(db, lang), input="1\n", capture_output=True, text=True, env=env,
        cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    before, _ = stored(db)
    assert len(before) == 1

    process = subprocess.Popen(
        console_args(db, lang), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    try:
        shown = []
        while not shown or not shown[-1].startswith(question.format(n=2)):
            line = process.stdout.readline()
            assert line, "".join(shown) + process.stderr.read()
            shown.append(line)
        limit = 4096
        resource.prlimit(process.pid, resource.RLIMIT_FSIZE, (limit, limit))
        out, err = process.communicate("2\n/help\n", timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert t("not_saved", lang) in out
    help_word = "/hulp" if lang == "nl" else "/help"  # the help names the commands in `lang`
    assert help_word in out.split(t("not_saved", lang), 1)[1]  # the next line was answered
    assert question.format(n=3) not in out  # the answer was not taken
    after, integrity = stored(db)
    assert after == before and integrity == "ok"


@linux_only
def test_a_disk_full_at_start_up_is_one_line_and_exit_2(tmp_path):
    db = tmp_path / "bot.db"
    env = bot_env(tmp_path)
    subprocess.run(
        console_args(db, "en"), input="1\n", capture_output=True, text=True, env=env,
        cwd=tmp_path, timeout=120, check=True,
    )  # fmt: skip
    before, _ = stored(db)
    limit = 4096

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    run = subprocess.run(
        console_args(db, "en"), input="2\n", capture_output=True, text=True, env=env,
        cwd=tmp_path, timeout=120, preexec_fn=small_files,
    )  # fmt: skip
    assert run.returncode == 2
    assert len(run.stderr.splitlines()) == 1, run.stderr
    assert "cannot open the database" in run.stderr and "disk" in run.stderr
    assert stored(db) == (before, "ok")


@contextlib.contextmanager
def files_limited_to(size: int):
    """A real file-size limit on this process for a moment (only the soft one, so it can be
    lifted again); nothing may print meanwhile."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


@pytest.fixture
def file_service(tmp_path, models, scan):
    storage = Storage(tmp_path / "s.db")  # its -wal file is past 4 KiB after the migrations
    yield AssessmentService(storage, models, scan=scan)
    storage.close()


def answers_in(service: AssessmentService) -> list[tuple]:
    return service.storage.db.execute("select question_id, option_id from answers").fetchall()


@linux_only
def test_the_service_rolls_back_and_answers_in_the_stored_language(file_service):
    service = file_service
    service.handle("slack", "T1:U1", Event(Kind.CHOOSE, "groeimodel", direct=True), lang_hint="nl")
    service.handle("slack", "T1:U1", from_text("1"), lang_hint="en")
    before = answers_in(service)
    conversation = service.storage.db.execute("select * from conversations").fetchall()

    with files_limited_to(4096):
        handled = service.handle(
            "slack", "T1:U1", from_text("2"), lang_hint="en", delivery_key="ev-2"
        )
        newcomer = service.handle("slack", "T1:U9", Event(Kind.OPEN), lang_hint="en")
    assert handled.replies == (Say(t("not_saved", "nl"), is_error=True),)  # stored: nl
    assert handled.user.lang == "nl" and not handled.duplicate
    assert newcomer.replies == (Say(t("not_saved", "en"), is_error=True),)  # the locale
    assert answers_in(service) == before
    assert service.storage.db.execute("select * from conversations").fetchall() == conversation
    assert service.storage.db.execute(
        "select count(*) from processed_events where event_key = 'ev-2'"
    ).fetchone() == (0,)
    assert service.storage.db.execute("select count(*) from users").fetchone() == (1,)

    # the disk has room again: the same delivery is applied, on the same connection
    again = service.handle("slack", "T1:U1", from_text("2"), lang_hint="en", delivery_key="ev-2")
    assert not any(isinstance(r, Say) and r.is_error for r in again.replies)
    assert len(answers_in(service)) == 2
    assert service.storage.db.execute("pragma integrity_check").fetchone() == ("ok",)


@linux_only
def test_other_writes_fail_with_a_storage_write_error_not_a_raw_sqlite_one(file_service):
    service = file_service
    service.handle("telegram", "42", Event(Kind.CHOOSE, "groeimodel", direct=True))
    with files_limited_to(4096):
        with pytest.raises(StorageWriteError, match="cannot save to the database"):
            service.forget("telegram", "42")
        with pytest.raises(StorageWriteError):
            service.set_language("telegram", "42", "nl")
        with pytest.raises(StorageWriteError):
            service.first_delivery("telegram", "update-7")
    assert service.language("telegram", "42") == "en"
    assert service.first_delivery("telegram", "update-7")  # not recorded by the failed try
    assert service.forget("telegram", "42")


def test_a_bug_is_not_called_a_full_disk(file_service):
    """Only failures of the disk or the file are 'try again'; a broken statement stays loud."""
    with pytest.raises(sqlite3.OperationalError), file_service.storage.transaction() as db:
        db.execute("insert into answers (no_such_column) values (1)")
    with pytest.raises(sqlite3.IntegrityError), file_service.storage.transaction() as db:
        db.execute("insert into users (channel) values (null)")
    assert not file_service.storage.db.conn.in_transaction
