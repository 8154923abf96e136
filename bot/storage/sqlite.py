"""The SQLite backend: one file, one connection a process shares, and its transactions.

One connection per process, shared by threads (the channels call in from asyncio.to_thread),
with writers serialised by a lock and each event's writes in one BEGIN IMMEDIATE transaction
(the whole file is the lock, so a claim needs no row locks here). Transactions nest: an inner
`transaction()` is a SAVEPOINT, so a store method that needs its own transaction can be called
inside a bigger one and still commits with it, or not at all. WAL keeps readers unblocked;
`synchronous=NORMAL` in WAL is still durable against a process crash (the case the bot
promises: an acknowledged answer is never lost).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlite_utils import Database

try:
    import fcntl
except ImportError:  # not on Windows: SQLite's own retries only
    fcntl = None  # type: ignore[assignment]

from bot.storage.errors import StorageError, StorageWriteError
from bot.storage.migrations import migrations


class SQLiteDialect:
    """What the portable store SQL leaves to the backend (see postgres.py for the other)."""

    name = "sqlite"
    lock_row = ""
    """Appended to a SELECT whose rows the transaction will change: BEGIN IMMEDIATE already
    holds the whole file, so nothing to add."""
    skip_locked = ""
    now_epoch = "((julianday('now') - 2440587.5) * 86400.0)"
    """The database's clock in Unix seconds (fractions included)."""


class SQLiteBackend:
    """The database file, opened (and checked, and migrated) once."""

    dialect = SQLiteDialect

    def __init__(self, path: str | Path, *, migrate: bool = True) -> None:
        self.path = str(path)
        self.name = self.path
        self._lock = threading.RLock()
        self._turn_fd: int | None = None
        self._depth = 0
        """How many transactions the thread holding the lock is inside (0: none)."""
        self.db = _open(self.path)  # refuses a newer or foreign database before changing it
        if migrate:
            self.apply_migrations()

    def close(self) -> None:
        self.db.conn.close()
        if self._turn_fd is not None:
            os.close(self._turn_fd)
            self._turn_fd = None

    @contextmanager
    def _between_processes(self) -> Iterator[None]:
        """The write turn among processes sharing the file (`--workers`), as a lock on a file
        beside it (`<database>-lock`). SQLite alone makes a writer that finds the file locked
        by another process sleep and retry (1, 2, 5, 10 ms ...), and this process's other
        threads wait behind it: two workers spent a third of a core asleep. Waiting here, in
        the kernel, the writer wakes the moment the other process is done. SQLite's own locking
        still decides; where no lock file can be made (a read-only folder, no fcntl) this is
        skipped."""
        if fcntl is None or self.path == ":memory:":
            yield
            return
        if self._turn_fd is None:
            try:
                self._turn_fd = os.open(self.path + "-lock", os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:
                yield
                return
        fcntl.flock(self._turn_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._turn_fd, fcntl.LOCK_UN)

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        return self.db.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.db.conn.executemany(sql, rows)

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """One writer at a time; everything inside commits together or not at all.

        Re-entrant, as sqlite-utils' `atomic()` is: inside a transaction (same thread: the lock
        is held) it opens a SAVEPOINT, whose failure undoes only its own writes before the
        error goes on; the outermost one commits. A failure of the disk or the file (full, I/O
        error, read-only, locked too long) becomes StorageWriteError after a rollback, so callers
        can tell the user to try again; any other error is a bug and is raised as it is."""
        with self._lock:
            if self._depth:
                yield from self._savepoint()
                return
            self._depth = 1
            try:
                with self._between_processes():
                    yield from self._outermost()
            finally:
                self._depth = 0

    def _outermost(self) -> Iterator[Database]:
        from bot.storage.checks import rollback

        conn = self.db.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                rollback(conn)
                raise
            conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            rollback(conn)  # a failed COMMIT can leave the transaction open
            failure = _write_error(self.path, exc)
            if failure is None:
                raise
            raise failure from exc

    def _savepoint(self) -> Iterator[Database]:
        conn = self.db.conn
        name = f"nested_{self._depth}"
        self._depth += 1
        try:
            conn.execute(f"SAVEPOINT {name}")
            try:
                yield self.db
            except BaseException:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
                raise
            conn.execute(f"RELEASE {name}")
        finally:
            self._depth -= 1

    @contextmanager
    def reading(self) -> Iterator[Database]:
        """Reads from other threads wait for a running write: one connection is shared, and
        without the lock a reader could see another thread's uncommitted rows. A failure of
        the disk or the file becomes StorageError, as in `transaction`; a bug is raised as it
        is."""
        with self._lock:
            try:
                yield self.db
            except sqlite3.DatabaseError as exc:
                from bot.storage.checks import write_failure

                reason = write_failure(exc)
                if reason is None:
                    raise
                raise StorageError(f"cannot read the database {self.path}: {reason}") from exc

    @contextmanager
    def snapshot(self) -> Iterator[Database]:
        """Reads that must agree with each other (a copy): one transaction holds the file."""
        with self.transaction() as db:
            yield db

    # ---- what the operator commands ask -------------------------------------------------
    def applied_migrations(self) -> list[str]:
        from bot.storage.checks import MIGRATIONS_TABLE

        with self.reading():
            if not self.db[MIGRATIONS_TABLE].exists():
                return []
            rows = self.execute(
                f"select name from {MIGRATIONS_TABLE} where migration_set = ? order by rowid",
                (migrations.name,),
            )
            return [row[0] for row in rows]

    def apply_migrations(self) -> None:
        try:
            migrations.apply(self.db)
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"cannot prepare the database {self.path}: {exc}") from exc

    def columns(self) -> dict[str, list[str]]:
        """Every table and its columns, as the file has them."""
        with self.reading():
            return {
                table.name: [column.name for column in table.columns] for table in self.db.tables
            }

    def integrity_problems(self) -> list[str]:
        with self.reading():
            found = [row[0] for row in self.execute("pragma integrity_check")]
            problems = [] if found == ["ok"] else found[:3]
            broken = self.execute("pragma foreign_key_check").fetchall()
            if broken:
                tables = sorted({row[0] for row in broken})
                problems.append(f"{len(broken)} rows point at rows that are gone (in {tables})")
            return problems

    def server_version(self) -> str:
        return f"SQLite {sqlite3.sqlite_version}"

    def reset_sequences(self, tables: Iterable[str]) -> None:
        """SQLite numbers new rows after the largest rowid: nothing to move."""


