"""Team pulse checks, channel-free: schedules, the pulse subset of a model, anonymous aggregates.

A pulse is a short re-measurement (the questions marked `pulse: true`) that a team takes every
few weeks. Everything here is pure: when the next round falls due, what a round's report says,
and the anonymity rule (no figures at all below K respondents). Storage, timers and sending live
in bot/pulse/service.py; the channels only deliver messages.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flows.i18n import t
from flows.model_schema import MaturityModel, Text

if TYPE_CHECKING:  # annotations only: the settings import this module, so it stays light
    from flows.results import StoredResult

PULSE_SUFFIX = "_pulse"
MIN_RESPONSES_FLOOR = 3
"""K is never accepted below this: with fewer answers, individuals can be recognised."""
DEFAULT_MIN_RESPONSES = 5
CADENCES = ("weekly", "biweekly", "monthly")
_CADENCE_WORDS = {
    "weekly": "weekly",
    "wekelijks": "weekly",
    "biweekly": "biweekly",
    "tweewekelijks": "biweekly",
    "fortnightly": "biweekly",
    "monthly": "monthly",
    "maandelijks": "monthly",
}
_DAYS = {
    "mon": 0, "monday": 0, "ma": 0, "maandag": 0,
    "tue": 1, "tuesday": 1, "di": 1, "dinsdag": 1,
    "wed": 2, "wednesday": 2, "wo": 2, "woensdag": 2,
    "thu": 3, "thursday": 3, "do": 3, "donderdag": 3,
    "fri": 4, "friday": 4, "vr": 4, "vrijdag": 4,
    "sat": 5, "saturday": 5, "za": 5, "zaterdag": 5,
    "sun": 6, "sunday": 6, "zo": 6, "zondag": 6,
}  # fmt: skip


class PulseInputError(ValueError):
    """Words that do not make a schedule; `key` names the message that explains why."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class Schedule:
    cadence: str
    weekday: int
    """0 = Monday. Monthly rounds fall on the first such weekday of the month."""
    hour: int
    minute: int
    timezone: str

    def describe(self, lang: str) -> str:
        return t(
            f"pulse_cadence_{self.cadence}",
            lang,
            day=t(f"weekday_{self.weekday}", lang),
            time=f"{self.hour:02d}:{self.minute:02d}",
            tz=self.timezone,
        )


def parse_schedule(words: Sequence[str], timezone: str) -> Schedule:
    """`weekly|biweekly|monthly [day] [HH:MM]` (Dutch words too); default Monday 09:00."""
    if not words:
        raise PulseInputError("pulse_schedule_usage")
    cadence = _CADENCE_WORDS.get(words[0].lower())
    if cadence is None:
        raise PulseInputError("pulse_bad_cadence", value=words[0])
    weekday, hour, minute = 0, 9, 0
    for word in words[1:]:
        lowered = word.lower()
        if lowered in _DAYS:
            weekday = _DAYS[lowered]
        elif ":" in lowered:
            hh, _, mm = lowered.partition(":")
            if not (hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60):
                raise PulseInputError("pulse_bad_time", value=word)
            hour, minute = int(hh), int(mm)
        else:
            raise PulseInputError("pulse_bad_word", value=word)
    check_timezone(timezone)
    return Schedule(cadence, weekday, hour, minute, timezone)


def check_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PulseInputError("pulse_bad_timezone", value=name) from exc


def next_run(schedule: Schedule, after: datetime, previous: datetime | None = None) -> datetime:
    """The first slot strictly after `after` (UTC). Biweekly counts from the previous round."""
    zone = ZoneInfo(schedule.timezone)
    local = after.astimezone(zone)
    if schedule.cadence == "biweekly" and previous is not None:
        candidate = previous.astimezone(zone) + timedelta(days=14)
        candidate = candidate.replace(hour=schedule.hour, minute=schedule.minute)
        while candidate <= local:
            candidate += timedelta(days=14)
        return _to_utc(candidate, zone)
    if schedule.cadence == "monthly":
        year, month = local.year, local.month
        for _ in range(14):
            candidate = _first_weekday(year, month, schedule, zone)
            if candidate > local:
                return _to_utc(candidate, zone)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        raise AssertionError("no monthly slot found")  # unreachable
    days = (schedule.weekday - local.weekday()) % 7
    candidate = (local + timedelta(days=days)).replace(
        hour=schedule.hour, minute=schedule.minute, second=0, microsecond=0
    )
    if candidate <= local:
        candidate += timedelta(days=7)
    return _to_utc(candidate, zone)


