"""Who someone is in Slack, as one value: a user id is unique only within its workspace, so the
identity the service stores (`external_id`) is the workspace and the user together. One format
and one parse, used by the app and the pulse alike."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SlackMember:
    team: str
    """The workspace id (`T…`)."""
    user: str
    """The user id (`U…` or `W…`)."""

    @property
    def key(self) -> str:
        """The id the service and the pulse store: `T123:U456`."""
        return f"{self.team}:{self.user}"

    @classmethod
    def parse(cls, key: str) -> SlackMember:
        """The inverse of `key`; a key without a workspace (an old row) keeps the user part."""
        team, _, user = key.rpartition(":")
        return cls(team, user)
