"""Checks on a database file before maturity-bot writes a single byte to it.

Opening switches the file to WAL and applies our migrations. Doing that to a database a newer
maturity-bot wrote would crash later with "no such column", and doing it to another program's
database would change a file that is not ours. So the file is first read through a read-only
connection, and refused (left byte for byte as it was) when its schema is not one we know.

The classification of SQLite errors raised while writing lives here too: it decides which
failures the user is told about ("could not be saved, try again") and which are bugs to raise.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from contextlib import closing, suppress
from pathlib import Path

MIGRATIONS_TABLE = "_sqlite_migrations"
"""Where sqlite-utils records applied migrations: (id, migration_set, name, applied_at)."""

_WAL_FORMAT = 2
"""File header bytes 18 and 19 (read and write version): 2 means the file is in WAL mode."""


def schema_refusal(path: str, migration_set: str, known: Collection[str]) -> str | None:
    """Why the existing database at `path` must not be opened, or None when it may be.

    A missing or empty file, or one without tables, is a new database: ours to set up. Raises
    sqlite3.DatabaseError when the file cannot be read as SQLite at all (the caller words it).
    """
    target = Path(path)
    if not target.is_file() or target.stat().st_size == 0:
        return None
    with closing(sqlite3.connect(_read_only_uri(target), uri=True, timeout=10)) as conn:
        tables = {
            row[0]
            for row in conn.execute(
                "select name from sqlite_master where type = 'table' and name not like 'sqlite_%'"
            )
        }
        if not tables:
            return None
        columns = {row[1] for row in conn.execute(f"pragma table_info({MIGRATIONS_TABLE})")}
        names: list[str] = []
        if {"migration_set", "name"} <= columns:
            names = [
                row[0]
                for row in conn.execute(
                    f"select name from {MIGRATIONS_TABLE} where migration_set = ? order by rowid",
                    (migration_set,),
                )
            ]
    return refusal(path, tables, names, MIGRATIONS_TABLE, known)


def refusal(
    name: str, tables: Collection[str], applied: list[str], own: str, known: Collection[str]
) -> str | None:
    """Why the database `name` (holding `tables`, having `applied` our steps recorded in
    its table `own`) must not be used, or None: the words of both backends."""
    if not tables:
        return None
    if not applied:
        others = _listed(sorted(set(tables) - {own}) or sorted(tables))
        return (
            f"the database {name} is not a maturity-bot database (it holds other tables: "
            f"{others}); it was left unchanged: use another MATURITY_DB or --db"
        )
    unknown = [step for step in applied if step not in known]
    if unknown:
        return (
            f"the database {name} was written by a newer maturity-bot (changes this version "
            f"does not know: {_listed(unknown)}); it was left unchanged: upgrade maturity-bot "
            f"or use another MATURITY_DB or --db"
        )
    return None


def _read_only_uri(target: Path) -> str:
    """A read-only URI. A WAL file with no -wal beside it was closed cleanly, so its main file
    is complete: `immutable` reads it without making -wal and -shm files next to it."""
    uri = target.absolute().as_uri() + "?mode=ro"
    with target.open("rb") as file:
        header = file.read(20)
    wal_mode = len(header) == 20 and header[18] == _WAL_FORMAT
    if wal_mode and not Path(f"{target}-wal").exists():
        uri += "&immutable=1"
    return uri


def _listed(names: list[str], most: int = 3) -> str:
    """A few names on one line, whatever characters another program put in them."""
    shown = [" ".join(str(name).split()) for name in names[:most]]
    return ", ".join(shown) + (f" and {len(names) - most} more" if len(names) > most else "")


WRITE_FAILURES = {
    sqlite3.SQLITE_FULL: "the disk is full (or the file reached its size limit)",
    sqlite3.SQLITE_IOERR: "the disk could not be written (I/O error)",
    sqlite3.SQLITE_READONLY: "the database file is read-only",
    sqlite3.SQLITE_BUSY: "the database is locked by another program",
    sqlite3.SQLITE_LOCKED: "the database is locked",
    sqlite3.SQLITE_CANTOPEN: "the database file cannot be opened any more",
    sqlite3.SQLITE_CORRUPT: "the database file is damaged",
    sqlite3.SQLITE_NOTADB: "the database file is damaged",
    sqlite3.SQLITE_NOMEM: "out of memory",
    sqlite3.SQLITE_PROTOCOL: "the database is locked",
}
"""Failures of the environment (disk, permissions, other programs), by SQLite's primary code.
Anything else (a constraint, a missing column) is a bug and must not be called 'try again'."""


def write_failure(exc: BaseException) -> str | None:
    """Why a write failed, in words, when the cause is the environment; None for a bug."""
    if not isinstance(exc, sqlite3.OperationalError) and type(exc) is not sqlite3.DatabaseError:
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return None
    return WRITE_FAILURES.get(code & 0xFF)


def rollback(conn: sqlite3.Connection) -> None:
    """Best effort: when even ROLLBACK fails, SQLite has already rolled back or will on the
    next open (an uncommitted WAL tail is never read), and the first error is the one to tell."""
    if conn.in_transaction:
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