def _first_weekday(year: int, month: int, schedule: Schedule, zone: ZoneInfo) -> datetime:
    first = datetime(year, month, 1, schedule.hour, schedule.minute, tzinfo=zone)
    return first + timedelta(days=(schedule.weekday - first.weekday()) % 7)


def _to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    # re-attach the zone so a slot across a DST change keeps its wall-clock time
    naive = local.replace(tzinfo=None)
    return naive.replace(tzinfo=zone).astimezone(UTC)


def pulse_model(model: MaturityModel) -> MaturityModel:
    """The model cut down to its pulse questions, scored the same way."""
    questions = [q for q in model.questions if q.pulse]
    return model.model_copy(update={"id": model.id + PULSE_SUFFIX, "questions": questions})


def pulse_models(models: dict[str, MaturityModel]) -> dict[str, MaturityModel]:
    """Pulse variants of the maturity models (a team re-measures its phase, not its steps)."""
    return {
        m.id + PULSE_SUFFIX: pulse_model(m)
        for m in models.values()
        if m.kind in ("stages", "pillars") and any(q.pulse for q in m.questions)
    }


def base_model_id(model_id: str) -> str:
    return model_id.removesuffix(PULSE_SUFFIX)


@dataclass(frozen=True)
class RoundReport:
    invited: int
    answered: int
    min_responses: int
    withheld: bool
    distribution: tuple[int, ...] = ()
    """Respondents per phase, in phase order."""
    median_index: int | None = None
    pillar_averages: tuple[tuple[str, float], ...] = ()
    """(pillar id, average level 1-based)."""
    change: int | None = None
    """Median phase steps since the previous reported round."""
    top_actions: tuple[Text, ...] = field(default_factory=tuple)


def aggregate(
    model: MaturityModel,
    results: Sequence[StoredResult],
    invited: int,
    min_responses: int,
    previous_median: int | None = None,
) -> RoundReport:
    """The team result, or only the counts when fewer than `min_responses` answered.

    Below K nothing else is computed at all: what is never computed cannot leak.
    """
    k = max(min_responses, MIN_RESPONSES_FLOOR)
    if len(results) < k:
        return RoundReport(invited, len(results), k, withheld=True)
    indices = [_index(model, r.phase_id) for r in results]
    distribution = tuple(
        indices.count(i) for i in range(len(model.phases) + (model.kind == "steps"))
    )
    median = statistics.median_low(indices)
    pillars = tuple(
        (
            p.id,
            round(
                statistics.fmean(
                    model.phase_index(r.pillar_levels[p.id]) + 1
                    for r in results
                    if p.id in r.pillar_levels
                ),
                2,
            ),
        )
        for p in model.pillars
        if any(p.id in r.pillar_levels for r in results)
    )
    counts: Counter[tuple[str, ...]] = Counter()
    texts: dict[tuple[str, ...], Text] = {}
    for result in results:
        for key, text in _actions_for(model, result):
            counts[key] += 1
            texts[key] = text
    top = tuple(texts[key] for key, _ in counts.most_common(3))
    change = None if previous_median is None else median - previous_median
    return RoundReport(
        invited,
        len(results),
        k,
        withheld=False,
        distribution=distribution,
        median_index=median,
        pillar_averages=pillars,
        change=change,
        top_actions=top,
    )


def _index(model: MaturityModel, phase_id: str) -> int:
    if model.kind == "steps" and phase_id not in {p.id for p in model.phases}:
        return len(model.phases)  # complete
    return model.phase_index(phase_id)


def _actions_for(model: MaturityModel, result: StoredResult) -> list[tuple[tuple[str, ...], Text]]:
    """The next actions one member's result points to (weakest pillars' actions for pillars)."""
    index = _index(model, result.phase_id)
    if index >= len(model.phases):
        return []
    phase = model.phases[index]
    if model.kind == "pillars" and index < len(model.phases) - 1:
        out = []
        for pillar in model.pillars:
            if result.pillar_levels.get(pillar.id) == phase.id:
                for i, text in enumerate(pillar.next_actions.get(phase.id, [])):
                    out.append((("pillar", pillar.id, phase.id, str(i)), text))
        if out:
            return out
    return [(("phase", phase.id, str(i)), text) for i, text in enumerate(phase.next_actions)]


