"""The board report in the browser (`/report`, printable) and as a PDF (`/report.pdf`).

The report's content is flows/report.py's, from the viewer's own latest results and initiatives
(never another person's: the store is asked for the signed-in id only). `?team=<id>` adds that
team's pulse trend, when the viewer may see the team (the dashboard store's scoped query; a
team they may not see is the same 404 as one that does not exist).

The PDF is the same page laid out by WeasyPrint from the report's print styles: no browser on
the server, and nothing fetched while it is drawn (the stylesheets are handed over as text and
the charts are inline SVG), so a page cannot make the server reach another host.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.storage.dashboard import DashboardStore, Scope, TeamRow
from bot.storage.installations import Installations
from bot.storage.pulse_rows import ClosedRound
from bot.web.charts import TrendPoint, radar_svg, trend_svg
from bot.web.context import web_context
from bot.web.pages.common import Chart, Table, not_found, scope_of, svg
from bot.web.pages.texts import PAGE_TEXTS, pt
from bot.web.templating import SECURITY_HEADERS, render
from bot.web.viewer import Viewer
from flows.initiatives import Initiative
from flows.pulse import base_model_id
from flows.report import BoardReport, Standing, TeamInput, build_report
from flows.results import PastResult

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
PDF_STYLES = ("style.css", "report.css")


@dataclass(frozen=True)
class ReportPage:
    """What the templates need: the report and its charts, and the teams one can add."""

    viewer: Viewer
    report: BoardReport
    teams: list[TeamRow]
    team_id: int | None
    radars: list[Chart | None]
    trend: Chart | None

    def context(self) -> dict[str, Any]:
        lang = self.viewer.lang
        numbers = [i.priority for q in self.report.roadmap for i in q.items]
        return {
            "texts": PAGE_TEXTS,
            "lang": lang,
            "title": pt("report.page_title", lang),
            "report": self.report,
            "teams": self.teams,
            "team_id": self.team_id,
            "radars": self.radars,
            "trend": self.trend,
            "measured": [pt("report.measured", lang, date=s.date) for s in self.report.standing],
            "priorities": {n: pt("report.priority", lang, number=n) for n in numbers},
        }


class TeamNotVisible(Exception):
    """`?team=` names a team the viewer may not see (or none): answered as not found."""


def build_page(request: Request) -> ReportPage:
    """The viewer's report (blocking: storage and matplotlib; run from a sync handler)."""
    viewer, scope, store = scope_of(request)
    context = web_context(request)
    models = context.models
    results, initiatives = _own(request, viewer)
    team_id = _team_id(request)
    team_input, rounds = _team(store, scope, team_id) if team_id is not None else (None, [])
    report = build_report(
        results,
        models,
        initiatives,
        viewer.lang,
        datetime.now(UTC).date(),
        organisation=_organisation(request, viewer),
        team=team_input,
    )
    radars = [_radar(number, s, viewer.lang) for number, s in enumerate(report.standing)]
    trend = _trend(report, rounds, viewer.lang) if report.team else None
    teams = [t for t in store.teams(scope) if t.model_id]
    return ReportPage(viewer, report, teams, team_id, radars, trend)


def _team_id(request: Request) -> int | None:
    value = request.query_params.get("team", "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 12:
        raise TeamNotVisible
    return int(value)


def _team(store: DashboardStore, scope: Scope, team_id: int) -> tuple[TeamInput, list[ClosedRound]]:
    row = store.team(scope, team_id)
    if row is None or not row.model_id:
        raise TeamNotVisible
    rounds = store.rounds([row.team_id])[row.team_id]
    team = TeamInput(
        row.name or row.team,
        base_model_id(row.model_id),
        [(r.closed_at, r.report) for r in rounds],
    )
    return team, rounds


def _own(request: Request, viewer: Viewer) -> tuple[tuple[PastResult, ...], tuple[Initiative, ...]]:
    """The viewer's latest result of each model (the store's indexed query: the report needs no
    older ones) and their initiatives, in one read."""
    storage = web_context(request).storage
    with storage.reading():
        user = storage.find_user(viewer.channel, viewer.external_id)
        if user is None:
            return (), ()
        return storage.latest_results(user), storage.initiatives(user)


def _organisation(request: Request, viewer: Viewer) -> str | None:
    """The Slack workspace's name as installed (OAuth mode); None elsewhere ("the
    organisation" then)."""
    if viewer.channel != "slack" or not viewer.workspace or ":" in viewer.workspace:
        return None
    row = Installations(web_context(request).storage).find(None, viewer.workspace)
    return row.team_name if row is not None and row.team_name else None


def _radar(number: int, standing: Standing, lang: str) -> Chart | None:
    if standing.chart is None:
        return None
    label_id = f"report-radar-{number}"
    rows = tuple((pillar, level) for pillar, level, _, _ in standing.pillars)
    levels = ", ".join(f"{pillar}: {level}" for pillar, level in rows)
    return Chart(
        label_id=label_id,
        heading="",
        sentence=pt("report.radar_sentence", lang, model=standing.model, levels=levels),
        svg=svg(radar_svg(standing.chart, label_id)),
        table=Table(
            pt("report.pillars_caption", lang, model=standing.model),
            (pt("th_pillar", lang), pt("th_level", lang)),
            rows,
        ),
    )


def _trend(report: BoardReport, rounds: list[ClosedRound], lang: str) -> Chart:
    """The team's phase per round; a round withheld below K is a gap, as on the team page."""
    team = report.team
    points = [
        TrendPoint(
            r.closed_at[:10],
            None if r.report.withheld else r.report.median_index,
            () if r.report.withheld else tuple(r.report.distribution),
        )
        for r in rounds
    ]
    drawn = None
    if points and team.level_names:
        withheld = pt("report.withheld", lang)
        drawn = svg(trend_svg(points, team.level_names, withheld, "report-trend"))
    return Chart("report-trend", team.chart_title, team.chart_text, drawn)


def report_page(request: Request) -> Response:
    try:
        page = build_page(request)
    except TeamNotVisible:
        return not_found(request)
    query = f"?team={page.team_id}" if page.team_id is not None else ""
    pdf_url = str(request.scope["router"].url_path_for("report_pdf")) + query
    return render(request, "report/report.html", {**page.context(), "pdf_url": pdf_url})


def report_pdf(request: Request) -> Response:
    try:
        page = build_page(request)
    except TeamNotVisible:
        return not_found(request)
    html = render(request, "report/pdf.html", page.context()).body.decode("utf-8")
    try:
        pdf = pdf_bytes(html)
    except (ImportError, OSError):  # WeasyPrint or Debian's pango missing: the page still prints
        log.exception("the board report's PDF could not be made")
        context = {"title_key": "report.page_title", "body_key": "report.pdf_unavailable"}
        return render(request, "refused.html", {**context, "how": False, "texts": PAGE_TEXTS}, 503)
    filename = f"{pt('report.page_title', page.viewer.lang).lower().replace(' ', '-')}.pdf"
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


def pdf_bytes(html: str) -> bytes:
    """The page as a PDF (print media: the report's @page and print rules apply)."""
    from weasyprint import CSS, HTML

    # The screen stylesheet has rules a print engine skips (overflow, width media queries);
    # WeasyPrint warns about each on every PDF. Its errors still reach the log.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    styles = [CSS(string=(STATIC / name).read_text("utf-8")) for name in PDF_STYLES]
    return HTML(string=html).write_pdf(stylesheets=styles)


routes = [
    Route("/report", report_page, methods=["GET"], name="report"),
    Route("/report.pdf", report_pdf, methods=["GET"], name="report_pdf"),
]
