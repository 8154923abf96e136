"""The one SQLite connection a process shares, and its transactions.

One connection per process, shared by threads (the channels call in from asyncio.to_thread),
with writers serialised by a lock and each event's writes in one BEGIN IMMEDIATE transaction.
Transactions nest: an inner `transaction()` is a SAVEPOINT, so a store method that needs its own
transaction can be called inside a bigger one and still commits with it, or not at all. WAL keeps
readers unblocked; `synchronous=NORMAL` in WAL is still durable against a process crash (the case
the bot promises: an acknowledged answer is never lost).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from bot.storage.errors import StorageError, StorageWriteError
from bot.storage.migrations import migrations


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Connection:
    """The database file, opened (and checked, and migrated) once; the base of every store."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self._depth = 0
        """How many transactions the thread holding the lock is inside (0: none)."""
        self.db = _open(self.path)  # refuses a newer or foreign database before changing it
        try:
            migrations.apply(self.db)
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"cannot prepare the database {self.path}: {exc}") from exc

    def close(self) -> None:
        self.db.conn.close()

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
            from bot.storage.checks import rollback

            conn = self.db.conn
            self._depth = 1
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
            finally:
                self._depth = 0

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
        without the lock a reader could see another thread's uncommitted rows."""
        with self._lock:
            yield self.db

    def ping(self) -> None:
        """Raise StorageError when the database does not answer or its schema is not exactly
        the one this version knows: a load balancer's readiness check (/readyz) takes such a
        worker out before it fails requests (a closed file, a newer maturity-bot that migrated
        the database under a running older one). A read under the lock, cheap."""
        from bot.storage.checks import MIGRATIONS_TABLE

        try:
            with self.reading():
                applied = {
                    row[0]
                    for row in self.db.execute(
                        f"select name from {MIGRATIONS_TABLE} where migration_set = ?",
                        (migrations.name,),
                    )
                }
        except sqlite3.Error as exc:
            raise StorageError(f"the database does not answer ({type(exc).__name__})") from exc
        known = {migration.name for migration in migrations._migrations}
        if applied - known:
            raise StorageError("the database schema is newer than this maturity-bot")
        if known - applied:
            raise StorageError("the database schema is older than this maturity-bot")

    def _one(self, sql: str, params: tuple) -> tuple | None:
        return self.db.execute(sql, params).fetchone()


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
        # isolation_level=None: no implicit transactions; Storage.transaction() is explicit
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
