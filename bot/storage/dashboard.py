"""What the web dashboard reads, and only that: every query is scoped to what one viewer may see,
so a page can never show (or confirm the existence of) another person's results or a team the
viewer has nothing to do with. Read-only: nothing here writes.

Who sees which team (`Scope`):
- a member of it (invited to one of its rounds, or joined it where people opt in);
- its creator (who started its pulse first);
- in Slack, a pulse admin of its workspace (the workspace's own list, else the operator's
  MATURITY_PULSE_ADMINS) and a workspace admin or owner: every team of their workspace;
- in Telegram, an admin of its group.
The organisation (all teams side by side) is for workspace admins and group admins only.

A Slack team (a channel) has no workspace column: it belongs to the workspace its creator and
its invited members are in (`T123:` of their `T123:U456`), which survives a forgotten creator.

Aggregates leave here exactly as stored when each round closed (bot/storage/pulses.py): a round
withheld below K has only its counts, so no page can compute what the chat was never told.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.storage.connection import Connection
from bot.storage.pulse_rows import ClosedRound
from bot.storage.workspaces import WorkspaceStore
from flows.pulse import PULSE_SUFFIX, report_from_json
from flows.results import PastResult, StoredResult

SLACK = "slack"
TELEGRAM = "telegram"


@dataclass(frozen=True)
class Scope:
    """Who is looking, with what the platform said about them at sign-in."""

    channel: str
    member: str
    """The viewer's external id (Slack `T123:U456`, a Telegram user id)."""
    workspace: str | None = None
    """Slack: the viewer's workspace id (`T123`)."""
    workspace_admin: bool = False
    groups: tuple[str, ...] = ()
    """Telegram: the group chat ids the viewer administers."""
    operator_pulse_admins: frozenset[str] = frozenset()
    """MATURITY_PULSE_ADMINS: applies to a workspace that named no pulse admins of its own."""


@dataclass(frozen=True)
class TeamRow:
    team_id: int
    channel: str
    team: str
    """The platform's id of the team (a Slack channel, a Telegram chat)."""
    name: str | None
    model_id: str | None
    """The model of its pulse (None: no pulse, e.g. a group people joined before a start)."""
    status: str | None


_TEAM = (
    "select t.id as team_id, t.channel, t.external_id as team, t.name, p.model_id, p.status "
    "from teams t left join pulses p on p.team_id = t.id where t.channel = :channel "
)
_ORDER = " order by lower(coalesce(t.name, t.external_id)), t.id"
_MEMBER = (
    "t.created_by = :member or p.created_by = :member "
    "or exists (select 1 from team_members m where m.team_id = t.id and m.member = :member) "
    "or exists (select 1 from rounds r join round_invites i on i.round_id = r.id "
    "where r.team_id = t.id and i.member = :member)"
)
_IN_WORKSPACE = (
    "(substr(t.created_by, 1, :plen) = :prefix "
    "or exists (select 1 from rounds r2 join round_invites i2 on i2.round_id = r2.id "
    "where r2.team_id = t.id and substr(i2.member, 1, :plen) = :prefix))"
)


