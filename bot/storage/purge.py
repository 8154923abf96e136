"""Uninstalled Slack workspaces (m012) and the purge of everything a workspace left behind.

Uninstalling deletes the bot token at once (bot/slack/oauth.py) but keeps the data for a grace
period, so an uninstall by mistake loses nothing; a reinstall in time forgets the uninstall.
After it, `purge_workspace` deletes every row of the workspace in one transaction.

A workspace is named by its workspace key (bot/slack/member.py): `T…`, or `E…:T…` for a Grid
workspace in OAuth mode, or `E…` for a whole Grid organisation. A Slack member is stored as
the key and the user (`T…:U…`), so its users are those whose external id starts with `key:`,
each erased by `erase_user` (the same statements as /forget). A pulse team started in OAuth
mode is keyed the same way (`T…:C…`); one of a self-hosted app by its channel id only, and it
is the workspace's when anyone the pulse stored about it is: its creator (of the team or the
pulse), a member or an invitee carries the prefix. Those are read before the users are
forgotten (forgetting clears a creator)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.storage.users import User

SLACK = "slack"
"""The channel name Slack's rows are stored under (bot/slack/events.py's CHANNEL)."""
UNINSTALLED = "uninstalled"
"""A pulse's status while its workspace has uninstalled the app: a reinstall resumes it."""


def _prefix(team_id: str) -> str:
    return team_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ":%"


_LIKE = "like ? escape '\\'"
_TEAMS = (
    f"select t.id from teams t where t.channel = ? and (t.external_id {_LIKE} "
    f"or t.created_by {_LIKE} "
    f"or exists (select 1 from pulses p where p.team_id = t.id and p.created_by {_LIKE}) "
    f"or exists (select 1 from team_members m where m.team_id = t.id and m.member {_LIKE}) "
    "or exists (select 1 from round_invites i join rounds r on r.id = i.round_id "
    f"where r.team_id = t.id and i.member {_LIKE}))"
)


class Uninstalls:
    """Workspace uninstalls and purges over the assessment store (`Storage`: its connection and
    its `erase_user`)."""

    def __init__(self, storage: Any) -> None:
        self.storage = storage

    def record_uninstall(self, team_id: str, when: datetime) -> None:
        """Remember that `team_id` uninstalled (the first time counts: a second event for the
        same uninstall does not move the grace period on)."""
        with self.storage.transaction():
            self.storage.execute(
                "insert into workspace_uninstalls (team_id, uninstalled_at) values (?, ?) "
                "on conflict(team_id) do nothing",
                (team_id, when.isoformat(timespec="seconds")),
            )

    def clear_uninstall(self, team_id: str) -> None:
        """A reinstall: the workspace's data stays."""
        with self.storage.transaction():
            self.storage.execute("delete from workspace_uninstalls where team_id = ?", (team_id,))

    def uninstalled(self) -> dict[str, str]:
        rows = self.storage._rows("select team_id, uninstalled_at from workspace_uninstalls")
        return {row["team_id"]: row["uninstalled_at"] for row in rows}

    def due_purges(self, now: datetime, grace: timedelta) -> list[str]:
        """The workspaces uninstalled at least `grace` before `now`, oldest first."""
        cutoff = (now - grace).isoformat(timespec="seconds")
        rows = self.storage._rows(
            "select team_id from workspace_uninstalls where uninstalled_at <= ? "
            "order by uninstalled_at, team_id",
            cutoff,
        )
        return [row["team_id"] for row in rows]

    def team_ids(self, team_id: str) -> list[int]:
        """The pulse teams (rows of `teams`) of the workspace."""
        like = _prefix(team_id)
        rows = self.storage._rows(_TEAMS, SLACK, like, like, like, like, like)
        return [row["id"] for row in rows]

    def stop_pulses(self, team_id: str) -> int:
        """Stop the workspace's active pulses, so the scheduler opens no more rounds; they are
        marked `uninstalled`, so a reinstall knows which to resume (`uninstalled_pulses`)."""
        ids = self.team_ids(team_id)
        if not ids:
            return 0
        marks = ", ".join("?" * len(ids))
        with self.storage.transaction():
            cursor = self.storage.execute(
                f"update pulses set status = '{UNINSTALLED}' where status = 'active' "
                f"and team_id in ({marks})",
                ids,
            )
            return cursor.rowcount

    def uninstalled_pulses(self, team_id: str) -> list[int]:
        """The pulse teams (row ids) that the workspace's uninstall stopped."""
        ids = self.team_ids(team_id)
        if not ids:
            return []
        marks = ", ".join("?" * len(ids))
        rows = self.storage._rows(
            f"select team_id from pulses where status = '{UNINSTALLED}' "
            f"and team_id in ({marks}) order by team_id",
            *ids,
        )
        return [row["team_id"] for row in rows]

    def known(self, team_id: str) -> bool:
        """Whether anything of the workspace is stored."""
        like = _prefix(team_id)
        for sql, params in (
            ("select 1 from slack_installations where team_id = ?", (team_id,)),
            ("select 1 from workspace_uninstalls where team_id = ?", (team_id,)),
            ("select 1 from workspace_settings where workspace = ?", (team_id,)),
            ("select 1 from users where channel = ? and external_id like ? escape '\\'",
             (SLACK, like)),
        ):  # fmt: skip
            if self.storage._one(sql, params) is not None:
                return True
        return bool(self.team_ids(team_id))

    def purge_workspace(self, team_id: str) -> dict[str, int]:
        """Delete every row of the workspace, in one transaction; rows deleted per table."""
        counts: dict[str, int] = {}
        like = _prefix(team_id)

        def run(table: str, sql: str, params: tuple | list) -> None:
            counts[table] = counts.get(table, 0) + self.storage.execute(sql, params).rowcount

        with self.storage.transaction():
            ids = self.team_ids(team_id)
            if ids:
                marks = ", ".join("?" * len(ids))
                rounds = f"select id from rounds where team_id in ({marks})"
                run("round_invites", f"delete from round_invites where round_id in ({rounds})",
                    ids)  # fmt: skip
                run("rounds", f"delete from rounds where team_id in ({marks})", ids)
                run("team_members", f"delete from team_members where team_id in ({marks})", ids)
                run("pulses", f"delete from pulses where team_id in ({marks})", ids)
                run("teams", f"delete from teams where id in ({marks})", ids)
            for table, column in (
                ("dm_channels", "member"),
                ("home_views", "member"),
                ("recheck_reminders", "external_id"),
                ("web_links", "external_id"),  # the dashboard's, members without a users row too
                ("web_sessions", "external_id"),
            ):
                run(table, f"delete from {table} where channel = ? and {column} like ? "
                    "escape '\\'", (SLACK, like))  # fmt: skip
            run("workspace_settings", "delete from workspace_settings where workspace = ?",
                (team_id,))  # fmt: skip
            run("slack_installations", "delete from slack_installations where team_id = ?",
                (team_id,))  # fmt: skip
            users = self.storage._rows(
                "select id, channel, external_id, lang from users "
                "where channel = ? and external_id like ? escape '\\'",
                SLACK,
                like,
            )
            for row in users:  # what /forget deletes, whatever it grows
                deleted, _ = self.storage.erase_user(User(**row))
                for table, count in deleted.items():
                    counts[table] = counts.get(table, 0) + count
            run("workspace_uninstalls", "delete from workspace_uninstalls where team_id = ?",
                (team_id,))  # fmt: skip
        return {table: count for table, count in counts.items() if count}
