"""The board report: the memo to the management team that a diagnosis is for.

The BMM source text (seed 003) ends where a diagnosis becomes useful: "strategic reasoning and an
action-oriented report, often a memo to the management team, to make room for growth in
maturity". This module turns a person's latest result per model, their initiatives matrix and,
for a team, its pulse rounds into that report's content, in one language: where the organisation
stands on each model and why, what holds it back, a roadmap of next actions per quarter with the
implementation steps that fit them, and the initiatives with the goals they serve.

Pure: no I/O. The result cards' own builders (results.py, step_results.py) give the "why", so the
report says what the chat said; the web page and the PDF only lay the report out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from flows.i18n import t
from flows.initiatives import Initiative, build_matrix, objective_name
from flows.model_schema import COMPLETE, MaturityModel
from flows.pillar_results import join_words, pillar_level_indices, profile_sentence
from flows.pulse import RoundReport, phase_label
from flows.replies import ChartSpec
from flows.report_roadmap import Quarter, long_date, roadmap
from flows.results import (
    PastResult,
    StoredResult,
    held_back_lines,
    phase_name,
    result_card,
)
from flows.scan import SCAN_ID
from flows.step_results import step_card

SECTIONS: tuple[str, ...] = ("standing", "holding_back", "roadmap", "initiatives")
"""The report's sections, in order; "team" follows when a team's trend is included."""


@dataclass(frozen=True)
class Standing:
    """Where the organisation stands on one model, and why (the result card's own words)."""

    model_id: str
    model: str
    phase: str
    position: str
    """"Phase 2 of 4" (level, step) in words."""
    date: str
    why: tuple[str, ...]
    pillars: tuple[tuple[str, str, int, int], ...] = ()
    """(pillar, level name, level 1-based, number of levels), as on the result card."""
    chart: ChartSpec | None = None
    """Pillar models: the card's radar."""


@dataclass(frozen=True)
class Constraint:
    """What holds the organisation back on one model."""

    header: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class InitiativeRow:
    name: str
    channel: str
    objective: str
    goal: str


@dataclass(frozen=True)
class TeamInput:
    """A team's pulse rounds, oldest first, as (date, report): aggregates only (below K the
    report is withheld and carries counts only)."""

    name: str
    model_id: str
    rounds: Sequence[tuple[str, RoundReport]]


@dataclass(frozen=True)
class TeamSection:
    lines: tuple[str, ...]
    trend: tuple[tuple[str, int], ...]
    """(date, median phase index) of each reported round: what a trend chart draws."""
    level_names: tuple[str, ...]
    chart_title: str
    chart_text: str
    """The chart's text alternative."""


@dataclass(frozen=True)
class BoardReport:
    lang: str
    title: str
    subtitle: str
    summary: tuple[str, ...]
    """The memo: a few sentences a management team reads first."""
    headings: dict[str, str]
    intros: dict[str, str]
    """Per section: one sentence that says what it holds (or that it is empty, and why)."""
    standing: tuple[Standing, ...]
    holding_back: tuple[Constraint, ...]
    roadmap: tuple[Quarter, ...]
    initiatives: tuple[InitiativeRow, ...]
    initiative_notes: tuple[str, ...]
    team: TeamSection | None = None

    @property
    def sections(self) -> tuple[str, ...]:
        return SECTIONS + (("team",) if self.team else ())


def latest_per_model(results: Sequence[PastResult]) -> list[PastResult]:
    """The newest result of each model, newest first."""
    seen: dict[str, PastResult] = {}
    for past in sorted(results, key=lambda r: r.finished_at, reverse=True):
        seen.setdefault(past.model_id, past)
    return list(seen.values())


def build_report(
    results: Sequence[PastResult],
    models: Mapping[str, MaturityModel],
    initiatives: Sequence[Initiative],
    lang: str,
    start: date,
    organisation: str | None = None,
    team: TeamInput | None = None,
) -> BoardReport:
    """The report for the latest result of each model in `results` (results of models no longer
    loaded are left out; a quick scan places the maturity models it has no full result for)."""
    org = organisation or t("report_org_default", lang)
    latest = [p for p in latest_per_model(results) if p.model_id in models or p.model_id == SCAN_ID]
    own = {p.model_id: p for p in latest if p.model_id in models}
    placed = _scan_placements(latest, models, own)
    ordered = [own.get(m) or placed.get(m) for m in models if m in own or m in placed]
    standing = tuple(_standing(models[p.model_id], p, lang, p.model_id in placed) for p in ordered)
    holding = tuple(_constraint(models[p.model_id], p.result, lang) for p in ordered)
    plan = roadmap(ordered, models, start, lang)
    rows, notes = _initiatives(initiatives, lang)
    team_section = _team(team, models, lang) if team else None

    headings = {key: t(f"report_heading_{key}", lang) for key in SECTIONS + ("team",)}
    intros = {
        "standing": t("report_intro_standing" if ordered else "report_none_standing", lang),
        "holding_back": t("report_intro_holding_back" if ordered else "report_none_holding", lang),
        "roadmap": t("report_intro_roadmap" if plan else "report_none_roadmap", lang),
        "initiatives": t("report_intro_initiatives" if rows else "report_none_initiatives", lang),
        "team": t("report_intro_team", lang, team=team.name) if team else "",
    }
    return BoardReport(
        lang=lang,
        title=t("report_title", lang, organisation=org),
        subtitle=t("report_subtitle", lang, date=long_date(start, lang)),
        summary=_summary(org, ordered, models, plan, len(rows), lang),
        headings=headings,
        intros=intros,
        standing=standing,
        holding_back=holding,
        roadmap=plan,
        initiatives=rows,
        initiative_notes=notes,
        team=team_section,
    )


def _scan_placements(
    latest: Sequence[PastResult], models: Mapping[str, MaturityModel], own: Mapping[str, object]
) -> dict[str, PastResult]:
    """Maturity models without a full result, placed by the newest quick scan."""
    scan = next((p for p in latest if p.model_id == SCAN_ID), None)
    if scan is None:
        return {}
    placed = {}
    for model_id, phase_id in scan.result.placements.items():
        model = models.get(model_id)
        if model is None or model_id in own or all(p.id != phase_id for p in model.phases):
            continue
        result = StoredResult(
            phase_id=phase_id,
            spread=(phase_id, phase_id),
            answered=0,
            skipped=0,
            held_back=(),
            pillar_levels={p.id: phase_id for p in model.pillars},
        )
        placed[model_id] = PastResult(scan.assessment_id, model_id, scan.finished_at, result)
    return placed


def _standing(model: MaturityModel, past: PastResult, lang: str, scanned: bool) -> Standing:
    result = past.result
    if model.kind == "steps":
        card = step_card(model, result, lang, past.assessment_id)
        total = len(model.phases)
        number = total if result.phase_id == COMPLETE else model.phase_index(result.phase_id) + 1
    else:
        card = result_card(model, result, lang, past.assessment_id)
        total, number = len(model.phases), model.phase_index(result.phase_id) + 1
    why = (card.summary, *card.explanation)
    if scanned:
        why = (t("report_from_scan", lang), card.summary)
    return Standing(
        model_id=model.id,
        model=model.name.get(lang),
        phase=card.phase_name,
        position=t(f"report_position_{model.kind}", lang, number=number, total=total),
        date=past.finished_at[:10],
        why=why,
        pillars=card.pillar_levels,
        chart=card.chart,
    )


def _constraint(model: MaturityModel, result: StoredResult, lang: str) -> Constraint:
    name = model.name.get(lang)
    current = phase_name(model, result.phase_id, lang)
    lines = held_back_lines(model, result, lang)
    if model.kind == "steps":
        if result.phase_id == COMPLETE:
            return Constraint(
                t("report_held_steps_done", lang, model=name), (t("report_nothing_held", lang),)
            )
        first = [t("result_exit_moment", lang)] if result.exit_moment else []
        header = t("report_held_step", lang, model=name, step=current)
        return Constraint(header, tuple(first + lines) or (t("report_held_step_open", lang),))
    index = model.phase_index(result.phase_id)
    header = t("report_held_model", lang, model=name, phase=current)
    if model.kind == "pillars":
        levels = pillar_level_indices(model, result)
        lagging = [p for p in model.pillars if levels[p.id] == index]
        if any(level > index for level in levels.values()):
            lines.insert(0, profile_sentence(model, levels, lagging, index, lang))
        elif index < len(model.phases) - 1:
            lines.insert(0, t("report_pillars_level", lang, level=current))
    if not lines:
        top = index == len(model.phases) - 1
        lines = [t("report_nothing_held" if top else "report_held_spread", lang)]
    return Constraint(header, tuple(lines))


def _initiatives(
    initiatives: Sequence[Initiative], lang: str
) -> tuple[tuple[InitiativeRow, ...], tuple[str, ...]]:
    """One row per initiative, grouped by the goal it serves, and the matrix's gaps."""
    matrix = build_matrix(initiatives)
    no_goal = t("report_no_goal", lang)
    rows = [
        InitiativeRow(
            item.name, item.channel, objective_name(item.objective, lang), goal or no_goal
        )
        for goal in matrix.goals
        for item in initiatives
        if _same_goal(item.goal, goal)
    ]
    notes = []
    if matrix.without_goal:
        notes.append(t("matrix_flag_no_goal", lang, names=", ".join(matrix.without_goal)))
    if initiatives and matrix.empty_objectives:
        names = join_words([objective_name(o, lang) for o in matrix.empty_objectives], lang)
        notes.append(t("matrix_flag_empty", lang, names=names))
    return tuple(rows), tuple(notes)


def _same_goal(a: str | None, b: str | None) -> bool:
    """Goals are one goal whatever their capitals (as the matrix counts them)."""
    return (a or "").lower() == (b or "").lower()


def _team(team: TeamInput, models: Mapping[str, MaturityModel], lang: str) -> TeamSection:
    model = models.get(team.model_id)
    lines: list[str] = []
    trend: list[tuple[str, int]] = []
    top: tuple = ()
    for day, report in team.rounds:
        counts = {"date": day[:10], "answered": report.answered, "invited": report.invited}
        if report.withheld or report.median_index is None or model is None:
            lines.append(t("report_team_round_withheld", lang, k=report.min_responses, **counts))
            continue
        phase = phase_label(model, report.median_index, lang)
        lines.append(t("report_team_round", lang, phase=phase, **counts))
        trend.append((day[:10], report.median_index))
        top = report.top_actions
    if not lines:
        lines.append(t("report_team_no_rounds", lang))
    if top:
        lines.append(t("report_team_actions", lang, actions="; ".join(a.get(lang) for a in top)))
    name = model.name.get(lang) if model else team.model_id
    points = ", ".join(f"{d}: {phase_label(model, i, lang)}" for d, i in trend) if model else ""
    return TeamSection(
        lines=tuple(lines),
        trend=tuple(trend),
        level_names=tuple(p.name.get(lang) for p in model.phases) if model else (),
        chart_title=t("report_team_chart", lang, team=team.name, model=name),
        chart_text=points or t("report_team_no_rounds", lang),
    )


def _summary(
    org: str,
    ordered: Sequence[PastResult],
    models: Mapping[str, MaturityModel],
    plan: Sequence[Quarter],
    initiatives: int,
    lang: str,
) -> tuple[str, ...]:
    """The memo in a few sentences: what was measured, where the organisation stands on the
    maturity models (the step models only when nothing else was measured), where the roadmap
    starts, and what the management team is asked for."""
    if not ordered:
        return (t("report_summary_empty", lang, organisation=org),)
    lines = [t("report_summary_intro", lang, organisation=org)]
    maturity = [p for p in ordered if models[p.model_id].kind != "steps"] or list(ordered)
    parts = [
        t(
            "report_summary_model",
            lang,
            model=models[p.model_id].name.get(lang),
            phase=phase_name(models[p.model_id], p.result.phase_id, lang),
        )
        for p in maturity
    ]
    lines.append(t("report_summary_positions", lang, positions=join_words(parts, lang)))
    if plan:
        first = plan[0]
        lines.append(
            t("report_summary_start", lang, period=first.period, action=first.items[0].action)
        )
    if initiatives:
        lines.append(t("report_summary_initiatives", lang, count=initiatives))
    lines.append(t("report_summary_ask", lang))
    return tuple(lines)
