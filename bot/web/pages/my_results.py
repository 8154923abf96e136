"""My results (`/`, where sign-in lands): every assessment the viewer finished, newest first,
with its phase, date, a radar per pillar model and the change since the previous assessment of
the same model; `/export.csv` and `/export.json` give the same rows.

Only the viewer's own results: the store is asked for the signed-in person's id, never for an id
from the URL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.web.charts import radar_svg
from bot.web.pages.common import (
    Chart,
    Table,
    csv_response,
    day,
    exports,
    json_response,
    models_of,
    page,
    phase_index,
    scope_of,
    svg,
)
from bot.web.pages.texts import pt, steps_text
from flows.model_schema import MaturityModel
from flows.pillar_results import pillar_level_indices
from flows.replies import ChartSpec
from flows.results import PastResult, phase_name
from flows.scan import SCAN_ID


@dataclass(frozen=True)
class ResultRow:
    """One assessment as the page and the export show it."""

    assessment_id: str
    date: str
    model_id: str
    model: str
    phase: str
    phase_id: str
    change: int | None
    """Phases up (+) or down (-) since the previous assessment of the model; None: the first,
    or a model without an order (the quick scan)."""
    change_text: str
    pillars: tuple[tuple[str, str, str | None], ...] = ()
    """(pillar, level now, level last time) for pillar models."""
    pillar_levels: tuple[tuple[str, int], ...] = ()
    """(pillar id, level 1-based), for the export."""
    radar: Chart | None = None


def result_rows(
    results: Sequence[PastResult],
    models: Mapping[str, MaturityModel],
    lang: str,
    charts: bool = True,
) -> list[ResultRow]:
    """The rows, newest first; results of a model no longer loaded are left out. `charts`:
    draw each pillar model's radar (the page; an export has no use for them)."""
    rows: list[ResultRow] = []
    previous: dict[str, PastResult] = {}
    for number, past in enumerate(results):  # oldest first: "previous" is the one before
        before = previous.get(past.model_id)
        previous[past.model_id] = past
        if past.model_id == SCAN_ID:
            rows.append(_scan_row(past, models, lang))
            continue
        model = models.get(past.model_id)
        if model is None:
            continue
        rows.append(_row(number, past, before, model, lang, charts))
    return list(reversed(rows))


def _row(
    number: int,
    past: PastResult,
    before: PastResult | None,
    model: MaturityModel,
    lang: str,
    charts: bool,
) -> ResultRow:
    now_index = phase_index(model, past.result.phase_id)
    change, change_text = None, pt("change_first", lang)
    if before is not None:
        change = now_index - phase_index(model, before.result.phase_id)
        values = {
            "date": day(before.finished_at),
            "phase": phase_name(model, before.result.phase_id, lang),
        }
        if change > 0:
            change_text = pt("change_up", lang, steps=steps_text(change, lang), **values)
        elif change < 0:
            change_text = pt("change_down", lang, steps=steps_text(-change, lang), **values)
        else:
            change_text = pt("change_same", lang, **values)
    pillars: tuple[tuple[str, str, str | None], ...] = ()
    levels: tuple[tuple[str, int], ...] = ()
    radar = None
    if model.kind == "pillars" and model.pillars:
        now = pillar_level_indices(model, past.result)
        then = pillar_level_indices(model, before.result) if before is not None else {}
        total = len(model.phases)
        pillars = tuple(
            (
                p.name.get(lang),
                _level(model, now[p.id], lang),
                _level(model, then[p.id], lang) if p.id in then else None,
            )
            for p in model.pillars
        )
        levels = tuple((p.id, now[p.id] + 1) for p in model.pillars)
        if charts:
            radar = _radar(number, past, model, now, total, pillars, lang)
    return ResultRow(
        past.assessment_id,
        day(past.finished_at),
        past.model_id,
        model.name.get(lang),
        phase_name(model, past.result.phase_id, lang),
        past.result.phase_id,
        change,
        change_text,
        pillars,
        levels,
        radar,
    )


