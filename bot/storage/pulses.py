"""The pulse store: every statement the team pulse runs, as named methods over the shared
connection (see connection.py), so a second database backend implements this and the
assessment store, and nothing else has SQL to hunt for.

Each step that must happen once is a claim: a conditional UPDATE (or an INSERT ... ON CONFLICT
DO NOTHING on a unique key) whose row count says whether this caller won it, so two ticks (in
one process or in several, on either backend) never both open a round, remind it, close it or
send one invitation at the same time. On PostgreSQL a conditional UPDATE waits for a rival's
row lock and then re-reads the row, so the loser sees the change and counts 0; on SQLite the
file lock serialises the two.
Invitations are claimed with a lease and marked sent only once delivered: at least once, never
skipped, even when a process dies between the claim and the delivery.
"""

from __future__ import annotations

import json
from typing import Any

from bot.storage.connection import Connection
from bot.storage.leases import Leases
from bot.storage.pulse_rows import (
    ClosableRound,
    ClosedRound,
    DueReminder,
    Invitation,
    PulseRow,
    RoundInputs,
)
from flows.pulse import RoundReport, report_from_json, report_json
from flows.results import StoredResult

TREND_ROUNDS = 26
"""Rounds on a team's trend chart: half a year of weekly rounds, two years of monthly ones."""

_PULSE = (
    "select p.team_id, t.external_id as team, t.name as team_name, p.model_id, p.cadence, "
    "p.weekday, p.hour, p.minute, p.timezone, p.status, p.next_run_at, p.lang, p.created_by "
    "from pulses p join teams t on t.id = p.team_id "
)


