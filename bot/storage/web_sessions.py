"""Dashboard sign-in links and sessions (m013), on both backends.

A link is a random token sent in the person's DM; only its SHA-256 is stored, with who it is
for, so a copy of the database signs nobody in. It is good once (the update that marks it used
is the check: two tabs racing get one session) and for `LINK_MINUTES`. A session is the same:
a random id in an HttpOnly cookie, stored as its hash, with an expiry checked here on every
read; signing out deletes the row. Used and expired links are kept a day so that a reused link
is told apart from a mistyped one; older rows go whenever a link is issued or redeemed.

`now` is injectable everywhere so tests control the clock instead of sleeping."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.web.viewer import Viewer, WebSession

LINK_MINUTES = 10
KEPT_AFTER_EXPIRY = timedelta(days=1)
"""How long a used or expired link is kept, to say "used" rather than "unknown"."""

VALID, USED, EXPIRED, UNKNOWN = "valid", "used", "expired", "unknown"

_FIELDS = "channel, external_id, lang, workspace, workspace_admin, admin_of_groups"


@dataclass(frozen=True)
class LinkState:
    state: str
    """VALID, USED, EXPIRED or UNKNOWN."""
    lang: str | None = None
    """The language of whom the link was for (None when unknown)."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _viewer_values(viewer: Viewer) -> tuple[Any, ...]:
    return (
        viewer.channel,
        viewer.external_id,
        viewer.lang,
        viewer.workspace,
        1 if viewer.workspace_admin else 0,
        ",".join(viewer.admin_of_groups),
    )


def _viewer(row: Any) -> Viewer:
    channel, external_id, lang, workspace, admin, groups = row[:6]
    return Viewer(
        channel=channel,
        external_id=external_id,
        lang=lang,
        workspace=workspace or None,
        workspace_admin=bool(admin),
        admin_of_groups=tuple(g for g in (groups or "").split(",") if g),
    )


class WebSessionStore:
    """Sign-in links and sessions over the shared connection (its transactions nest)."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    # ---- links ------------------------------------------------------------------------------
    def issue_link(
        self, viewer: Viewer, *, now: datetime | None = None, minutes: float = LINK_MINUTES
    ) -> str:
        """A new single-use token for `viewer`, valid `minutes`; only its hash is kept."""
        moment = _now(now)
        token = secrets.token_urlsafe(32)
        with self.connection.transaction():
            self._clean(moment)
            self.connection.execute(
                f"insert into web_links (token_hash, {_FIELDS}, created_at, expires_at) "
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    digest(token),
                    *_viewer_values(viewer),
                    _stamp(moment),
                    _stamp(moment + timedelta(minutes=minutes)),
                ),
            )
        return token

    def link_state(self, token: str, *, now: datetime | None = None) -> LinkState:
        """What opening `token` would do, without using it (the page before the button)."""
        rows = self.connection._rows(
            "select lang, expires_at, used_at from web_links where token_hash = ?", digest(token)
        )
        if not rows:
            return LinkState(UNKNOWN)
        row = rows[0]
        if row["used_at"] is not None:
            return LinkState(USED, row["lang"])
        if row["expires_at"] <= _stamp(_now(now)):
            return LinkState(EXPIRED, row["lang"])
        return LinkState(VALID, row["lang"])

    def redeem_link(
        self, token: str, *, session_hours: float, now: datetime | None = None
    ) -> WebSession | LinkState:
        """Use `token` once: a new session for whom it was issued, or why not (LinkState). The
        one update that marks it used is the check, so two racing requests get one session."""
        moment = _now(now)
        with self.connection.transaction():
            row = self.connection.execute(
                "update web_links set used_at = ? where token_hash = ? and used_at is null "
                f"and expires_at > ? returning {_FIELDS}",
                (_stamp(moment), digest(token), _stamp(moment)),
            ).fetchone()
            if row is None:
                refusal = self.link_state(token, now=moment)
                return LinkState(USED, refusal.lang) if refusal.state == VALID else refusal
            viewer = _viewer(row)
            session_id = secrets.token_urlsafe(32)
            csrf = secrets.token_urlsafe(32)
            self.connection.execute(
                f"insert into web_sessions (id_hash, {_FIELDS}, csrf_secret, created_at, "
                "expires_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    digest(session_id),
                    *_viewer_values(viewer),
                    csrf,
                    _stamp(moment),
                    _stamp(moment + timedelta(hours=session_hours)),
                ),
            )
            self._clean(moment)
        return WebSession(viewer, csrf, session_id)

    # ---- sessions ---------------------------------------------------------------------------
    def session(self, session_id: str, *, now: datetime | None = None) -> WebSession | None:
        """The live session with this id, or None (unknown, ended or expired)."""
        rows = self.connection._rows(
            f"select {_FIELDS}, csrf_secret from web_sessions where id_hash = ? and expires_at > ?",
            digest(session_id),
            _stamp(_now(now)),
        )
        if not rows:
            return None
        row = rows[0]
        values = [row[name.strip()] for name in _FIELDS.split(",")]
        return WebSession(_viewer(values), row["csrf_secret"], session_id)

    def end_session(self, session_id: str) -> None:
        with self.connection.transaction():
            self.connection.execute(
                "delete from web_sessions where id_hash = ?", (digest(session_id),)
            )

    def forget(self, channel: str, external_id: str) -> int:
        """Delete a person's links and sessions (part of /forget; call inside a transaction)."""
        key = (external_id, channel)
        return sum(
            self.connection.execute(
                f"delete from {table} where external_id = ? and channel = ?", key
            ).rowcount
            for table in ("web_links", "web_sessions")
        )

    def teams_of(self, channel: str, member: str, limit: int = 50) -> list[str]:
        """The pulse teams (their chat ids) `member` joined or started on `channel`: where a
        Telegram person may be a group admin, asked of Telegram at sign-in."""
        rows = self.connection._rows(
            "select t.external_id from teams t where t.channel = ? and (t.created_by = ? "
            "or exists (select 1 from team_members m where m.team_id = t.id and m.member = ?)) "
            "order by t.id limit ?",
            channel,
            member,
            member,
            limit,
        )
        return [row["external_id"] for row in rows]

    def _clean(self, moment: datetime) -> None:
        self.connection.execute(
            "delete from web_links where expires_at < ?", (_stamp(moment - KEPT_AFTER_EXPIRY),)
        )
        self.connection.execute("delete from web_sessions where expires_at <= ?", (_stamp(moment),))