def _open(path: str) -> Database:
    if path != ":memory:":
        target = Path(path)
        if target.is_dir():
            raise StorageError(f"the database path {path} is a directory, not a file")
        if not target.parent.exists():
            raise StorageError(
                f"cannot open the database {path}: the folder {target.parent} does not exist"
            )
        _refuse_unknown_schema(path)
    try:
        # isolation_level=None: no implicit transactions; transaction() is explicit
        conn = sqlite3.connect(path, timeout=10, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA foreign_keys = ON")
        if path != ":memory:":
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StorageError(f"cannot switch {path} to WAL mode (got {mode})")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("select count(*) from sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"cannot open the database {path}: {_reason(exc)}") from exc
    return Database(conn)


def _reason(exc: sqlite3.DatabaseError) -> str:
    text = str(exc)
    if "not a database" in text or "malformed" in text:
        return "the file is not a valid SQLite database (corrupt, or another kind of file)"
    if "readonly" in text or "unable to open" in text:
        return "no permission to read or write it there"
    from bot.storage.checks import write_failure

    return write_failure(exc) or text


# ---- refusing what we must not change, and failed writes ---------------------------------
def _refuse_unknown_schema(path: str) -> None:
    """Refused before `_open` switches the file to WAL or migrates it: the file stays as it was."""
    from bot.storage.checks import schema_refusal

    known = [migration.name for migration in migrations._migrations]
    try:
        problem = schema_refusal(path, migrations.name, known)
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"cannot open the database {path}: {_reason(exc)}") from exc
    if problem is not None:
        raise StorageError(problem)


def _write_error(path: str, exc: sqlite3.DatabaseError) -> StorageWriteError | None:
    from bot.storage.checks import write_failure

    reason = write_failure(exc)
    if reason is None:
        return None
    return StorageWriteError(f"cannot save to the database {path}: {reason}")
