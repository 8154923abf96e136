"""Organisation (`/organisation`, for Slack workspace admins and Telegram group admins): all teams
side by side with their latest phase, a heatmap of teams x pillars per pillar model, and how the
answers spread over the phases across the organisation; CSV and JSON of the same rounds.

Each team contributes its latest round with a result, as stored when it closed (at least K
answers). A team whose rounds were all withheld is a grey row ("fewer than K answers") in the
heatmap and adds nothing to the spread: no cell is computed below K. Anyone else gets the same
404 as for an unknown page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.pulse.report import CSV_HEADER, csv_rows, json_rows
from bot.storage.dashboard import TeamRow
from bot.storage.pulse_rows import ClosedRound
from bot.web.charts import columns_svg, heatmap_svg
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
from bot.web.pages.team import latest_shown, team_name, withheld_text
from bot.web.pages.texts import pt, teams_text
from flows.model_schema import MaturityModel
from flows.pulse import phase_label


@dataclass(frozen=True)
class OrgTeam:
    row: TeamRow
    model_id: str | None
    """The model of the round shown (else of its pulse)."""
    shown: ClosedRound | None
    """The latest round with a result, or else the latest (withheld) round, or None."""


def _organisation(request: Request) -> tuple[str, list[OrgTeam]] | None:
    viewer, scope, store = scope_of(request)
    rows = store.organisation(scope)
    if rows is None:
        return None
    known = models_of(request)
    rounds = store.rounds([row.team_id for row in rows])
    teams = []
    for row in rows:
        closed = [r for r in rounds[row.team_id] if r.model_id in known]
        shown = latest_shown(closed) or (closed[-1] if closed else None)
        model_id = shown.model_id if shown is not None else row.model_id
        teams.append(OrgTeam(row, model_id, shown))
    return viewer.lang, teams


def organisation(request: Request) -> Response:
    found = _organisation(request)
    if found is None:
        return not_found(request)
    lang, teams = found
    models = models_of(request)
    charts: list[Chart] = []
    used = [m for m in models if any(team.model_id == m and team.shown for team in teams)]
    for n, model_id in enumerate(used):
        model = models[model_id]
        of_model = [team for team in teams if team.model_id == model_id and team.shown]
        if model.kind == "pillars" and model.pillars:
            charts.append(heatmap_chart(f"heatmap-{n}", model, of_model, lang))
        spread = spread_chart(f"spread-{n}", model, of_model, lang)
        if spread is not None:
            charts.append(spread)
    return page(
        request,
        "pages/organisation.html",
        {
            "title": pt("org_title", lang),
            "table": team_table(teams, models, lang),
            "charts": charts,
            "exports": exports("organisation_export", {}),
        },
    )


def team_table(
    teams: Sequence[OrgTeam], models: Mapping[str, MaturityModel], lang: str
) -> Table | None:
    if not teams:
        return None
    rows = []
    for team in teams:
        model = models.get(team.model_id or "")
        shown = team.shown
        if shown is None or model is None:
            rows.append((team_name(team.row), model.name.get(lang) if model else "", "", "", ""))
            continue
        report = shown.report
        latest = (
            withheld_text(report, lang)
            if report.withheld
            else phase_label(model, report.median_index, lang)
        )
        answers = pt("answers_of", lang, answered=report.answered, invited=report.invited)
        rows.append(
            (team_name(team.row), model.name.get(lang), latest, day(shown.closed_at), answers)
        )
    columns = ("th_team", "th_model", "th_latest", "th_round_date", "th_answers")
    return Table(pt("org_caption", lang), tuple(pt(c, lang) for c in columns), tuple(rows))


def heatmap_chart(
    label_id: str, model: MaturityModel, teams: Sequence[OrgTeam], lang: str
) -> Chart:
    """Teams x pillars: each cell a team's average level on a pillar, None below K."""
    pillars = [p.name.get(lang) for p in model.pillars]
    names, cells, labels = [], [], []
    for team in teams:
        report = team.shown.report
        averages = dict(report.pillar_averages)
        names.append(team_name(team.row))
        cells.append([None if report.withheld else averages.get(p.id) for p in model.pillars])
        labels.append(pt("withheld_short", lang, k=report.min_responses))
    top = len(model.phases)
    k = max(team.shown.report.min_responses for team in teams)
    name = model.name.get(lang)
    rows = tuple(
        (team, *(label if v is None else f"{v:.1f}" for v in row))
        for team, row, label in zip(names, cells, labels, strict=True)
    )
    return Chart(
        label_id,
        pt("heatmap_heading", lang, model=name),
        pt("heatmap_sentence", lang, top=top, teams=teams_text(len(teams), lang), k=k),
        svg(heatmap_svg(names, pillars, cells, top, labels, label_id)),
        Table(pt("heatmap_caption", lang, model=name), (pt("th_team", lang), *pillars), rows),
    )


def spread_chart(
    label_id: str, model: MaturityModel, teams: Sequence[OrgTeam], lang: str
) -> Chart | None:
    """The answers of every team's latest reported round, per phase (withheld rounds add
    nothing: they have no spread stored)."""
    reported = [team.shown.report for team in teams if not team.shown.report.withheld]
    if not reported:
        return None
    width = max(len(r.distribution) for r in reported)
    totals = [
        sum(r.distribution[i] for r in reported if i < len(r.distribution)) for i in range(width)
    ]
    labels = [phase_label(model, i, lang) for i in range(width)]
    name = model.name.get(lang)
    listed = "; ".join(f"{label}: {n}" for label, n in zip(labels, totals, strict=True))
    return Chart(
        label_id,
        pt("spread_heading", lang, model=name),
        pt(
            "spread_sentence",
            lang,
            total=sum(totals),
            teams=teams_text(len(reported), lang),
            values=listed,
        ),
        svg(columns_svg(labels, totals, label_id)),
        Table(
            pt("spread_caption", lang, model=name),
            (pt("th_phase", lang), pt("th_count", lang)),
            tuple((label, str(n)) for label, n in zip(labels, totals, strict=True)),
        ),
    )


# ---- exports: each team's round as shown, in `pulse report`'s rows ----------------------------
def export_csv(request: Request) -> Response:
    found = _organisation(request)
    if found is None:
        return not_found(request)
    lang, teams = found
    models = models_of(request)
    rows: list[list] = [["team", "team_id", *CSV_HEADER]]
    for team in teams:
        ids = [team_name(team.row), team.row.team]
        if team.shown is None:
            rows.append(ids + [""] * len(CSV_HEADER))
        else:
            rows.append(ids + csv_rows(models, [team.shown], lang)[1])
    return csv_response(rows, "organisation.csv")


def export_json(request: Request) -> Response:
    found = _organisation(request)
    if found is None:
        return not_found(request)
    _, teams = found
    return json_response(
        [
            {
                "team": team_name(team.row),
                "team_id": team.row.team,
                "round": json_rows([team.shown])[0] if team.shown else None,
            }
            for team in teams
        ],
        "organisation.json",
    )


routes = [
    Route("/organisation", organisation, methods=["GET"], name="organisation"),
    Route("/organisation/export.csv", export_csv, methods=["GET"], name="organisation_export_csv"),
    Route(
        "/organisation/export.json", export_json, methods=["GET"], name="organisation_export_json"
    ),
]
