"""Slack installations and OAuth states in our own database (m010), so "Add to Slack" works on
SQLite and PostgreSQL alike with the stores' one set of SQL, instead of slack_sdk's SQLite or
SQLAlchemy stores (a second way to reach the database, and only one of the two backends).

bot/slack/oauth.py turns them into slack_sdk's `InstallationStore` (bot installations only: the
app asks for no user scopes) and `OAuthStateStore`, which Bolt's OAuth flow and its `authorize`
call (this package imports no Slack library). One row per
workspace, or per Enterprise Grid organisation for an org-wide install; an absent id is stored as
'' (a key column cannot be NULL on PostgreSQL). The bot token is a secret: it is read only to
hand it to Bolt, and never logged or shown (`InstallationRow.__repr__` leaves it out).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.storage.connection import Connection

log = logging.getLogger("bot.storage.installations")

STATE_SECONDS = 10 * 60
"""How long an issued OAuth state stays valid: the time to click "Allow" on Slack's page."""

_NAMES = (
    "enterprise_id", "team_id", "is_enterprise_install", "app_id", "bot_token", "bot_id",
    "bot_user_id", "bot_scopes", "installer_user_id", "team_name", "enterprise_name",
    "installed_at",
)  # fmt: skip
_COLUMNS = ", ".join(_NAMES)


@dataclass(frozen=True)
class InstallationRow:
    """One stored installation; the token stays out of its repr (and so out of any log)."""

    enterprise_id: str
    team_id: str
    is_enterprise_install: int
    app_id: str | None
    bot_token: str = field(repr=False)
    bot_id: str | None
    bot_user_id: str | None
    bot_scopes: str | None
    installer_user_id: str | None
    team_name: str | None
    enterprise_name: str | None
    installed_at: str


def key(enterprise_id: str | None, team_id: str | None, org_wide: bool | None) -> tuple[str, str]:
    """The row's key: an org-wide install is the organisation's, whatever workspace asks."""
    return enterprise_id or "", "" if org_wide else (team_id or "")


class Installations:
    """The installations table over our connection (bot tokens only)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def save(self, row: InstallationRow, workspace: str | None = None) -> None:
        """Keep (or replace: a reinstall) the workspace's bot installation. An uninstall of the
        workspace (`workspace`: the key its uninstall was recorded under, by default the team
        id) is forgotten: its data is no longer due to be purged (bot/storage/purge.py)."""
        values = tuple(getattr(row, name) for name in _NAMES)
        workspace = workspace or row.team_id
        with self.connection.transaction():
            if workspace:
                self.connection.execute(
                    "delete from workspace_uninstalls where team_id = ?", (workspace,)
                )
            self.connection.execute(
                f"insert into slack_installations ({_COLUMNS}) "
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "on conflict(enterprise_id, team_id) do update set "
                + ", ".join(f"{name} = excluded.{name}" for name in _NAMES[2:]),
                values,
            )

    def delete(self, enterprise_id: str | None, team_id: str | None) -> None:
        with self.connection.transaction():
            self.connection.execute(
                "delete from slack_installations where enterprise_id = ? and team_id = ?",
                (enterprise_id or "", team_id or ""),
            )

    def find(
        self, enterprise_id: str | None, team_id: str | None, org_wide: bool | None = False
    ) -> InstallationRow | None:
        enterprise, team = key(enterprise_id, team_id, org_wide)
        rows = self.connection._rows(
            f"select {_COLUMNS} from slack_installations where enterprise_id = ? and team_id = ?",
            enterprise,
            team,
        )
        return InstallationRow(**rows[0]) if rows else None

    def rows(self) -> list[InstallationRow]:
        """Every installation, in the order they were first made."""
        sql = f"select {_COLUMNS} from slack_installations order by rowid"
        return [InstallationRow(**row) for row in self.connection._rows(sql)]


class OAuthStates:
    """slack_sdk's OAuth state store over our connection: a state is random, valid once (the
    consuming delete is one statement, so two processes cannot both accept it) and only until
    it expires."""

    def __init__(
        self,
        connection: Connection,
        *,
        expiration_seconds: float = STATE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.connection = connection
        self.expiration_seconds = expiration_seconds
        self.clock = clock

    def issue(self) -> str:
        state = secrets.token_urlsafe(32)
        now = self.clock()
        with self.connection.transaction():
            self.connection.execute("delete from oauth_states where expires_at <= ?", (now,))
            self.connection.execute(
                "insert into oauth_states (state, expires_at) values (?, ?)",
                (state, now + self.expiration_seconds),
            )
        return state

    def consume(self, state: str) -> bool:
        """True once for a state we issued that has not expired; False for any other."""
        with self.connection.transaction():
            deleted = self.connection.execute(
                "delete from oauth_states where state = ? and expires_at > ?",
                (state, self.clock()),
            )
            accepted = deleted.rowcount == 1
        if not accepted:
            log.warning("refused an OAuth state: unknown, used before or expired")
        return accepted