class DashboardStore:
    """The dashboard's reads over the shared connection."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.workspaces = WorkspaceStore(connection)

    # ---- a person's own results ----------------------------------------------------------
    def my_results(self, channel: str, member: str) -> tuple[PastResult, ...]:
        """The viewer's finished assessments, oldest first (a pulse's short re-measurement is
        the team's, shown on the team page, not here)."""
        rows = self.connection._rows(
            "select r.assessment_id, r.model_id, r.created_at, r.detail from results r "
            "join users u on u.id = r.user_id where u.channel = ? and u.external_id = ? "
            "order by r.created_at, r.rowid",
            channel,
            member,
        )
        return tuple(
            PastResult(
                row["assessment_id"],
                row["model_id"],
                row["created_at"],
                StoredResult.from_json(json.loads(row["detail"])),
            )
            for row in rows
            if not row["model_id"].endswith(PULSE_SUFFIX)
        )

    # ---- teams ----------------------------------------------------------------------------
    def teams(self, scope: Scope) -> list[TeamRow]:
        """Every team the viewer may see, by name."""
        where, params = self._visible(scope)
        return self._teams(_TEAM + f"and ({where})" + _ORDER, params)

    def team(self, scope: Scope, team_id: int) -> TeamRow | None:
        """The team, or None when it does not exist or the viewer may not see it (the page
        answers both alike, so an id says nothing about teams one may not see)."""
        if not 0 < team_id < 2**63:  # not an id either database can hold
            return None
        where, params = self._visible(scope)
        rows = self._teams(
            _TEAM + f"and t.id = :team_id and ({where})", {**params, "team_id": team_id}
        )
        return rows[0] if rows else None

    def organisation(self, scope: Scope) -> list[TeamRow] | None:
        """All teams of the viewer's organisation (a workspace admin's workspace, a Telegram
        admin's groups), or None when the viewer is no organisation admin."""
        if scope.channel == SLACK and scope.workspace_admin and scope.workspace:
            params = {"channel": scope.channel, **_prefix(scope.workspace)}
            return self._teams(_TEAM + f"and {_IN_WORKSPACE}" + _ORDER, params)
        if scope.channel == TELEGRAM and scope.groups:
            marks, params = _in_list("g", scope.groups)
            return self._teams(
                _TEAM + f"and t.external_id in ({marks})" + _ORDER,
                {"channel": scope.channel, **params},
            )
        return None

    def rounds(self, team_ids: list[int]) -> dict[int, list[ClosedRound]]:
        """The closed rounds of each team, oldest first, with the reports stored at closing."""
        found: dict[int, list[ClosedRound]] = {team_id: [] for team_id in team_ids}
        if not team_ids:
            return found
        marks, params = _in_list("t", team_ids)
        rows = self._named(
            "select r.team_id, r.id as round_id, r.closed_at, r.model_id, r.report from rounds r "
            f"where r.status = 'closed' and r.team_id in ({marks}) order by r.closed_at, r.id",
            params,
        )
        for row in rows:
            found[row["team_id"]].append(
                ClosedRound(
                    row["round_id"],
                    row["closed_at"],
                    row["model_id"],
                    report_from_json(json.loads(row["report"])),
                )
            )
        return found

    def is_pulse_admin(self, scope: Scope) -> bool:
        """A Slack member on their workspace's pulse admins (its own list, else the operator's)."""
        if scope.channel != SLACK or not scope.workspace:
            return False
        own = self.workspaces.workspace_settings(scope.workspace).pulse_admins
        admins = scope.operator_pulse_admins if own is None else frozenset(own)
        user = scope.member.rpartition(":")[2]
        return scope.member in admins or user in admins

    # ---- helpers --------------------------------------------------------------------------
    def _visible(self, scope: Scope) -> tuple[str, dict[str, Any]]:
        """The condition "the viewer may see team t", built from fixed fragments only."""
        where, params = _MEMBER, {"channel": scope.channel, "member": scope.member}
        whole_workspace = scope.workspace_admin or self.is_pulse_admin(scope)
        if scope.channel == SLACK and scope.workspace and whole_workspace:
            where += f" or {_IN_WORKSPACE}"
            params.update(_prefix(scope.workspace))
        if scope.channel == TELEGRAM and scope.groups:
            marks, groups = _in_list("g", scope.groups)
            where += f" or t.external_id in ({marks})"
            params.update(groups)
        return where, params

    def _named(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """A query with named parameters, run to completion inside `reading()`, as dicts."""
        with self.connection.reading():
            cursor = self.connection.execute(sql, params)
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _teams(self, sql: str, params: dict[str, Any]) -> list[TeamRow]:
        return [TeamRow(**row) for row in self._named(sql, params)]


def _prefix(workspace: str) -> dict[str, Any]:
    prefix = f"{workspace}:"
    return {"prefix": prefix, "plen": len(prefix)}


def _in_list(name: str, values: Any) -> tuple[str, dict[str, Any]]:
    """`:name0, :name1, ...` and their values (the names are ours, the values parameters)."""
    params = {f"{name}{i}": value for i, value in enumerate(values)}
    return ", ".join(f":{key}" for key in params), params
