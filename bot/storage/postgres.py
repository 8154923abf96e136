"""The PostgreSQL backend: a pool of connections (psycopg 3), one per thread while it works.

Several threads, and several processes on several machines, write at once; the database
keeps them apart, not a lock in this process. A thread's `transaction()` or `reading()` takes
one pooled connection and keeps it until the outermost block ends, so every statement of an
event, the store methods called inside it included, runs on that connection and in that
transaction; inner blocks are SAVEPOINTs (psycopg's nested transactions). Statements outside
any block run alone in autocommit.

What SQLite gets from its file lock, PostgreSQL gets from row locks: the rows a claim changes
are locked by the UPDATE itself (a rival waits, then re-reads the row and counts 0), a user's
row is locked for the length of an event (`lock_row`), and a batch of due rows is claimed with
`FOR UPDATE SKIP LOCKED`, so two workers never take the same row nor wait for each other.

The store SQL is written with SQLite's placeholders (`?`, `:name`); `translate` rewrites them
once per statement text. A failure of the server or the network (psycopg's OperationalError,
the pool's timeout) becomes StorageWriteError inside a transaction (the user is told it was
not saved, as for a full disk on SQLite) and StorageError outside; the URL's password is never
in a message.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from bot.storage import pg_schema
from bot.storage.errors import StorageError, StorageWriteError

POOL_SIZE = 24
"""Connections a process keeps at most: the Slack work pool (8 threads by default, each with
its request's replay check and event), the pulse's threads and Telegram's concurrent updates
each hold one while they work. PostgreSQL's default max_connections (100) leaves room for
several workers."""
POOL_WAIT = 5
"""Seconds a thread waits for a free connection (or a server to come back) before its event
is refused as not saved: longer, and a user whose server is gone waits for nothing."""
FAIL_FAST_SECONDS = 2.0
"""After the server refused a connection, what asks for one within this long does not wait
POOL_WAIT for the pool again: it tries one connection of its own at once, which a server still
away refuses at once (and one that is back accepts). A message whose handling reads several
times costs its sender one wait, not one per read, before they are told it was not saved."""
CONNECT_TIMEOUT = 10
"""Each connection is checked as it leaves the pool (one empty round trip): after a server
restart or a failover, idle connections are dead, and without the check each would fail one
user's event before the pool noticed."""

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class PostgresDialect:
    name = "postgresql"
    lock_row = " for update"
    skip_locked = " for update skip locked"
    now_epoch = "cast(extract(epoch from clock_timestamp()) as double precision)"


@lru_cache(maxsize=512)
def translate(sql: str) -> str:
    """SQLite's placeholders in psycopg's: `?` is `%s`, `:name` is `%(name)s`, `%` is `%%`."""
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%").replace("?", "%s"))


def redact(url: str) -> str:
    """The URL as messages show it: no password, in the address or among the parameters."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc.rpartition("@")
        host = netloc[2]
        user = netloc[0].partition(":")[0]
        query = [(k, v) for k, v in parse_qsl(parts.query) if k.lower() != "password"]
        return urlunsplit(
            (parts.scheme, f"{user}@{host}" if user else host, parts.path, urlencode(query), "")
        )
    except ValueError:
        return "(a PostgreSQL URL that cannot be read)"


class Rows:
    """A statement's result, read to the end so the connection can go back to the pool."""

    def __init__(self, cursor: psycopg.Cursor) -> None:
        self.rowcount = cursor.rowcount
        self.description = (
            [(column.name,) for column in cursor.description] if cursor.description else None
        )
        self._rows = cursor.fetchall() if cursor.description else []
        self._next = 0

    def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Any]:
        rest, self._next = self._rows[self._next :], len(self._rows)
        return rest

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class _Bound(threading.local):
    conn: psycopg.Connection | None = None
    depth = 0


