"""SQLite storage with sqlite-utils: users, conversations, assessments, answers, results.

One connection per process, shared by threads (the channels call in from asyncio.to_thread),
with writers serialised by a lock and each event's writes in one BEGIN IMMEDIATE transaction.
WAL keeps readers unblocked; `synchronous=NORMAL` in WAL is still durable against a process
crash (the case the bot promises: an acknowledged answer is never lost).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database, Migrations

from flows.engine import Conversation, OpenAssessment
from flows.initiatives import Initiative, NewInitiative
from flows.results import PastResult, StoredResult


class StorageError(Exception):
    """The database cannot be used; the message says which file and why, for the user."""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


migrations = Migrations("maturity-bot")


@migrations()
def m001_initial(db: Database) -> None:
    db["users"].create(
        {
            "id": int,
            "channel": str,
            "external_id": str,
            "lang": str,
            "display_name": str,
            "created_at": str,
        },
        pk="id",
        not_null={"channel", "external_id", "lang", "created_at"},
    )
    db["users"].create_index(["channel", "external_id"], unique=True)
    db["conversations"].create(
        {
            "user_id": int,
            "state": str,
            "model_id": str,
            "assessment_id": str,
            "question_id": str,
            "updated_at": str,
        },
        pk="user_id",
        foreign_keys=[("user_id", "users", "id")],
        not_null={"state", "updated_at"},
    )
    db["assessments"].create(
        {
            "id": str,
            "user_id": int,
            "model_id": str,
            "status": str,
            "started_at": str,
            "finished_at": str,
        },
        pk="id",
        foreign_keys=[("user_id", "users", "id")],
        not_null={"user_id", "model_id", "status", "started_at"},
    )
    db["assessments"].create_index(["user_id", "status"])
    db["answers"].create(
        {
            "assessment_id": str,
            "question_id": str,
            "option_id": str,
            "answered_at": str,
        },
        pk=("assessment_id", "question_id"),
        foreign_keys=[("assessment_id", "assessments", "id")],
        not_null={"answered_at"},
    )
    db["results"].create(
        {
            "assessment_id": str,
            "user_id": int,
            "model_id": str,
            "phase_id": str,
            "pillar_levels": str,
            "detail": str,
            "created_at": str,
        },
        pk="assessment_id",
        foreign_keys=[("assessment_id", "assessments", "id"), ("user_id", "users", "id")],
        not_null={"user_id", "model_id", "phase_id", "detail", "created_at"},
    )
    db["results"].create_index(["user_id", "created_at"])
    db["processed_events"].create(
        {"channel": str, "event_key": str, "processed_at": str},
        pk=("channel", "event_key"),
    )


@migrations()
def m002_initiatives(db: Database) -> None:
    db["initiatives"].create(
        {
            "id": int,
            "user_id": int,
            "name": str,
            "channel_name": str,
            "objective": str,
            "goal": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("user_id", "users", "id")],
        not_null={"user_id", "name", "channel_name", "objective", "created_at"},
    )
    db["initiatives"].create_index(["user_id"])


@migrations()
def m003_pulse(db: Database) -> None:
    """Teams, their pulse schedule, rounds and invitations; aggregates only ever leave here."""
    db["teams"].create(
        {
            "id": int,
            "channel": str,
            "external_id": str,
            "name": str,
            "created_by": str,
            "created_at": str,
        },
        pk="id",
        not_null={"channel", "external_id", "created_at"},
    )
    db["teams"].create_index(["channel", "external_id"], unique=True)
    db["team_members"].create(
        {"team_id": int, "member": str, "joined_at": str},
        pk=("team_id", "member"),
        foreign_keys=[("team_id", "teams", "id")],
    )
    db["pulses"].create(
        {
            "team_id": int,
            "model_id": str,
            "cadence": str,
            "weekday": int,
            "hour": int,
            "minute": int,
            "timezone": str,
            "status": str,
            "next_run_at": str,
            "lang": str,
            "created_by": str,
            "created_at": str,
        },
        pk="team_id",
        foreign_keys=[("team_id", "teams", "id")],
        not_null={"model_id", "cadence", "status", "next_run_at", "created_at"},
    )
    db["rounds"].create(
        {
            "id": int,
            "team_id": int,
            "model_id": str,
            "due_at": str,
            "opened_at": str,
            "remind_at": str,
            "deadline_at": str,
            "reminded": int,
            "closed_at": str,
            "status": str,
            "median_index": int,
            "report": str,
        },
        pk="id",
        foreign_keys=[("team_id", "teams", "id")],
        not_null={"team_id", "model_id", "due_at", "opened_at", "deadline_at", "status"},
    )
    db["rounds"].create_index(["team_id", "due_at"], unique=True)
    db["rounds"].create_index(["status"])
    db["round_invites"].create(
        {
            "round_id": int,
            "member": str,
            "assessment_id": str,
            "sent_at": str,
            "reminded_at": str,
            "answered_at": str,
        },
        pk=("round_id", "member"),
        foreign_keys=[("round_id", "rounds", "id")],
    )
    db["round_invites"].create_index(["assessment_id"])
    db["recheck_reminders"].create(
        {
            "id": int,
            "channel": str,
            "external_id": str,
            "model_id": str,
            "due_at": str,
            "sent_at": str,
            "created_at": str,
        },
        pk="id",
        not_null={"channel", "external_id", "model_id", "due_at", "created_at"},
    )
    db["recheck_reminders"].create_index(["due_at"])


@migrations()
def m004_invite_attempts(db: Database) -> None:
    """Invitations are claimed before sending; a failed send is retried a few times."""
    db["round_invites"].add_column("send_attempts", int, not_null_default=0)


@migrations()
def m005_seen_requests(db: Database) -> None:
    """Signed HTTP requests already applied, kept for the replay window: a replay is refused."""
    db["seen_requests"].create(
        {"signature": str, "request_ts": int, "seen_at": str},
        pk="signature",
        not_null={"request_ts", "seen_at"},
    )
    db["seen_requests"].create_index(["request_ts"])


SCHEMA_VERSION = len(migrations._migrations)


@dataclass(frozen=True)
class User:
    id: int
    channel: str
    external_id: str
    lang: str


class Storage:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
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

        A failure of the disk or the file (full, I/O error, read-only, locked too long) becomes
        StorageWriteError after a rollback, so callers can tell the user to try again; any
        other error is a bug and is raised as it is."""
        from bot.storage_checks import rollback

        with self._lock:
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

    @contextmanager
    def reading(self) -> Iterator[Database]:
        """Reads from other threads wait for a running write: one connection is shared, and
        without the lock a reader could see another thread's uncommitted rows."""
        with self._lock:
            yield self.db

    # ---- users and conversations ---------------------------------------------------------
    def user(self, channel: str, external_id: str, lang: str = "en") -> User:
        """The user for this channel id, created on first contact with `lang`."""
        row = self._one(
            "select id, lang from users where channel = ? and external_id = ?",
            (channel, external_id),
        )
        if row is None:
            self.db.execute(
                "insert or ignore into users (channel, external_id, lang, created_at) "
                "values (?, ?, ?, ?)",
                (channel, external_id, lang, now_iso()),
            )
            row = self._one(
                "select id, lang from users where channel = ? and external_id = ?",
                (channel, external_id),
            )
        return User(row[0], channel, external_id, row[1])

    def find_user(self, channel: str, external_id: str) -> User | None:
        row = self._one(
            "select id, lang from users where channel = ? and external_id = ?",
            (channel, external_id),
        )
        return User(row[0], channel, external_id, row[1]) if row else None

    def conversation(self, user: User) -> Conversation:
        row = self._one(
            "select state, model_id, assessment_id, question_id from conversations "
            "where user_id = ?",
            (user.id,),
        )
        if row is None:
            return Conversation(lang=user.lang)
        return Conversation(row[0], user.lang, row[1], row[2], row[3])

    def save_conversation(self, user: User, conv: Conversation) -> None:
        self.db.execute(
            "insert into conversations (user_id, state, model_id, assessment_id, question_id, "
            "updated_at) values (?, ?, ?, ?, ?, ?) on conflict(user_id) do update set "
            "state = excluded.state, model_id = excluded.model_id, "
            "assessment_id = excluded.assessment_id, question_id = excluded.question_id, "
            "updated_at = excluded.updated_at",
            (user.id, conv.state, conv.model_id, conv.assessment_id, conv.question_id, now_iso()),
        )

    def set_language(self, user: User, lang: str) -> None:
        self.db.execute("update users set lang = ? where id = ?", (lang, user.id))

    # ---- assessments and answers ---------------------------------------------------------
    def open_assessments(self, user: User) -> dict[str, OpenAssessment]:
        rows = self.db.execute(
            "select a.id, a.model_id, x.question_id, x.option_id, x.answered_at "
            "from assessments a left join answers x on x.assessment_id = a.id "
            "where a.user_id = ? and a.status = 'open' order by a.started_at, x.answered_at",
            (user.id,),
        ).fetchall()
        found: dict[str, OpenAssessment] = {}
        for assessment_id, model_id, question_id, option_id, answered_at in rows:
            current = found.get(model_id)
            if current is None or current.id != assessment_id:
                current = OpenAssessment(assessment_id, model_id, {})
                found[model_id] = current  # the newest open one per model wins
            if answered_at is not None:
                current.answers[question_id] = option_id
        return found

    def create_assessment(self, user: User, assessment_id: str, model_id: str) -> None:
        self.db.execute(
            "insert into assessments (id, user_id, model_id, status, started_at) "
            "values (?, ?, ?, 'open', ?)",
            (assessment_id, user.id, model_id, now_iso()),
        )

    def save_answer(self, assessment_id: str, question_id: str, option_id: str | None) -> None:
        self.db.execute(
            "insert into answers (assessment_id, question_id, option_id, answered_at) "
            "values (?, ?, ?, ?) on conflict(assessment_id, question_id) do update set "
            "option_id = excluded.option_id, answered_at = excluded.answered_at",
            (assessment_id, question_id, option_id, now_iso()),
        )

    def finish_assessment(
        self, user: User, assessment_id: str, model_id: str, result: StoredResult
    ) -> None:
        stamp = now_iso()
        # a pulse invitation answered by this assessment counts as answered for its round
        self.db.execute(
            "update round_invites set answered_at = ? where assessment_id = ? "
            "and answered_at is null",
            (stamp, assessment_id),
        )
        self.db.execute(
            "update assessments set status = 'finished', finished_at = ? where id = ?",
            (stamp, assessment_id),
        )
        self.db.execute(
            "insert or replace into results (assessment_id, user_id, model_id, phase_id, "
            "pillar_levels, detail, created_at) values (?, ?, ?, ?, ?, ?, ?)",
            (
                assessment_id,
                user.id,
                model_id,
                result.phase_id,
                json.dumps(result.pillar_levels),
                json.dumps(result.to_json()),
                stamp,
            ),
        )

    def abandon_assessment(self, assessment_id: str) -> None:
        self.db.execute(
            "update assessments set status = 'abandoned' where id = ? and status = 'open'",
            (assessment_id,),
        )

    def answers(self, assessment_id: str) -> dict[str, str | None]:
        rows = self.db.execute(
            "select question_id, option_id from answers where assessment_id = ?",
            (assessment_id,),
        ).fetchall()
        return dict(rows)

    # ---- results -------------------------------------------------------------------------
    def history(self, user: User) -> tuple[PastResult, ...]:
        rows = self.db.execute(
            "select assessment_id, model_id, created_at, detail from results "
            "where user_id = ? order by created_at desc, rowid desc",
            (user.id,),
        ).fetchall()
        return tuple(
            PastResult(aid, model_id, created, StoredResult.from_json(json.loads(detail)))
            for aid, model_id, created, detail in rows
        )

    # ---- initiatives ---------------------------------------------------------------------
    def initiatives(self, user: User) -> tuple[Initiative, ...]:
        rows = self.db.execute(
            "select id, name, channel_name, objective, goal from initiatives "
            "where user_id = ? order by id",
            (user.id,),
        ).fetchall()
        return tuple(Initiative(*row) for row in rows)

    def add_initiative(self, user: User, new: NewInitiative) -> None:
        self.db.execute(
            "insert into initiatives (user_id, name, channel_name, objective, goal, created_at) "
            "values (?, ?, ?, ?, ?, ?)",
            (user.id, new.name, new.channel, new.objective, new.goal, now_iso()),
        )

    def remove_initiative(self, user: User, initiative_id: int) -> None:
        self.db.execute(
            "delete from initiatives where id = ? and user_id = ?", (initiative_id, user.id)
        )

    # ---- personal re-check reminders --------------------------------------------------------
    def add_recheck(self, user: User, model_id: str, due_at: str) -> None:
        self.db.execute(
            "insert into recheck_reminders (channel, external_id, model_id, due_at, created_at) "
            "values (?, ?, ?, ?, ?)",
            (user.channel, user.external_id, model_id, due_at, now_iso()),
        )

    def claim_due_rechecks(
        self, channel: str, now: str, external_id: str | None = None
    ) -> list[tuple[str, str, str]]:
        """(external id, model id, created_at) of due reminders, marked sent in the same step."""
        with self.transaction() as db:
            rows = db.execute(
                "select id, external_id, model_id, created_at from recheck_reminders "
                "where channel = ? and sent_at is null and due_at <= ? "
                "and (? is null or external_id = ?)",
                (channel, now, external_id, external_id),
            ).fetchall()
            for row in rows:
                db.execute("update recheck_reminders set sent_at = ? where id = ?", (now, row[0]))
        return [(external, model, created) for _, external, model, created in rows]

    # ---- a user's own data ---------------------------------------------------------------
    def forget_user(self, user: User) -> bool:
        """Delete everything stored about this user (GDPR erasure); call inside a transaction.

        Rows keyed by the platform id go too, with or without a users row (a pulse's creator
        may never have talked to the bot). A team or pulse they started keeps running for the
        team without their id on it: its admins are then the platform's. Closed rounds keep
        their reports, aggregates that name nobody. True when anything was stored."""
        mine = (user.id,)
        key = (user.external_id, user.channel)
        team_ids = "select id from teams where channel = ?"
        assessment_ids = "select id from assessments where user_id = ?"
        statements = [
            (f"delete from answers where assessment_id in ({assessment_ids})", mine),
            ("delete from results where user_id = ?", mine),
            ("delete from initiatives where user_id = ?", mine),
            (
                f"delete from round_invites where member = ? and round_id in "
                f"(select id from rounds where team_id in ({team_ids}))",
                key,
            ),
            (f"delete from team_members where member = ? and team_id in ({team_ids})", key),
            ("update teams set created_by = null where created_by = ? and channel = ?", key),
            (
                f"update pulses set created_by = null where created_by = ? "
                f"and team_id in ({team_ids})",
                key,
            ),
            ("delete from recheck_reminders where external_id = ? and channel = ?", key),
            ("delete from assessments where user_id = ?", mine),
            ("delete from conversations where user_id = ?", mine),
            ("delete from users where id = ?", mine),
        ]
        return sum(self.db.execute(sql, params).rowcount for sql, params in statements) > 0

    def export_user(self, user: User) -> dict:
        """Everything stored about this user, as plain data (for /export). Of the teams and
        pulses they started: the team and the schedule, never the members or their invitations
        (other people's data); of the rounds they were invited to, their own invitation."""

        def rows(sql: str, *params: object) -> list[dict]:
            cursor = self.db.execute(sql, params)
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

        assessments = []
        for assessment in rows(
            "select id, model_id, status, started_at, finished_at from assessments "
            "where user_id = ? order by started_at",
            user.id,
        ):
            assessment["answers"] = rows(
                "select question_id, option_id, answered_at from answers "
                "where assessment_id = ? order by answered_at",
                assessment["id"],
            )
            result = self._one(
                "select phase_id, pillar_levels, created_at from results where assessment_id = ?",
                (assessment["id"],),
            )
            assessment["result"] = (
                None
                if result is None
                else {
                    "phase_id": result[0],
                    "pillar_levels": json.loads(result[1] or "{}"),
                    "created_at": result[2],
                }
            )
            assessments.append(assessment)
        key = (user.external_id, user.channel)
        first_seen = self._one("select created_at from users where id = ?", (user.id,))
        conversation = rows(
            "select state, model_id, assessment_id, question_id, updated_at from conversations "
            "where user_id = ?",
            user.id,
        )
        return {
            "channel": user.channel,
            "external_id": user.external_id,
            "lang": user.lang,
            "first_seen_at": first_seen[0] if first_seen else None,
            "conversation": conversation[0] if conversation else None,
            "assessments": assessments,
            "initiatives": rows(
                "select name, channel_name as channel, objective, goal, created_at "
                "from initiatives where user_id = ? order by id",
                user.id,
            ),
            "recheck_reminders": rows(
                "select model_id, due_at, sent_at, created_at from recheck_reminders "
                "where external_id = ? and channel = ? order by id",
                *key,
            ),
            "pulse_memberships": rows(
                "select t.external_id as team, t.name as team_name, m.joined_at "
                "from team_members m join teams t on t.id = m.team_id "
                "where m.member = ? and t.channel = ? order by m.joined_at",
                *key,
            ),
            "pulse_invitations": rows(
                "select t.external_id as team, t.name as team_name, i.round_id, r.model_id, "
                "r.opened_at as round_opened_at, r.deadline_at as round_deadline_at, "
                "r.status as round_status, i.assessment_id, i.sent_at, i.reminded_at, "
                "i.answered_at, i.send_attempts from round_invites i "
                "join rounds r on r.id = i.round_id join teams t on t.id = r.team_id "
                "where i.member = ? and t.channel = ? order by r.opened_at, i.round_id",
                *key,
            ),
            "teams_created": rows(
                "select external_id as team, name, created_at from teams "
                "where created_by = ? and channel = ? order by id",
                *key,
            ),
            "pulses_created": rows(
                "select t.external_id as team, t.name as team_name, p.model_id, p.cadence, "
                "p.weekday, p.hour, p.minute, p.timezone, p.status, p.next_run_at, p.lang, "
                "p.created_at from pulses p join teams t on t.id = p.team_id "
                "where p.created_by = ? and t.channel = ? order by p.created_at",
                *key,
            ),
        }

    # ---- deduplication of platform deliveries --------------------------------------------
    def first_delivery(self, channel: str, event_key: str) -> bool:
        """Record a platform event id; False when it was processed before (a redelivery)."""
        cursor = self.db.execute(
            "insert or ignore into processed_events (channel, event_key, processed_at) "
            "values (?, ?, ?)",
            (channel, event_key, now_iso()),
        )
        return cursor.rowcount == 1

    def first_signed_request(self, signature: str, request_ts: int, *, oldest: int) -> bool:
        """Record a verified request's signature; False when it was applied before (a replay).
        Signatures of requests older than `oldest` (a Unix time) are dropped: past the replay
        window their timestamp alone gets them refused."""
        with self.transaction() as db:
            db.execute("delete from seen_requests where request_ts < ?", (oldest,))
            cursor = db.execute(
                "insert or ignore into seen_requests (signature, request_ts, seen_at) "
                "values (?, ?, ?)",
                (signature, request_ts, now_iso()),
            )
            return cursor.rowcount == 1

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
    from bot.storage_checks import write_failure

    return write_failure(exc) or text


# ---- refusing what we must not change, and failed writes ---------------------------------
class StorageWriteError(StorageError):
    """A write failed because of the disk or the file, not a bug; nothing of it was stored."""


def _refuse_unknown_schema(path: str) -> None:
    """Refused before `_open` switches the file to WAL or migrates it: the file stays as it was."""
    from bot.storage_checks import schema_refusal

    known = [migration.name for migration in migrations._migrations]
    try:
        problem = schema_refusal(path, migrations.name, known)
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"cannot open the database {path}: {_reason(exc)}") from exc
    if problem is not None:
        raise StorageError(problem)


def _write_error(path: str, exc: sqlite3.DatabaseError) -> StorageWriteError | None:
    from bot.storage_checks import write_failure

    reason = write_failure(exc)
    if reason is None:
        return None
    return StorageWriteError(f"cannot save to the database {path}: {reason}")
