"""Teams: the list of the viewer's teams (`/teams`) and one team's pulse (`/teams/{id}`): its
phase over the rounds with the spread per round, the per-pillar averages of pillar models, the
response rates and the most-named next actions, and the rounds as CSV and JSON (`pulse report`'s
own rows, bot/pulse/report.py).

Everything shown is the round's report as stored when it closed: a round under K has only its
counts, so the page, its chart and its export can only say "withheld". A team the viewer may not
see answers 404, exactly as a team that does not exist (an id confirms nothing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.pulse.report import csv_rows, json_rows
from bot.storage.dashboard import TeamRow
from bot.storage.pulse_rows import ClosedRound
from bot.storage.pulses import TREND_ROUNDS
from bot.web.charts import TrendPoint, bars_svg, trend_svg
from bot.web.pages.common import (
    Chart,
    Table,
    csv_response,
    day,
    exports,
    json_response,
    models_of,
    not_found,
    page,
    scope_of,
    svg,
)
from bot.web.pages.texts import counted, pt
from flows.i18n import t
from flows.model_schema import MaturityModel
from flows.pulse import RoundReport, phase_label


@dataclass(frozen=True)
class TeamLine:
    """A team in the list: where its pulse stands."""

    team_id: int
    name: str
    model: str
    status: str
    rounds: int
    latest: str


def team_name(team: TeamRow) -> str:
    return team.name or team.team


def latest_shown(rounds: Sequence[ClosedRound]) -> ClosedRound | None:
    """The newest round with a result (not withheld)."""
    return next((r for r in reversed(rounds) if not r.report.withheld), None)


def withheld_text(report: RoundReport, lang: str) -> str:
    return pt("withheld", lang, k=report.min_responses)


# ---- the list ---------------------------------------------------------------------------------
def teams(request: Request) -> Response:
    viewer, scope, store = scope_of(request)
    lang, models = viewer.lang, models_of(request)
    rows = store.teams(scope)
    rounds = store.rounds([row.team_id for row in rows])
    lines = []
    for row in rows:
        closed = rounds[row.team_id]
        shown = latest_shown(closed)
        model = models.get(row.model_id or "")
        latest = pt("not_reported", lang)
        if shown is not None and shown.model_id in models:
            latest = phase_label(models[shown.model_id], shown.report.median_index, lang)
        lines.append(
            TeamLine(
                row.team_id,
                team_name(row),
                model.name.get(lang) if model else "",
                t(f"pulse_state_{row.status}", lang) if row.status else pt("status_none", lang),
                len(closed),
                latest,
            )
        )
    return page(request, "pages/teams.html", {"title": pt("teams_title", lang), "teams": lines})


# ---- one team ---------------------------------------------------------------------------------
def _team(request: Request) -> tuple[str, TeamRow, list[ClosedRound]] | None:
    viewer, scope, store = scope_of(request)
    row = store.team(scope, request.path_params["team_id"])
    if row is None:
        return None
    known = models_of(request)
    rounds = [r for r in store.rounds([row.team_id])[row.team_id] if r.model_id in known]
    return viewer.lang, row, rounds


def team(request: Request) -> Response:
    found = _team(request)
    if found is None:
        return not_found(request)
    lang, row, rounds = found
    models = models_of(request)
    context: dict = {
        "title": team_name(row),
        "team_id": row.team_id,
        "rounds": rounds,
        "exports": exports("team_export", {"team_id": row.team_id}),
        "model_line": "",
        "charts": [],
        "actions": (),
        "actions_intro": "",
        "anonymity": "",
    }
    if rounds:
        model = models[rounds[-1].model_id]
        context["model_line"] = pt("team_model", lang, model=model.name.get(lang))
        context["anonymity"] = pt("anonymity", lang, k=rounds[-1].report.min_responses)
        of_model = [r for r in rounds if r.model_id == model.id][-TREND_ROUNDS:]
        context["charts"] = [trend_chart(of_model, rounds, models, lang)]
        shown = latest_shown(of_model)
        if shown is not None and shown.report.pillar_averages:
            context["charts"].append(pillar_chart(model, shown, lang))
        if shown is not None and shown.report.top_actions:
            context["actions"] = tuple(a.get(lang) for a in shown.report.top_actions)
            context["actions_intro"] = pt("actions_intro", lang, date=day(shown.closed_at))
    return page(request, "pages/team.html", context)


def trend_chart(
    of_model: Sequence[ClosedRound],
    rounds: Sequence[ClosedRound],
    models: Mapping[str, MaturityModel],
    lang: str,
) -> Chart:
    """The phase over the model's latest rounds; the table lists every round with its counts."""
    model = models[of_model[-1].model_id]
    points = [
        TrendPoint(day(r.closed_at), r.report.median_index, tuple(r.report.distribution))
        for r in of_model
    ]
    shown = latest_shown(of_model)
    drawn = None
    if shown is None:
        sentence = pt("trend_sentence_none", lang)
    else:
        sentence = pt(
            "trend_sentence",
            lang,
            rounds=counted("rounds", len(points), lang),
            first=points[0].label,
            last=points[-1].label,
            phase=phase_label(model, shown.report.median_index, lang),
        )
        short = pt("withheld_short", lang, k=of_model[-1].report.min_responses)
        levels = [p.name.get(lang) for p in model.phases]
        drawn = svg(trend_svg(points, levels, short, "trend"))
    columns = tuple(
        pt(key, lang) for key in ("th_date", "th_answers", "th_response", "th_median", "th_spread")
    )
    table = Table(
        pt("rounds_caption", lang),
        columns,
        tuple(_round_row(r, models[r.model_id], lang) for r in reversed(rounds)),
    )
    return Chart("trend", pt("trend_heading", lang), sentence, drawn, table)


