"""The database a process uses, whichever backend holds it: the base of every store.

The stores (assessments.py, personal.py, pulses.py) hold ONE set of SQL for both backends,
written in the subset SQLite and PostgreSQL share: `?` and `:name` placeholders (PostgreSQL's
backend rewrites them), `INSERT ... ON CONFLICT ... DO UPDATE/NOTHING`, `RETURNING`, and
ISO-8601 UTC text for times (the same order and comparisons on both, and a copy moves them
unchanged). The few words that differ are the dialect's (`lock_row`, `skip_locked`,
`now_epoch`). Tables without a whole-number key have a `rowid` on both (SQLite's own, a
numbered column on PostgreSQL), so "in the order they were written" reads the same.

`MATURITY_DB` chooses: a path is a SQLite file (sqlite.py), a `postgresql://` URL a
PostgreSQL database (postgres.py, loaded only then). Nothing outside bot/storage knows which.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from bot.storage.sqlite import SQLiteBackend

URL_SCHEMES = ("postgresql://", "postgres://")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def is_url(target: str | Path) -> bool:
    """A PostgreSQL URL (a Path cannot be one: it folds the `//`)."""
    return isinstance(target, str) and target.strip().lower().startswith(URL_SCHEMES)


class Cursor(Protocol):
    rowcount: int
    description: Any

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Backend(Protocol):
    """What a backend gives the stores: statements, transactions that nest, and reads."""

    name: str
    dialect: Any

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Cursor: ...
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...
    def transaction(self) -> AbstractContextManager[Any]: ...
    def reading(self) -> AbstractContextManager[Any]: ...
    def close(self) -> None: ...


def open_backend(target: str | Path, *, migrate: bool = True) -> Any:
    """The backend for `target`: checked (a newer or foreign database is refused untouched)
    and, unless `migrate` is false, brought to this version's schema."""
    if is_url(target):
        from bot.storage.postgres import PostgresBackend

        return PostgresBackend(str(target).strip(), migrate=migrate)
    return SQLiteBackend(target, migrate=migrate)


class Connection:
    """The database, opened once per process; stores run their SQL through it."""

    def __init__(self, target: str | Path, *, migrate: bool = True) -> None:
        self.backend = open_backend(target, migrate=migrate)
        self.path = self.backend.name
        """How messages name the database (a URL without its password)."""
        self.dialect = self.backend.dialect

    @property
    def db(self) -> Any:
        """SQLite: the sqlite-utils Database (tests and benches read the file through it)."""
        return self.backend.db

    def close(self) -> None:
        self.backend.close()

    def transaction(self) -> AbstractContextManager[Any]:
        """Everything inside commits together or not at all; nests as a SAVEPOINT. A failure
        of the environment (disk, server gone) is StorageWriteError after a rollback."""
        return self.backend.transaction()

    def reading(self) -> AbstractContextManager[Any]:
        """Reads that see only committed rows (and on SQLite wait for a running write)."""
        return self.backend.reading()

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Cursor:
        """One statement in the portable SQL, in the caller's transaction when there is one."""
        return self.backend.execute(sql, params)

    def _one(self, sql: str, params: Sequence[Any] | dict[str, Any]) -> Any:
        return self.backend.execute(sql, params).fetchone()

    def _rows(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        """A query run to completion inside `reading()`, as dicts by column name."""
        with self.reading():
            cursor = self.backend.execute(sql, params)
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    # ---- readiness ----------------------------------------------------------------------
    def ping(self) -> bool:
        """True when the database answers a query now (a readiness probe)."""
        try:
            with self.reading():
                return self.backend.execute("select 1").fetchone()[0] == 1
        except Exception:  # noqa: BLE001 - any failure, ours or the driver's, means "not ready"
            return False

    def schema_current(self) -> bool:
        """True when every migration this version knows is applied (none missing, none new)."""
        from bot.storage.migrations import migrations

        try:
            applied = self.backend.applied_migrations()
        except Exception:  # noqa: BLE001 - unreadable is not current
            return False
        return set(applied) == {migration.name for migration in migrations._migrations}
