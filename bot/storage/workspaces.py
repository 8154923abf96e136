"""Settings a workspace's admin chose (language, pulse admins, K, time zone), one row per
workspace (m011), on both backends. A column left empty means "not set": the operator's setting
applies there, so a row never has to copy the operator's values (which may change later).

Only storage: what a value may be (K never below 3, a known time zone) is checked before it gets
here, by the command that changes it (bot/slack/settings_command.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.storage.connection import now_iso

SETTING_COLUMNS = ("lang", "pulse_admins", "min_responses", "timezone")
"""The columns a setting may change; names never come from a user unchecked."""


@dataclass(frozen=True)
class WorkspaceSettings:
    """A workspace's own values; None where it has none (the operator's applies)."""

    lang: str | None = None
    pulse_admins: tuple[str, ...] | None = None
    min_responses: int | None = None
    timezone: str | None = None


class WorkspaceStore:
    """Per-workspace settings over the shared connection (its transactions nest)."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def workspace_settings(self, workspace: str) -> WorkspaceSettings:
        rows = self.connection._rows(
            "select lang, pulse_admins, min_responses, timezone from workspace_settings "
            "where workspace = ?",
            workspace,
        )
        if not rows:
            return WorkspaceSettings()
        row = rows[0]
        admins = row["pulse_admins"]
        return WorkspaceSettings(
            lang=row["lang"],
            pulse_admins=None if admins is None else tuple(a for a in admins.split(",") if a),
            min_responses=row["min_responses"],
            timezone=row["timezone"],
        )

    def set_workspace_setting(
        self, workspace: str, name: str, value: str | int | tuple[str, ...] | None
    ) -> None:
        """Set (or, with None, unset) one setting of `workspace`. Who did it is not kept (a
        member who is forgotten must leave no trace)."""
        if name not in SETTING_COLUMNS:
            raise ValueError(f"unknown workspace setting {name!r}")
        if isinstance(value, tuple):
            value = ",".join(value)
        with self.connection.transaction():
            self.connection.execute(
                f"insert into workspace_settings (workspace, {name}, updated_at) "
                "values (?, ?, ?) on conflict(workspace) do update set "
                f"{name} = excluded.{name}, updated_at = excluded.updated_at",
                (workspace, value, now_iso()),
            )