def _level(model: MaturityModel, index: int, lang: str) -> str:
    return pt(
        "level_of",
        lang,
        level=model.phases[index].name.get(lang),
        number=index + 1,
        total=len(model.phases),
    )


def _radar(
    number: int,
    past: PastResult,
    model: MaturityModel,
    levels: dict[str, int],
    total: int,
    pillars: tuple[tuple[str, str, str | None], ...],
    lang: str,
) -> Chart:
    label_id = f"radar-{number}"
    spec = ChartSpec(
        title=model.name.get(lang),
        labels=tuple(p.name.get(lang) for p in model.pillars),
        values=tuple(levels[p.id] + 1 for p in model.pillars),
        level_names=tuple(p.name.get(lang) for p in model.phases),
        key=past.assessment_id,
    )
    date = day(past.finished_at)
    sentence = pt(
        "radar_sentence",
        lang,
        date=date,
        levels="; ".join(f"{name}: {level}" for name, level, _ in pillars),
    )
    has_before = any(then is not None for _, _, then in pillars)
    columns = (pt("th_pillar", lang), pt("th_level", lang))
    if has_before:
        columns += (pt("th_previous", lang),)
    rows = tuple(
        (name, level, *((then or "",) if has_before else ())) for name, level, then in pillars
    )
    caption = pt("radar_table_caption", lang, model=model.name.get(lang), date=date)
    return Chart(
        label_id,
        "",
        sentence,
        svg(radar_svg(spec, label_id)),
        Table(caption, columns, rows),
    )


def _scan_row(past: PastResult, models: Mapping[str, MaturityModel], lang: str) -> ResultRow:
    """The quick scan places the organisation on every maturity model at once."""
    placements = "; ".join(
        f"{models[m].name.get(lang)}: {phase_name(models[m], phase, lang)}"
        for m, phase in past.result.placements.items()
        if m in models
    )
    return ResultRow(
        past.assessment_id,
        day(past.finished_at),
        SCAN_ID,
        pt("quick_scan", lang),
        placements,
        past.result.phase_id,
        None,
        "",
    )


def _rows_for(request: Request, charts: bool = False) -> tuple[str, list[ResultRow]]:
    viewer, scope, store = scope_of(request)
    results = store.my_results(viewer.channel, viewer.external_id)
    return viewer.lang, result_rows(results, models_of(request), viewer.lang, charts)


def my_results(request: Request) -> Response:
    lang, rows = _rows_for(request, charts=True)
    return page(
        request,
        "pages/my_results.html",
        {"title": pt("my_title", lang), "rows": rows, "exports": exports("my_export", {})},
    )


def export_json(request: Request) -> Response:
    _, rows = _rows_for(request)
    return json_response([_json(row) for row in rows], "my-results.json")


def export_csv(request: Request) -> Response:
    _, rows = _rows_for(request)
    header = ["assessment", "date", "model_id", "model", "phase_id", "phase", "change", "pillars"]
    body = [
        [
            row.assessment_id,
            row.date,
            row.model_id,
            row.model,
            row.phase_id,
            row.phase,
            "" if row.change is None else row.change,
            ";".join(f"{pillar}={level}" for pillar, level in row.pillar_levels),
        ]
        for row in rows
    ]
    return csv_response([header, *body], "my-results.csv")


def _json(row: ResultRow) -> dict:
    return {
        "assessment": row.assessment_id,
        "date": row.date,
        "model_id": row.model_id,
        "model": row.model,
        "phase_id": row.phase_id,
        "phase": row.phase,
        "change": row.change,
        "change_text": row.change_text,
        "pillar_levels": dict(row.pillar_levels),
    }


routes = [
    Route("/", my_results, methods=["GET"], name="home"),
    Route("/export.csv", export_csv, methods=["GET"], name="my_export_csv"),
    Route("/export.json", export_json, methods=["GET"], name="my_export_json"),
]
