"""`maturity-bot pulse report`: a team's rounds as text, CSV, JSON or a PNG chart.

Aggregates only, exactly as stored when each round closed: a withheld round exports its counts
and nothing else, so no export can say more than the channel was told.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from bot.charts import pulse_png
from bot.platforms import platform_names
from bot.pulse.service import PulseService, TeamReport, report_json
from bot.service import AssessmentService
from bot.storage.pulses import TREND_ROUNDS
from flows.model_schema import MaturityModel
from flows.pulse import phase_label, pulse_chart, report_text


class NoSuchTeam(Exception):
    pass


def team_reports(
    pulse: PulseService, team: str, channel: str | None
) -> tuple[str, list[TeamReport]]:
    """The closed rounds of `team` on `channel`, or without one on the first registered
    platform that has them (a team id is the platform's own: a Slack channel id never looks
    like a Telegram chat id)."""
    channels = [channel] if channel else platform_names()
    for name in channels:
        reports = pulse.reports(name, team)
        if reports:
            return name, reports
    raise NoSuchTeam(team)


CSV_HEADER = (
    "round",
    "closed_at",
    "model_id",
    "invited",
    "answered",
    "withheld",
    "median_phase",
    "distribution",
    "pillar_averages",
)


def json_rows(reports: Sequence[TeamReport]) -> list[dict]:
    """The rounds as the JSON export gives them (also the dashboard's): aggregates only."""
    return [
        {
            "round": r.round_id,
            "closed_at": r.closed_at,
            "model_id": r.model_id,
            **report_json(r.report),
        }
        for r in reports
    ]


def csv_rows(
    models: Mapping[str, MaturityModel], reports: Sequence[TeamReport], lang: str
) -> list[list]:
    """The rounds as the CSV export gives them, header first; phases named in `lang`. A
    withheld round has its counts and empty figures."""
    rows: list[list] = [list(CSV_HEADER)]
    for r in reports:
        model = models[r.model_id]
        report = r.report
        median = (
            "" if report.median_index is None else phase_label(model, report.median_index, lang)
        )
        distribution = ";".join(
            f"{phase_label(model, i, lang)}={n}" for i, n in enumerate(report.distribution)
        )
        pillars = ";".join(f"{p}={v}" for p, v in report.pillar_averages)
        rows.append(
            [
                r.round_id,
                r.closed_at,
                r.model_id,
                report.invited,
                report.answered,
                report.withheld,
                median,
                distribution,
                pillars,
            ]
        )
    return rows


def cmd_pulse_report(service: AssessmentService, args: argparse.Namespace) -> int:
    from bot.errors import UsageError

    pulse = PulseService(service)
    try:
        _, reports = team_reports(pulse, args.team, args.channel)
    except NoSuchTeam as exc:
        raise UsageError(f"no closed pulse rounds for team '{args.team}'") from exc
    lang = args.lang
    if args.format == "json":
        print(json.dumps(json_rows(reports), ensure_ascii=False, indent=2))
    elif args.format == "csv":
        csv.writer(sys.stdout).writerows(csv_rows(service.models, reports, lang))
    elif args.format == "png":
        shown = [r for r in reports if not r.report.withheld]
        if not shown:
            raise UsageError("every round was withheld (too few answers): there is nothing to draw")
        latest = shown[-1]
        model = service.models[latest.model_id]
        trend = [(r.closed_at[:10], r.report.median_index) for r in shown[-TREND_ROUNDS:]]
        out = Path(args.out or f"pulse-{args.team}.png")
        out.write_bytes(pulse_png(pulse_chart(model, latest.report, trend, lang)))
        print(out)
    else:
        for r in reports:
            model = service.models[r.model_id]
            print(f"{r.closed_at}")
            print(report_text(model, args.team, r.report, lang))
            print()
    return 0
