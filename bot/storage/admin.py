"""`maturity-bot db migrate | check | copy`: the operator's commands, on either backend.

What a database should hold is not written down twice: `reference()` applies the migration
steps to an empty in-memory SQLite database and reads back its tables, columns, keys and
foreign keys. `check` compares a database against it, and `copy` takes its table order
(every table after the tables it points at) and each table's numbering column from it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.storage.checks import MIGRATIONS_TABLE
from bot.storage.connection import Connection
from bot.storage.errors import StorageError
from bot.storage.migrations import SCHEMA_VERSION, migrations

BATCH = 1000
"""Rows read and written at a time by `copy`: memory stays flat at any size."""
Say = Callable[[str], None]


@dataclass(frozen=True)
class TableShape:
    name: str
    columns: tuple[str, ...]
    key: str
    """The column that numbers the rows: the whole-number primary key, or else `rowid`."""
    parents: tuple[str, ...]


@lru_cache(maxsize=1)
def reference() -> tuple[TableShape, ...]:
    """Every table of the current schema, each after the tables its foreign keys point at."""
    from bot.storage.sqlite import SQLiteBackend

    backend = SQLiteBackend(":memory:")
    try:
        shapes = {}
        for table in backend.db.tables:
            if table.name == MIGRATIONS_TABLE:
                continue
            pks = table.pks
            numbered = len(pks) == 1 and table.columns_dict[pks[0]] is int
            shapes[table.name] = TableShape(
                table.name,
                tuple(column.name for column in table.columns),
                pks[0] if numbered else "rowid",
                tuple(sorted({fk.other_table for fk in table.foreign_keys} - {table.name})),
            )
    finally:
        backend.close()
    ordered: list[TableShape] = []
    placed: set[str] = set()
    while len(ordered) < len(shapes):
        ready = sorted(
            name
            for name, shape in shapes.items()
            if name not in placed and set(shape.parents) <= placed
        )
        for name in ready:
            ordered.append(shapes[name])
            placed.add(name)
    return tuple(ordered)


def cmd_db(args: argparse.Namespace, default: str | Path, say: Say = print) -> int:
    if args.db_command == "migrate":
        return migrate(args.db or default, say)
    if args.db_command == "check":
        return check(args.db or default, say)
    return copy(args.source, args.target, replace=args.replace, say=say)


def migrate(target: str | Path, say: Say = print) -> int:
    """Bring the database to this version's schema (what every command does on start)."""
    database = Connection(target, migrate=False)  # a newer or foreign database is refused
    try:
        before = set(database.backend.applied_migrations())
        database.backend.apply_migrations()
        after = database.backend.applied_migrations()
    finally:
        database.close()
    done = [name for name in after if name not in before]
    say(f"database: {database.path}")
    say(f"applied: {', '.join(done)}" if done else "applied: nothing, the schema was current")
    say(f"schema: version {len(after)} of {SCHEMA_VERSION}")
    return 0


def check(target: str | Path, say: Say = print) -> int:
    """Schema version and integrity, one line each; exit code 2 when either is not right.
    Nothing is written: a database behind this version is reported, not migrated."""
    database = Connection(target, migrate=False)
    try:
        backend = database.backend
        say(f"database: {database.path} ({backend.server_version()})")
        applied = backend.applied_migrations()
        known = [migration.name for migration in migrations._migrations]
        missing = [name for name in known if name not in applied]
        current = not missing
        if current:
            say(f"schema: version {len(applied)} of {SCHEMA_VERSION} (current)")
        else:
            say(
                f"schema: version {len(known) - len(missing)} of {SCHEMA_VERSION}: "
                f"{len(missing)} change(s) to apply, run maturity-bot db migrate"
            )
        problems = backend.integrity_problems()
        if current:
            problems += _shape_problems(backend.columns())
        if problems:
            say(f"integrity: {'; '.join(problems)}")
        else:
            say(f"integrity: ok ({len(reference())} tables)")
    finally:
        database.close()
    return 0 if current and not problems else 2


def _shape_problems(found: dict[str, list[str]]) -> list[str]:
    problems = []
    for shape in reference():
        if shape.name not in found:
            problems.append(f"table {shape.name} is missing")
            continue
        absent = [column for column in shape.columns if column not in found[shape.name]]
        if absent:
            problems.append(f"table {shape.name} lacks {', '.join(absent)}")
    return problems


def copy(source: str | Path, target: str | Path, *, replace: bool = False, say: Say = print) -> int:
    """Copy every row of `source` into `target` (both migrated to this version first), in one
    transaction on the target, and compare the counts per table before it commits: a copy
    that does not add up leaves the target as it was. A target that holds data is refused
    unless `replace` (its rows are deleted first, in the same transaction)."""
    origin = Connection(source)
    try:
        destination = Connection(target)
    except BaseException:
        origin.close()
        raise
    try:
        if origin.path == destination.path:
            raise StorageError(f"--from and --to are the same database ({origin.path})")
        shapes = reference()
        held = {shape.name: _count(destination, shape.name) for shape in shapes}
        if any(held.values()) and not replace:
            listed = ", ".join(f"{name}: {count}" for name, count in held.items() if count)
            raise StorageError(
                f"the target {destination.path} already holds data ({listed}); it was left "
                "unchanged: copy into an empty database, or add --replace to delete its rows first"
            )
        counts: list[tuple[str, int, int]] = []
        with origin.backend.snapshot(), destination.transaction():
            for shape in reversed(shapes):
                if held[shape.name]:
                    destination.execute(f"delete from {shape.name}")
            for shape in shapes:
                _copy_table(origin, destination, shape)
            destination.backend.reset_sequences(shape.name for shape in shapes)
            for shape in shapes:
                counts.append(
                    (shape.name, _count(origin, shape.name), _count(destination, shape.name))
                )
            wrong = [f"{name} {a} -> {b}" for name, a, b in counts if a != b]
            if wrong:
                raise StorageError(f"the copy does not add up ({'; '.join(wrong)}); nothing kept")
    finally:
        origin.close()
        destination.close()
    say(f"copied {origin.path} -> {destination.path}")
    for name, rows, copied in counts:
        say(f"{name:<20} {rows:>9} {copied:>9}  ok")
    say(f"{sum(row[1] for row in counts)} rows in {len(counts)} tables, counts equal")
    return 0


def _count(database: Connection, table: str) -> int:
    with database.reading():
        return database.execute(f"select count(*) from {table}").fetchone()[0]


def _copy_table(origin: Connection, destination: Connection, shape: TableShape) -> None:
    """In batches ordered by the numbering column, which goes along (SQLite's rowid is a
    column on PostgreSQL), so the order rows were written in survives the move."""
    columns = list(dict.fromkeys([shape.key, *shape.columns]))
    names = ", ".join(columns)
    insert = f"insert into {shape.name} ({names}) values ({', '.join('?' for _ in columns)})"
    last = None
    while True:
        after = "" if last is None else f"where {shape.key} > ? "
        rows = origin.execute(
            f"select {names} from {shape.name} {after}order by {shape.key} limit {BATCH}",
            () if last is None else (last,),
        ).fetchall()
        if not rows:
            return
        destination.backend.executemany(insert, [tuple(row) for row in rows])
        last = rows[-1][0]