class PulseStore(Leases):
    """Teams, their pulse schedule, rounds and invitations, over the assessment store's
    connection (the same database and transactions that nest)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._execute = connection.execute
        self._rows = connection._rows

    def transaction(self) -> Any:
        return self.connection.transaction()

    # ---- teams and their pulse ----------------------------------------------------------
    def pulse(self, channel: str, team: str) -> PulseRow | None:
        rows = self._rows(_PULSE + "where t.channel = ? and t.external_id = ?", channel, team)
        return PulseRow(**rows[0]) if rows else None

    def pulse_of_team(self, team_id: int) -> PulseRow | None:
        rows = self._rows(_PULSE + "where p.team_id = ?", team_id)
        return PulseRow(**rows[0]) if rows else None

    def due_pulses(self, channel: str, now: str) -> list[PulseRow]:
        sql = _PULSE + "where t.channel = ? and p.status = 'active' and p.next_run_at <= ?"
        return [PulseRow(**row) for row in self._rows(sql, channel, now)]

    def save_pulse(
        self,
        channel: str,
        team: str,
        team_name: str,
        creator: str,
        values: dict[str, Any],
        now: str,
    ) -> None:
        """Start (or re-plan) the team's pulse; its creator stays whoever started it first."""
        with self.transaction():
            team_id = self._team_id(channel, team, team_name, creator, now)
            row = {**values, "status": "active"}
            if self._value("select count(*) from pulses where team_id = ?", team_id):
                self._update("pulses", {"team_id": team_id}, row)
            else:
                self._insert(
                    "pulses", {**row, "team_id": team_id, "created_by": creator, "created_at": now}
                )

    def set_status(self, team_id: int, status: str, next_run_at: str | None = None) -> None:
        changes: dict[str, Any] = {"status": status}
        if next_run_at is not None:
            changes["next_run_at"] = next_run_at
        with self.transaction():
            self._update("pulses", {"team_id": team_id}, changes)

    def join(self, channel: str, team: str, team_name: str, member: str, now: str) -> None:
        """A member opts in (where the platform cannot list a team's members)."""
        with self.transaction():
            team_id = self._team_id(channel, team, team_name, None, now)
            self._execute(
                "insert into team_members (team_id, member, joined_at) values (?, ?, ?) "
                "on conflict do nothing",
                (team_id, member, now),
            )

    def joined(self, team_id: int) -> list[str]:
        rows = self._rows(
            "select member from team_members where team_id = ? order by joined_at", team_id
        )
        return [row["member"] for row in rows]

    def member_count(self, team_id: int) -> int:
        """Those who joined (where people opt in), or else those invited to the latest round
        (where the platform's channel members are the team when a round opens)."""
        joined = self._value("select count(*) from team_members where team_id = ?", team_id)
        if joined:
            return joined
        return self._value(
            "select count(*) from round_invites where round_id = (select id from rounds "
            "where team_id = ? order by opened_at desc, id desc limit 1)",
            team_id,
        )

    # ---- rounds ---------------------------------------------------------------------------
    def open_round(self, team_id: int) -> dict[str, Any] | None:
        rows = self._rows("select * from rounds where team_id = ? and status = 'open'", team_id)
        return rows[0] if rows else None

    def postpone(self, team_id: int, due: str, until: str, now: str) -> bool:
        """Move a pulse's round that is due at `due` to `until` (its round could not open); True
        when this is the first failed try since a round last opened (its creator is told once).
        A tick that opened the round or moved it on meanwhile stands: then False."""
        with self.transaction():
            moved = self._execute(
                "update pulses set next_run_at = ? where team_id = ? and next_run_at = ?",
                (until, team_id, due),
            ).rowcount
            first = self._execute(
                "update pulses set open_failing_since = ? "
                "where team_id = ? and open_failing_since is null",
                (now, team_id),
            ).rowcount
            return moved == 1 and first == 1

    def claim_round(
        self,
        pulse: PulseRow,
        *,
        now: str,
        remind_at: str,
        deadline_at: str,
        following: str,
        members: list[str],
    ) -> int | None:
        """Open the round due at `pulse.next_run_at` with its invitations; None when another
        tick (or the run before a restart) opened it already. The pulse moves on either way."""
        with self.transaction():
            claimed = self._execute(
                "insert into rounds (team_id, model_id, due_at, opened_at, remind_at, "
                "deadline_at, reminded, status) values (?, ?, ?, ?, ?, ?, 0, 'open') "
                "on conflict do nothing returning id",
                (pulse.team_id, pulse.model_id, pulse.next_run_at, now, remind_at, deadline_at),
            ).fetchone()
            self._execute(
                "update pulses set next_run_at = ?, open_failing_since = null "
                "where team_id = ? and next_run_at = ?",
                (following, pulse.team_id, pulse.next_run_at),
            )
            if claimed is None:
                return None
            round_id = claimed[0]
            self.connection.backend.executemany(
                "insert into round_invites (round_id, member) values (?, ?) on conflict do nothing",
                [(round_id, member) for member in dict.fromkeys(members)],
            )
            return round_id

    # ---- invitations: claimed with a lease, marked sent once delivered --------------------
    def pending_invitations(self, channel: str, now: str, max_attempts: int) -> list[Invitation]:
        """Open rounds' invitations not delivered yet and not held by a live lease."""
        rows = self._rows(
            "select i.round_id, i.member, r.model_id, r.deadline_at, t.name as team_name, "
            "p.timezone from round_invites i join rounds r on r.id = i.round_id "
            "join teams t on t.id = r.team_id left join pulses p on p.team_id = t.id "
            "where r.status = 'open' and i.sent_at is null and t.channel = ? "
            "and (i.claimed_until is null or i.claimed_until <= ?) and i.send_attempts < ? "
            "order by i.round_id, i.rowid",
            channel,
            now,
            max_attempts,
        )
        return [Invitation(**row) for row in rows]

    def claim_invitation(self, round_id: int, member: str, now: str, lease_until: str) -> bool:
        """Hold the invitation until `lease_until`; False when someone else holds it or it was
        delivered meanwhile."""
        with self.transaction():
            claimed = self._execute(
                "update round_invites set claimed_until = ?, send_attempts = send_attempts + 1 "
                "where round_id = ? and member = ? and sent_at is null "
                "and (claimed_until is null or claimed_until <= ?)",
                (lease_until, round_id, member, now),
            )
            return claimed.rowcount == 1

    def set_invitation_assessment(self, round_id: int, member: str, assessment_id: str) -> None:
        with self.transaction():
            self._update(
                "round_invites", {"round_id": round_id, "member": member},
                {"assessment_id": assessment_id},
            )  # fmt: skip

    def delivered(self, round_id: int, member: str, now: str) -> None:
        with self.transaction():
            self._update(
                "round_invites", {"round_id": round_id, "member": member},
                {"sent_at": now, "claimed_until": None},
            )  # fmt: skip

    def release_invitation(self, round_id: int, member: str) -> None:
        """A failed send: free the claim so a later tick tries again (while attempts last)."""
        with self.transaction():
            self._update(
                "round_invites", {"round_id": round_id, "member": member}, {"claimed_until": None}
            )

    def mark_answered(self, assessment_id: str, now: str) -> bool:
        """The member finished the round's assessment; True when that completes its round.
        The round's row is locked first (PostgreSQL), so of two members finishing at the same
        moment in two workers, the second sees the first's mark and completes the round."""
        with self.transaction():
            self._execute(
                "select id from rounds where id in (select round_id from round_invites "
                "where assessment_id = ?)" + self.connection.dialect.lock_row,
                (assessment_id,),
            ).fetchall()
            answered = self._execute(
                "update round_invites set answered_at = ? where assessment_id = ? "
                "and answered_at is null",
                (now, assessment_id),
            )
            if answered.rowcount == 0:
                return False
            waiting = self._execute(
                "select count(*) from round_invites w join round_invites i "
                "on i.round_id = w.round_id join rounds r on r.id = w.round_id "
                "where i.assessment_id = ? and r.status = 'open' and w.answered_at is null",
                (assessment_id,),
            ).fetchone()[0]
            return waiting == 0

    # ---- reminders ------------------------------------------------------------------------
    def due_reminders(self, channel: str, now: str) -> list[DueReminder]:
        rows = self._rows(
            "select r.id as round_id, r.model_id, r.deadline_at, t.name as team_name, "
            "p.timezone from rounds r join teams t on t.id = r.team_id "
            "left join pulses p on p.team_id = t.id where r.status = 'open' "
            "and r.reminded = 0 and r.remind_at <= ? and t.channel = ?",
            now,
            channel,
        )
        return [DueReminder(**row) for row in rows]

    def claim_reminder(self, round_id: int, now: str) -> list[str] | None:
        """Those to remind (invited, not answered), marked reminded; None when another tick
        claimed this round's reminder."""
        with self.transaction():
            claimed = self._execute(
                "update rounds set reminded = 1 where id = ? and reminded = 0", (round_id,)
            )
            if claimed.rowcount != 1:
                return None
            waiting = [
                member
                for (member,) in self._execute(
                    "select member from round_invites where round_id = ? and sent_at is not null "
                    "and answered_at is null order by rowid",
                    (round_id,),
                ).fetchall()
            ]
            self._execute(
                "update round_invites set reminded_at = ? where round_id = ? and "
                "sent_at is not null and answered_at is null",
                (now, round_id),
            )
            return waiting

    # ---- closing --------------------------------------------------------------------------
    def closable_rounds(self, channel: str, now: str) -> list[ClosableRound]:
        """Open rounds past their deadline or answered by everyone invited."""
        rows = self._rows(
            "select r.id as round_id, r.team_id, r.model_id, t.external_id as team, "
            "t.name as team_name, coalesce(p.lang, 'en') as lang from rounds r "
            "join teams t on t.id = r.team_id left join pulses p on p.team_id = t.id "
            "where r.status = 'open' and t.channel = ? and (r.deadline_at <= ? or not exists "
            "(select 1 from round_invites i where i.round_id = r.id and i.answered_at is null))",
            channel,
            now,
        )
        return [ClosableRound(**row) for row in rows]

    def round_inputs(self, round_id: int, team_id: int) -> RoundInputs:
        with self.connection.reading():
            db = self.connection
            invited = db.execute(
                "select count(*) from round_invites where round_id = ?", (round_id,)
            ).fetchone()[0]
            results = tuple(
                StoredResult.from_json(json.loads(detail))
                for (detail,) in db.execute(
                    "select x.detail from round_invites i join results x "
                    "on x.assessment_id = i.assessment_id "
                    "where i.round_id = ? and i.answered_at is not null",
                    (round_id,),
                ).fetchall()
            )
            previous = db.execute(
                "select median_index from rounds where team_id = ? and status = 'closed' "
                "and median_index is not null order by closed_at desc, id desc limit 1",
                (team_id,),
            ).fetchone()
        return RoundInputs(invited, results, previous[0] if previous else None)

    def close_round(self, round_id: int, report: RoundReport, now: str) -> bool:
        """Store the round's report and close it; False when another tick closed it first."""
        with self.transaction():
            claimed = self._execute(
                "update rounds set status = 'closed', closed_at = ?, median_index = ?, "
                "report = ? where id = ? and status = 'open'",
                (now, report.median_index, json.dumps(report_json(report)), round_id),
            )
            return claimed.rowcount == 1

    def closed_rounds(self, channel: str, team: str) -> list[ClosedRound]:
        rows = self._rows(
            "select r.id as round_id, r.closed_at, r.model_id, r.report from rounds r "
            "join teams t on t.id = r.team_id where t.channel = ? and t.external_id = ? and "
            "r.status = 'closed' order by r.closed_at, r.id",
            channel,
            team,
        )
        return [
            ClosedRound(
                row["round_id"],
                row["closed_at"],
                row["model_id"],
                report_from_json(json.loads(row["report"])),
            )
            for row in rows
        ]

    def trend(self, team_id: int, rounds: int = TREND_ROUNDS) -> list[tuple[str, int]]:
        """(date, median phase index) of the team's latest `rounds` reported rounds, oldest
        first: a chart stays readable, and closing a round stays cheap, at any history."""
        rows = self._rows(
            "select closed_at, median_index from rounds where team_id = ? and status = 'closed' "
            "and median_index is not null order by closed_at desc, id desc limit ?",
            team_id,
            rounds,
        )
        return [(row["closed_at"][:10], row["median_index"]) for row in reversed(rows)]

    # ---- helpers --------------------------------------------------------------------------
    def _team_id(
        self, channel: str, team: str, name: str | None, creator: str | None, now: str
    ) -> int:
        self._execute(
            "insert into teams (channel, external_id, name, created_by, created_at) "
            "values (?, ?, ?, ?, ?) on conflict(channel, external_id) do update set "
            "name = coalesce(excluded.name, teams.name)",
            (channel, team, name, creator, now),
        )
        return self._execute(
            "select id from teams where channel = ? and external_id = ?", (channel, team)
        ).fetchone()[0]

    def _value(self, sql: str, *params: Any) -> Any:
        with self.connection.reading():
            return self._execute(sql, params).fetchone()[0]

    def _insert(self, table: str, row: dict[str, Any]) -> None:
        """Column names come from this module's own dicts, never from a user."""
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        self._execute(f"insert into {table} ({names}) values ({marks})", tuple(row.values()))

    def _update(self, table: str, key: dict[str, Any], changes: dict[str, Any]) -> None:
        assignments = ", ".join(f"{name} = ?" for name in changes)
        where = " and ".join(f"{name} = ?" for name in key)
        self._execute(
            f"update {table} set {assignments} where {where}",
            (*changes.values(), *key.values()),
        )
