"""Time as the pulse keeps it: UTC ISO strings in the database, local time in messages."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.storage.pulses import PulseRow
from flows.pulse import Schedule


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


def local_time(moment: datetime, timezone: str | None) -> str:
    """A moment as the team reads it, in the pulse's time zone."""
    return moment.astimezone(ZoneInfo(timezone or "UTC")).strftime("%Y-%m-%d %H:%M")


def schedule_of(pulse: PulseRow) -> Schedule:
    return Schedule(pulse.cadence, pulse.weekday, pulse.hour, pulse.minute, pulse.timezone)
