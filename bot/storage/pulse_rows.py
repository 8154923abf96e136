"""The rows the pulse store hands out: plain values, so the pulse's logic never sees a database
row and this module stays the pulse store's vocabulary, apart from its SQL (bot/storage/pulses.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.pulse import RoundReport
from flows.results import StoredResult


@dataclass(frozen=True)
class PulseRow:
    """A team's pulse as stored: the schedule, its state and the team it belongs to."""

    team_id: int
    team: str
    """The platform's id of the team (a Slack channel, a Telegram chat)."""
    team_name: str | None
    model_id: str
    cadence: str
    weekday: int
    hour: int
    minute: int
    timezone: str
    status: str
    next_run_at: str
    lang: str | None
    created_by: str | None


@dataclass(frozen=True)
class Invitation:
    """An invitation still to deliver, with what its message says."""

    round_id: int
    member: str
    model_id: str
    deadline_at: str
    team_name: str | None
    timezone: str | None


@dataclass(frozen=True)
class DueReminder:
    round_id: int
    model_id: str
    deadline_at: str
    team_name: str | None
    timezone: str | None


@dataclass(frozen=True)
class ClosableRound:
    round_id: int
    team_id: int
    model_id: str
    team: str
    team_name: str | None
    lang: str


@dataclass(frozen=True)
class RoundInputs:
    """What a round's report is computed from: counts and results, never who gave them."""

    invited: int
    results: tuple[StoredResult, ...]
    previous_median: int | None


@dataclass(frozen=True)
class ClosedRound:
    round_id: int
    closed_at: str
    model_id: str
    report: RoundReport
