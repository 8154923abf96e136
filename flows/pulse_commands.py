"""What a `pulse ...` command did, as typed values, and the one place its words are listed.

The pulse core answers a command with one of these values, not with a sentence: an adapter that
needs to know what happened (a refusal shown only to the person refused, a start followed by a
join button) tests the type, never the wording. `pulse_text` is the core's own wording in the
user's language; an adapter may word a case its own way (Slack names who may start a pulse).
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.i18n import t
from flows.model_schema import MaturityModel, Text
from flows.pulse import RoundReport, Schedule, report_text

VERBS = ("start", "status", "pause", "resume", "stop", "now", "report")
"""The words the pulse acts on; anything else gets the help."""
ALIASES = {"export": "report"}
ADMIN_VERBS = frozenset(VERBS) - {"status"}
"""What only the pulse's admins may do (anyone may ask the status)."""


def verb_of(words: list[str] | tuple[str, ...]) -> str | None:
    """The command's verb, or None when the words are not a pulse command (the help)."""
    word = words[0].lower() if words else ""
    word = ALIASES.get(word, word)
    return word if word in VERBS else None


@dataclass(frozen=True)
class PulseHelp:
    min_responses: int


@dataclass(frozen=True)
class NotAdmin:
    """Refused: the person may not change this team's pulse (see the platform for who may)."""


@dataclass(frozen=True)
class NoPulse:
    """The team has no pulse (or no closed round to report)."""


@dataclass(frozen=True)
class PulseStatus:
    model_name: Text
    schedule: Schedule
    state: str
    """active, paused or stopped."""
    next_round: str
    """Local time of the next round, as the team reads it."""
    members: int


@dataclass(frozen=True)
class ScheduleUsage:
    """`start` without a model."""


@dataclass(frozen=True)
class UnknownModel:
    value: str
    model_ids: tuple[str, ...]


@dataclass(frozen=True)
class BadSchedule:
    key: str
    """The catalogue key that explains what is wrong (from PulseInputError)."""
    values: tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class Started:
    model_name: Text
    schedule: Schedule
    first_round: str
    min_responses: int


@dataclass(frozen=True)
class Paused:
    pass


@dataclass(frozen=True)
class Stopped:
    pass


@dataclass(frozen=True)
class Resumed:
    next_round: str


@dataclass(frozen=True)
class RoundRunning:
    """`now` while a round is open: it runs until its deadline."""

    deadline: str


@dataclass(frozen=True)
class RoundStarted:
    """`now`: a round was opened at once."""


@dataclass(frozen=True)
class Reports:
    """`report`: the latest closed rounds, aggregates only."""

    model: MaturityModel
    team_name: str
    reports: tuple[RoundReport, ...]


PulseResult = (
    PulseHelp
    | NotAdmin
    | NoPulse
    | PulseStatus
    | ScheduleUsage
    | UnknownModel
    | BadSchedule
    | Started
    | Paused
    | Stopped
    | Resumed
    | RoundRunning
    | RoundStarted
    | Reports
)


def pulse_text(result: PulseResult, lang: str) -> str:
    """The core's words for `result` in `lang`."""
    match result:
        case PulseHelp(k):
            return t("pulse_help", lang, k=k)
        case NotAdmin():
            return t("pulse_not_admin", lang)
        case NoPulse():
            return t("pulse_none", lang)
        case PulseStatus():
            return t(
                "pulse_status",
                lang,
                model=result.model_name.get(lang),
                schedule=result.schedule.describe(lang),
                state=t(f"pulse_state_{result.state}", lang),
                when=result.next_round,
                members=result.members,
            )
        case ScheduleUsage():
            return t("pulse_schedule_usage", lang)
        case UnknownModel(value, ids):
            return t("pulse_bad_model", lang, value=value, ids=", ".join(ids))
        case BadSchedule(key, values):
            return t(key, lang, **dict(values))
        case Started():
            return t(
                "pulse_started",
                lang,
                model=result.model_name.get(lang),
                schedule=result.schedule.describe(lang),
                when=result.first_round,
                k=result.min_responses,
            )
        case Paused():
            return t("pulse_paused", lang)
        case Stopped():
            return t("pulse_stopped", lang)
        case Resumed(when):
            return t("pulse_resumed", lang, when=when)
        case RoundRunning(deadline):
            return t("pulse_round_open", lang, when=deadline)
        case RoundStarted():
            return t("pulse_now", lang)
        case Reports(model, team_name, reports):
            return "\n\n".join(report_text(model, team_name, r, lang) for r in reports)
    raise TypeError(f"not a pulse result: {result!r}")
