"""The schema, as sqlite-utils migrations: one step per change, never edited once released.

The same steps build PostgreSQL's schema: there they get a stand-in for sqlite-utils' table
API (pg_schema.py), so a step may use only `create` (columns of int, str or float, pk,
foreign_keys, not_null), `create_index` and `add_column`.

A database records the steps applied to it; opening one that records a step this list does not
know (a newer maturity-bot wrote it) is refused (see checks.py), so the list only ever grows.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

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


@migrations()
def m006_invite_leases(db: Database) -> None:
    """An invitation is claimed with a lease and marked sent only once it was delivered: a
    process that dies between the two leaves a lease that runs out, and the invitation is sent
    again (at least once, never skipped)."""
    db["round_invites"].add_column("claimed_until", str)


@migrations()
def m007_dm_channels(db: Database) -> None:
    """The direct-message channel a platform gave for a member (Slack's conversations.open),
    kept so that a later round opens only new members' DMs."""
    db["dm_channels"].create(
        {"channel": str, "member": str, "dm": str, "updated_at": str},
        pk=("channel", "member"),
        not_null={"dm", "updated_at"},
    )


@migrations()
def m008_history_pages(db: Database) -> None:
    """/history and the Home tab read a page, not everything: each model's latest result is one
    index seek per model (user, model, newest), and the Home tab keeps the digest of the view
    last published per member, so an unchanged view is not published again."""
    db["results"].create_index(["user_id", "model_id", "created_at"])
    db["home_views"].create(
        {"channel": str, "member": str, "digest": str, "published_at": str},
        pk=("channel", "member"),
        not_null={"digest", "published_at"},
    )


@migrations()
def m009_leases(db: Database) -> None:
    """Leases by name (the pulse scheduler's): one holder at a time, until `expires_at` (Unix
    seconds by the database's clock), so a holder that dies frees it by expiring."""
    db["leases"].create(
        {"name": str, "holder": str, "expires_at": float},
        pk="name",
        not_null={"holder", "expires_at"},
    )


@migrations()
def m010_slack_installations(db: Database) -> None:
    """Slack workspaces that installed the app through "Add to Slack" (OAuth mode): one row per
    workspace, or per Enterprise Grid organisation for an org-wide install (an absent id is
    ''), with the bot token Slack gave for it; and the OAuth `state` values issued to browsers,
    each valid once until it expires (Unix seconds)."""
    db["slack_installations"].create(
        {
            "enterprise_id": str,
            "team_id": str,
            "is_enterprise_install": int,
            "app_id": str,
            "bot_token": str,
            "bot_id": str,
            "bot_user_id": str,
            "bot_scopes": str,
            "installer_user_id": str,
            "team_name": str,
            "enterprise_name": str,
            "installed_at": str,
        },
        pk=("enterprise_id", "team_id"),
        not_null={"is_enterprise_install", "bot_token", "installed_at"},
    )
    db["oauth_states"].create(
        {"state": str, "expires_at": float}, pk="state", not_null={"expires_at"}
    )
    db["oauth_states"].create_index(["expires_at"])


@migrations()
def m011_workspace_settings(db: Database) -> None:
    """Settings a Slack workspace's admin chose (bot/storage/workspaces.py): an empty column is
    "not set", so the operator's setting applies there. Who changed it is not kept: a member
    who asks to be forgotten leaves no trace here."""
    db["workspace_settings"].create(
        {
            "workspace": str,
            "lang": str,
            "pulse_admins": str,
            "min_responses": int,
            "timezone": str,
            "updated_at": str,
        },
        pk="workspace",
        not_null={"updated_at"},
    )


@migrations()
def m012_workspace_uninstalls(db: Database) -> None:
    """Slack workspaces that uninstalled the app (or revoked its token), and when: their data
    is purged once the grace period has passed, unless a reinstall removed the row first."""
    db["workspace_uninstalls"].create(
        {"team_id": str, "uninstalled_at": str}, pk="team_id", not_null={"uninstalled_at"}
    )


@migrations()
def m013_web_sessions(db: Database) -> None:
    """The dashboard's sign-in links and sessions (bot/storage/web_sessions.py): each stored only
    as the SHA-256 of its secret, with whom it is for (as the chat knew them at sign-in) and
    when it expires; a link also when it was used (it is good once)."""
    who = {
        "channel": str,
        "external_id": str,
        "lang": str,
        "workspace": str,
        "workspace_admin": int,
        "admin_of_groups": str,
    }
    db["web_links"].create(
        {"token_hash": str, **who, "created_at": str, "expires_at": str, "used_at": str},
        pk="token_hash",
        not_null={"channel", "external_id", "lang", "workspace_admin", "created_at", "expires_at"},
    )
    db["web_links"].create_index(["expires_at"])
    db["web_links"].create_index(["channel", "external_id"])
    db["web_sessions"].create(
        {"id_hash": str, **who, "csrf_secret": str, "created_at": str, "expires_at": str},
        pk="id_hash",
        not_null={"channel", "external_id", "lang", "workspace_admin", "csrf_secret"},
    )
    db["web_sessions"].create_index(["expires_at"])
    db["web_sessions"].create_index(["channel", "external_id"])


@migrations()
def m014_pulse_open_failures(db: Database) -> None:
    """Since when a pulse's round could not open (its channel or group gone): set at the first
    failed try, so its creator is told once, and cleared when a round opens again."""
    db["pulses"].add_column("open_failing_since", str)


SCHEMA_VERSION = len(migrations._migrations)