def phase_label(model: MaturityModel, index: int, lang: str) -> str:
    if index >= len(model.phases):
        return t("complete_name", lang)
    return model.phases[index].name.get(lang)


def report_text(model: MaturityModel, team: str, report: RoundReport, lang: str) -> str:
    """The message posted in the team's channel: aggregates only, never a person."""
    name = model.name.get(lang)
    lines = [t("pulse_report_title", lang, team=team, model=name)]
    lines.append(
        t(
            "pulse_report_count",
            lang,
            answered=report.answered,
            invited=report.invited,
            percent=round(100 * report.answered / report.invited) if report.invited else 0,
        )
    )
    if report.withheld:
        lines.append(t("pulse_report_withheld", lang, k=report.min_responses))
        return "\n".join(lines)
    lines.append(t("pulse_report_phase", lang, phase=phase_label(model, report.median_index, lang)))
    if report.change is not None:
        key = "pulse_change_up" if report.change > 0 else "pulse_change_down"
        key = "pulse_change_same" if report.change == 0 else key
        lines.append(t(key, lang, steps=abs(report.change)))
    lines.append(t("pulse_report_distribution", lang))
    for index, count in enumerate(report.distribution):
        lines.append(f"  {phase_label(model, index, lang)}: {count}")
    if report.pillar_averages:
        lines.append(t("pulse_report_pillars", lang))
        for pillar_id, average in report.pillar_averages:
            pillar = model.pillar(pillar_id)
            lines.append(f"  {pillar.name.get(lang)}: {average:.1f} / {len(model.phases)}")
    if report.top_actions:
        lines.append(t("pulse_report_actions", lang))
        lines += [f"  - {text.get(lang)}" for text in report.top_actions]
    return "\n".join(lines)


@dataclass(frozen=True)
class PulseChart:
    """What a round's chart shows, already in the team's language: the chart code draws it and
    translates nothing (as ChartSpec does for the radar)."""

    title: str
    phase_labels: tuple[str, ...]
    """Under the bars: one label per entry of `distribution`."""
    distribution: tuple[int, ...]
    count_label: str
    level_names: tuple[str, ...]
    """The trend's scale: the model's phases, lowest first."""
    trend: tuple[tuple[str, int], ...]
    """(date, median phase index) of every reported round, oldest first."""


def pulse_chart(
    model: MaturityModel, report: RoundReport, trend: Sequence[tuple[str, int]], lang: str
) -> PulseChart:
    return PulseChart(
        title=t("pulse_chart_title", lang, model=model.name.get(lang)),
        phase_labels=tuple(phase_label(model, i, lang) for i in range(len(report.distribution))),
        distribution=tuple(report.distribution),
        count_label=t("pulse_report_distribution", lang).rstrip(":"),
        level_names=tuple(p.name.get(lang) for p in model.phases),
        trend=tuple(trend),
    )


def report_json(report: RoundReport) -> dict:
    """The report as stored with its round (and exported): aggregates only."""
    return {
        "invited": report.invited,
        "answered": report.answered,
        "min_responses": report.min_responses,
        "withheld": report.withheld,
        "distribution": list(report.distribution),
        "median_index": report.median_index,
        "pillar_averages": [list(p) for p in report.pillar_averages],
        "change": report.change,
        "top_actions": [{"nl": a.nl, "en": a.en} for a in report.top_actions],
    }


def report_from_json(data: dict) -> RoundReport:
    return RoundReport(
        invited=data["invited"],
        answered=data["answered"],
        min_responses=data["min_responses"],
        withheld=data["withheld"],
        distribution=tuple(data.get("distribution") or ()),
        median_index=data.get("median_index"),
        pillar_averages=tuple((p, v) for p, v in data.get("pillar_averages") or ()),
        change=data.get("change"),
        top_actions=tuple(Text(**a) for a in data.get("top_actions") or ()),
    )
