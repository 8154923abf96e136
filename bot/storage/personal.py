"""A person's own data, for the rights they have over it: /forget erases it, /export copies it."""

from __future__ import annotations

import json

from bot.storage.connection import Connection
from bot.storage.users import User
from bot.storage.workspaces import WorkspaceStore


class PersonalData(Connection):
    def forget_user(self, user: User) -> bool:
        """Delete everything stored about this user (GDPR erasure); call inside a transaction.

        Rows keyed by the platform id go too, with or without a users row (a pulse's creator
        may never have talked to the bot). A team or pulse they started keeps running for the
        team without their id on it: its admins are then the platform's. Closed rounds keep
        their reports, aggregates that name nobody. True when anything was stored."""
        deleted, unlinked = self.erase_user(user)
        return sum(deleted.values()) + unlinked > 0

    def erase_user(self, user: User) -> tuple[dict[str, int], int]:
        """What `forget_user` does, told: the rows deleted per table, and how many rows that
        stay (a team, a pulse, an installation, a workspace's admin list) lost their id."""
        mine = (user.id,)
        key = (user.external_id, user.channel)
        team_ids = "select id from teams where channel = ?"
        assessment_ids = "select id from assessments where user_id = ?"
        deletes = [
            ("answers", f"assessment_id in ({assessment_ids})", mine),
            ("results", "user_id = ?", mine),
            ("initiatives", "user_id = ?", mine),
            (
                "round_invites",
                f"member = ? and round_id in (select id from rounds where team_id in ({team_ids}))",
                key,
            ),
            ("team_members", f"member = ? and team_id in ({team_ids})", key),
            ("recheck_reminders", "external_id = ? and channel = ?", key),
            ("dm_channels", "member = ? and channel = ?", key),
            ("home_views", "member = ? and channel = ?", key),
            ("web_links", "external_id = ? and channel = ?", key),
            ("web_sessions", "external_id = ? and channel = ?", key),
            ("assessments", "user_id = ?", mine),
            ("conversations", "user_id = ?", mine),
            ("users", "id = ?", mine),
        ]
        unlinked = sum(
            self.execute(sql, key).rowcount
            for sql in (
                "update teams set created_by = null where created_by = ? and channel = ?",
                f"update pulses set created_by = null where created_by = ? "
                f"and team_id in ({team_ids})",
            )
        )
        deleted = {
            table: self.execute(f"delete from {table} where {where}", params).rowcount
            for table, where, params in deletes
        }
        return deleted, unlinked + self._forget_in_workspace(user)

    def _forget_in_workspace(self, user: User) -> int:
        """A Slack member (`TEAM:USER`) may also be named by their workspace: as a pulse admin
        in its settings, and as whoever installed the app. The list loses them, the installation
        keeps running without its installer's id."""
        workspace, _, member = user.external_id.partition(":")
        if user.channel != "slack" or not member:
            return 0
        changed = self.execute(
            "update slack_installations set installer_user_id = null "
            "where team_id = ? and installer_user_id = ?",
            (workspace, member),
        ).rowcount
        settings = WorkspaceStore(self)
        admins = settings.workspace_settings(workspace).pulse_admins or ()
        if member in admins:
            kept = tuple(admin for admin in admins if admin != member)
            settings.set_workspace_setting(workspace, "pulse_admins", kept)
            changed += 1
        return changed

    def export_user(self, user: User) -> dict:
        """Everything stored about this user, as plain data (for /export). Of the teams and
        pulses they started: the team and the schedule, never the members or their invitations
        (other people's data); of the rounds they were invited to, their own invitation."""
        rows = self._rows

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
            "direct_message_channel": rows(
                "select dm, updated_at from dm_channels where member = ? and channel = ?", *key
            ),
            "home_tab": rows(
                "select digest, published_at from home_views where member = ? and channel = ?",
                *key,
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
            # the dashboard's sign-ins: when and as what, never the hashes that open them
            "dashboard_sign_in_links": rows(
                "select lang, workspace, workspace_admin, admin_of_groups, created_at, "
                "expires_at, used_at from web_links where external_id = ? and channel = ? "
                "order by created_at",
                *key,
            ),
            "dashboard_sessions": rows(
                "select lang, workspace, workspace_admin, admin_of_groups, created_at, expires_at "
                "from web_sessions where external_id = ? and channel = ? order by created_at",
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
