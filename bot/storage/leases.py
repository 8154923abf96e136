"""Leases by name in the database: the pulse scheduler runs in one worker at a time.

A lease is a row with an expiry (m009), on both backends, taken and renewed by one statement
that only succeeds when the row is free, expired or already the caller's, and timed by the
database's own clock (workers on several machines need not agree on the time). Chosen over
PostgreSQL's session advisory lock: it behaves the same on SQLite and PostgreSQL (one code
path, one test), pins no pooled connection for the life of the scheduler (a lock that vanishes
silently when that connection is recycled or drops), works behind a transaction-pooling proxy,
and says who holds it (for readiness). The price: a holder killed with -9 frees it only when
its lease runs out, so the holder renews well within `seconds` (a third of it, say) and
another worker takes over at most `seconds` after the holder died.
"""

from __future__ import annotations

from typing import Any


class Leases:
    """Mixed into the pulse store: `self.connection` is the database's Connection."""

    connection: Any

    def try_lease(self, name: str, holder: str, seconds: float) -> bool:
        """Take or renew the lease `name` for `seconds`; False while another holder's lease
        runs (see the module's docstring for why a row and not an advisory lock)."""
        with self.connection.transaction():
            now = self.connection.dialect.now_epoch
            taken = self.connection.execute(
                f"insert into leases (name, holder, expires_at) values (?, ?, {now} + ?) "
                "on conflict(name) do update set holder = excluded.holder, "
                "expires_at = excluded.expires_at "
                f"where leases.holder = excluded.holder or leases.expires_at <= {now}",
                (name, holder, float(seconds)),
            )
            return taken.rowcount == 1

    def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up at once (a clean stop), only if `holder` still has it."""
        with self.connection.transaction():
            self.connection.execute(
                "delete from leases where name = ? and holder = ?", (name, holder)
            )

    def lease_holder(self, name: str) -> str | None:
        """Who holds the lease now, or None when nobody does (or theirs ran out)."""
        now = self.connection.dialect.now_epoch
        rows = self.connection._rows(
            f"select holder from leases where name = ? and expires_at > {now}", name
        )
        return rows[0]["holder"] if rows else None