def _round_row(closed: ClosedRound, model: MaturityModel, lang: str) -> tuple[str, ...]:
    report = closed.report
    answers = pt("answers_of", lang, answered=report.answered, invited=report.invited)
    rate = f"{round(100 * report.answered / report.invited)}%" if report.invited else ""
    if report.withheld:
        return (day(closed.closed_at), answers, rate, withheld_text(report, lang), "")
    return (
        day(closed.closed_at),
        answers,
        rate,
        phase_label(model, report.median_index, lang),
        spread_text(model, report.distribution, lang),
    )


def spread_text(model: MaturityModel, distribution: Sequence[int], lang: str) -> str:
    """ "Lowest to highest phase (each phase's count)", from a reported round's spread."""
    answered = [i for i, count in enumerate(distribution) if count]
    if not answered:
        return ""
    counts = ", ".join(f"{phase_label(model, i, lang)}: {distribution[i]}" for i in answered)
    if len(answered) == 1:
        return counts
    low, high = phase_label(model, answered[0], lang), phase_label(model, answered[-1], lang)
    return f"{pt('spread_range', lang, low=low, high=high)} ({counts})"


def pillar_chart(model: MaturityModel, shown: ClosedRound, lang: str) -> Chart:
    names = [model.pillar(p).name.get(lang) for p, _ in shown.report.pillar_averages]
    values = [v for _, v in shown.report.pillar_averages]
    top = len(model.phases)
    date = day(shown.closed_at)
    listed = "; ".join(f"{n}: {v:.1f}" for n, v in zip(names, values, strict=True))
    return Chart(
        "pillars",
        pt("pillars_heading", lang),
        pt("pillars_sentence", lang, date=date, top=top, values=listed),
        svg(bars_svg(names, values, top, "pillars")),
        Table(
            pt("pillars_caption", lang, date=date),
            (pt("th_pillar", lang), pt("th_average", lang)),
            tuple((n, f"{v:.1f} / {top}") for n, v in zip(names, values, strict=True)),
        ),
    )


# ---- exports: `pulse report`'s rows -----------------------------------------------------------
def export_csv(request: Request) -> Response:
    found = _team(request)
    if found is None:
        return not_found(request)
    lang, row, rounds = found
    return csv_response(csv_rows(models_of(request), rounds, lang), f"team-{row.team_id}.csv")


def export_json(request: Request) -> Response:
    found = _team(request)
    if found is None:
        return not_found(request)
    _, row, rounds = found
    return json_response(json_rows(rounds), f"team-{row.team_id}.json")


routes = [
    Route("/teams", teams, methods=["GET"], name="teams"),
    Route("/teams/{team_id:int}", team, methods=["GET"], name="team"),
    Route("/teams/{team_id:int}/export.csv", export_csv, methods=["GET"], name="team_export_csv"),
    Route(
        "/teams/{team_id:int}/export.json", export_json, methods=["GET"], name="team_export_json"
    ),
]