class PostgresBackend:
    dialect = PostgresDialect

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.name = redact(url)
        self._password = urlsplit(url).password or ""
        self._bound = _Bound()
        self._refused_at = float("-inf")
        """When the server last refused a connection (see FAIL_FAST_SECONDS)."""
        with self._connect() as conn:
            try:
                problem = pg_schema.refusal(conn, self.name)
                if problem is not None:
                    raise StorageError(problem)
                if migrate:
                    pg_schema.apply(conn)
            except psycopg.Error as exc:
                reason = self._reason(exc)
                raise StorageError(f"cannot prepare the database {self.name}: {reason}") from None
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=POOL_SIZE,
            timeout=POOL_WAIT,
            check=ConnectionPool.check_connection,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT},
            open=True,
            name="maturity-bot",
        )

    def _connect(self) -> psycopg.Connection:
        try:
            return psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
        except psycopg.Error as exc:
            raise StorageError(
                f"MATURITY_DB: cannot connect to the PostgreSQL database {self.name}: "
                f"{self._reason(exc)}"
            ) from None

    def _reason(self, exc: BaseException) -> str:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        text = lines[0] if lines else type(exc).__name__
        return text.replace(self._password, "***") if self._password else text

    def _failure(self, exc: BaseException, *, writing: bool) -> StorageError:
        if writing:
            reason = self._reason(exc)
            return StorageWriteError(f"cannot save to the database {self.name}: {reason}")
        return StorageError(f"cannot read the database {self.name}: {self._reason(exc)}")

    def close(self) -> None:
        self.pool.close()

    # ---- connections, transactions, statements ------------------------------------------
    @contextmanager
    def _connection(self, *, writing: bool) -> Iterator[psycopg.Connection]:
        """This thread's connection: the one its outer block holds, or one from the pool.

        When the pool has none to give in time, one of its own, for this block: the pool backs
        off between attempts while a server is away (1, 2, 4, 8 s ...), so after the server
        came back it can still be asleep, and the next event should not fail for that (nor
        under a burst that holds every pooled connection). A server that is still away
        refuses that connection at once."""
        bound = self._bound
        if bound.conn is not None:
            yield bound.conn
            return
        wait = POOL_WAIT
        if time.monotonic() - self._refused_at < FAIL_FAST_SECONDS:
            wait = 0.01  # the server refused moments ago: straight to a connection of our own
        entered = False
        try:
            with self.pool.connection(timeout=wait) as conn:
                entered = True
                bound.conn = conn
                try:
                    yield conn
                finally:
                    bound.conn = None
            return
        except PoolTimeout:
            if entered:
                raise
        except psycopg.OperationalError as exc:
            raise self._failure(exc, writing=writing) from exc
        try:
            own = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
        except psycopg.OperationalError as exc:
            self._refused_at = time.monotonic()
            raise self._failure(exc, writing=writing) from exc
        with own:
            bound.conn = own
            try:
                yield own
            finally:
                bound.conn = None

    @contextmanager
    def transaction(self) -> Iterator[PostgresBackend]:
        with self._connection(writing=True) as conn:
            bound = self._bound
            bound.depth += 1
            try:
                with conn.transaction():
                    yield self
            except psycopg.OperationalError as exc:
                raise self._failure(exc, writing=True) from exc
            finally:
                bound.depth -= 1

    @contextmanager
    def reading(self) -> Iterator[PostgresBackend]:
        with self._connection(writing=False):
            yield self

    @contextmanager
    def snapshot(self) -> Iterator[PostgresBackend]:
        """Reads that must agree with each other (a copy): one repeatable-read transaction."""
        with self.transaction():
            self.execute("set transaction isolation level repeatable read")
            yield self

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Rows:
        writing = self._bound.depth > 0
        with self._connection(writing=writing) as conn:
            try:
                return Rows(conn.execute(translate(sql), params))
            except psycopg.OperationalError as exc:
                raise self._failure(exc, writing=writing) from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = list(rows)
        if not batch:
            return
        with self._connection(writing=True) as conn:
            try:
                with conn.cursor() as cursor:
                    cursor.executemany(translate(sql), batch)
            except psycopg.OperationalError as exc:
                raise self._failure(exc, writing=True) from exc

    # ---- what the operator commands ask -------------------------------------------------
    def applied_migrations(self) -> list[str]:
        with self._connection(writing=False) as conn:
            return pg_schema.applied(conn)

    def apply_migrations(self) -> list[str]:
        with self._connection(writing=True) as conn:
            return pg_schema.apply(conn)

    def columns(self) -> dict[str, list[str]]:
        rows = self.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = current_schema() order by table_name, ordinal_position"
        ).fetchall()
        found: dict[str, list[str]] = {}
        for table, column in rows:
            found.setdefault(table, []).append(column)
        return found

    def integrity_problems(self) -> list[str]:
        """The server keeps rows and keys consistent itself; what can still be wrong is an
        index a failed CREATE INDEX CONCURRENTLY left invalid, or a key not yet validated."""
        problems = [
            f"index {row[0]} is not valid (rebuild it with REINDEX)"
            for row in self.execute(
                "select c.relname from pg_index i join pg_class c on c.oid = i.indexrelid "
                "join pg_namespace n on n.oid = c.relnamespace "
                "where n.nspname = current_schema() and not i.indisvalid"
            )
        ]
        problems += [
            f"constraint {row[0]} is not validated"
            for row in self.execute(
                "select conname from pg_constraint c join pg_namespace n "
                "on n.oid = c.connamespace where n.nspname = current_schema() "
                "and not c.convalidated"
            )
        ]
        return problems

    def server_version(self) -> str:
        version = self.execute("show server_version").fetchone()[0]
        return f"PostgreSQL {version.split()[0]}"

    def reset_sequences(self, tables: Iterable[str]) -> None:
        """After rows were copied in with their own numbers, new rows are numbered after them."""
        wanted = set(tables)
        for table, column in self.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = current_schema() and is_identity = 'YES'"
        ).fetchall():
            if table in wanted:
                self.execute(
                    f"select setval(pg_get_serial_sequence(?, ?), "
                    f"coalesce(max({column}), 0) + 1, false) from {table}",
                    (table, column),
                )
