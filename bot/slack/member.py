"""Who someone is in Slack, as one value: a user id is unique only within its workspace, so the
identity the service stores (`external_id`) is the workspace and the user together. One format
and one parse, used by the app and the pulse alike.

A workspace is named by its *workspace key*: the team id (`T123`), or, for a workspace of an
Enterprise Grid organisation served in OAuth mode, the organisation and the team (`E1:T123`),
or the organisation alone for what an org-wide install does organisation-wide (`E1`). A
member is the workspace key and the user (`T123:U456`, `E1:T123:W456`); a pulse team in OAuth
mode is the workspace key and the channel (`T123:C789`). A self-hosted app (one bot token)
keeps the team id alone, also on Grid, so the rows stored before stay its members'.
"""

from __future__ import annotations

from dataclasses import dataclass


def workspace_key(enterprise_id: str | None, team_id: str | None) -> str:
    """`E:T`, `T`, or `E` (an organisation-wide event that names no workspace)."""
    if enterprise_id and team_id and team_id != enterprise_id:
        return f"{enterprise_id}:{team_id}"
    return team_id or enterprise_id or ""


def split_workspace(key: str) -> tuple[str | None, str | None]:
    """The inverse of `workspace_key`: (enterprise id, team id), either None when absent."""
    if ":" in key:
        enterprise, _, team = key.partition(":")
        return enterprise, team
    if key.startswith("E"):
        return key, None
    return None, key or None


@dataclass(frozen=True)
class SlackMember:
    team: str
    """The workspace key (`T…`, or `E…:T…` on Grid in OAuth mode)."""
    user: str
    """The user id (`U…` or `W…`), or the channel id of a pulse team (`C…`)."""

    @property
    def key(self) -> str:
        """The id the service and the pulse store: `T123:U456`."""
        return f"{self.team}:{self.user}"

    @classmethod
    def parse(cls, key: str) -> SlackMember:
        """The inverse of `key`; a key without a workspace (an old row) keeps the user part."""
        team, _, user = key.rpartition(":")
        return cls(team, user)
