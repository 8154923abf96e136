"""`maturity-bot`: a thin command line over the library: the console, models, history and pulse
reports here, and one subcommand per chat platform found by bot/platforms.py.

Start-up time is part of the interface (`maturity-bot models` is what scripts call), so this
module imports at its top only what every command needs: the settings, the model files and the
parser. The database (sqlite-utils, which pulls in numpy when installed), the assessment engine
and the result texts are imported by the commands that use them; tests/test_import_rules.py
holds `models` to that.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from bot.errors import UsageError
from bot.platforms import Platform, platforms
from bot.settings import Settings
from bot.web.serve import add_arguments as add_web_arguments
from bot.workers import user_error
from bot.workers import worker_service as open_service
from bot.workers import worker_settings as checked_settings
from bot.workspaces import add_workspace_commands
from flows.i18n import normalise_language
from flows.model_loader import load_models
from flows.model_schema import COMPLETE, LANGUAGES, MaturityModel


def build_parser(found: dict[str, Platform] | None = None) -> argparse.ArgumentParser:
    """The command line; `found`: the platforms to offer (default: every registered one)."""
    found = platforms() if found is None else found
    names = list(found)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        help="a SQLite file or a postgresql://user@host/db URL "
        "(default: $MATURITY_DB or maturity.db)",
    )
    parser = argparse.ArgumentParser(
        prog="maturity-bot",
        description="Social media maturity assessments in a terminal or a chat platform "
        f"({', '.join(names)}).",
    )
    sub = parser.add_subparsers(dest="command")

    console = sub.add_parser("console", parents=[common], help="take an assessment in the terminal")
    console.add_argument("--model", help="model id to start with (see `maturity-bot models`)")
    console.add_argument(
        "--scan", action="store_true", help="the quick scan: your place on every maturity model"
    )
    console.add_argument("--lang", choices=LANGUAGES, help="language (default: from $LANG)")
    console.add_argument("--user", help="your name here (default: your login name)")

    models = sub.add_parser("models", parents=[common], help="list the maturity models")
    models.add_argument("--json", action="store_true", help="machine-readable output")

    history = sub.add_parser("history", parents=[common], help="a user's results, newest first")
    history.add_argument("--user", required=True, help="the user's name or id")
    history.add_argument("--channel", default="console", help=", ".join(["console", *names]))
    history.add_argument("--json", action="store_true", help="machine-readable output")
    history.add_argument("--lang", choices=LANGUAGES, default="en")

    pulse = sub.add_parser("pulse", parents=[common], help="team pulse checks")
    pulse_sub = pulse.add_subparsers(dest="pulse_command", required=True)
    report = pulse_sub.add_parser("report", parents=[common], help="a team's round results")
    report.add_argument("--team", required=True, help="the team's channel or group id")
    report.add_argument("--channel", default=None, help=f"{' or '.join(names)} (default: any)")
    report.add_argument("--format", choices=["text", "csv", "json", "png"], default="text")
    report.add_argument("--out", help="file for --format png (default: pulse-<team>.png)")
    report.add_argument("--lang", choices=LANGUAGES, default="en")

    add_db_commands(sub, common)
    add_workspace_commands(sub, common)
    web = sub.add_parser(
        "web", parents=[common], help="serve the dashboard (sign-in links from the chat)"
    )
    add_web_arguments(web)

    for platform in found.values():
        platform.add_arguments(sub.add_parser(platform.name, parents=[common], help=platform.help))
    return parser


def add_db_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """`maturity-bot db ...`: the operator's database commands (bot/storage/admin.py)."""
    db = sub.add_parser("db", help="the database: migrate, check, copy")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("migrate", parents=[common], help="bring the schema to this version")
    db_sub.add_parser("check", parents=[common], help="schema version and integrity (exit 2)")
    copy = db_sub.add_parser("copy", help="copy every table into another (empty) database")
    copy.add_argument("--from", dest="source", required=True, help="a SQLite file or a URL")
    copy.add_argument("--to", dest="target", required=True, help="a SQLite file or a URL")
    copy.add_argument(
        "--replace", action="store_true", help="delete what the target holds before copying"
    )


def main(argv: Sequence[str] | None = None) -> int:
    found = platforms()
    parser = build_parser(found)
    args = parser.parse_args(argv)
    command = args.command or "console"
    if args.command is None:
        args = parser.parse_args(["console", *(argv or sys.argv[1:])])
    try:
        settings = checked_settings()
        if command == "models":
            return cmd_models(settings, args)
        if command == "console":
            return cmd_console(settings, args)
        if command == "history":
            return cmd_history(settings, args)
        if command == "db":
            from bot.storage.admin import cmd_db

            return cmd_db(args, settings.maturity_db)
        if command == "workspace":
            from bot.workspaces import cmd_workspace

            return cmd_workspace(args, settings.maturity_db)
        if command == "web":
            from bot.web.serve import check, run_web

            check(settings, args)  # before a database file is made
            return run_web(settings, args, open_service(settings, args.db))
        if command == "pulse":
            from bot.pulse.report import cmd_pulse_report

            return cmd_pulse_report(open_service(settings, args.db), args)
        if command in found:
            platform = found[command]
            platform.check(settings, args)  # before a database file is made
            return platform.run(settings, args, open_service(settings, args.db))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if not user_error(exc):
            raise
        print(f"maturity-bot: error: {exc}", file=sys.stderr)
        return 2
    parser.print_help()
    return 2


def models_from(settings: Settings) -> dict[str, MaturityModel]:
    return load_models(settings.maturity_models_dir)


def model_summary(model: MaturityModel) -> dict:
    return {
        "id": model.id,
        "name": model.name.model_dump(),
        "kind": model.kind,
        "author": model.author,
        "year": model.year,
        "source": model.source,
        "phases": [{"id": p.id, "name": p.name.model_dump()} for p in model.phases],
        "pillars": [{"id": p.id, "name": p.name.model_dump()} for p in model.pillars],
        "questions": len(model.questions),
    }


def cmd_models(settings: Settings, args: argparse.Namespace) -> int:
    models = models_from(settings)
    if args.json:
        print(json.dumps([model_summary(m) for m in models.values()], ensure_ascii=False, indent=2))
        return 0
    for model in models.values():
        phases = " → ".join(p.name.en for p in model.phases)
        print(f"{model.id:<14} {model.name.en} ({model.author}, {model.year})")
        print(f"{'':<14} {model.kind}, {len(model.questions)} questions: {phases}")
    return 0


def cmd_console(settings: Settings, args: argparse.Namespace) -> int:
    from bot.console import ConsoleChannel

    service = open_service(settings, args.db)
    if args.model and args.model not in service.models:
        raise UsageError(f"unknown model '{args.model}'; available: {', '.join(service.models)}")
    if args.scan:
        if service.scan is None:
            raise UsageError("the quick scan is not available (no model_data/_scan.yaml)")
        args.model = service.scan.id
    user = args.user or _login_name()
    channel = ConsoleChannel(
        service,
        user,
        settings.maturity_chart_dir,
        lang=args.lang,
        new_user_lang=settings.maturity_lang or _locale_language(),
        web_settings=settings,
    )
    return channel.run(sys.stdin, model_id=args.model, interactive=sys.stdin.isatty())


def cmd_history(settings: Settings, args: argparse.Namespace) -> int:
    from flows.results import phase_name

    service = open_service(settings, args.db)
    user, results = service.history(args.channel, args.user)
    if user is None:
        raise UsageError(f"no user '{args.user}' on channel '{args.channel}'")
    rows = []
    for past in results:
        model = service.models.get(past.model_id)
        if model is None:
            continue
        phase_id = past.result.phase_id
        done = phase_id == COMPLETE
        index = len(model.phases) if done else model.phase_index(phase_id)
        phase = None if done else model.phases[index]
        rows.append(
            {
                "assessment_id": past.assessment_id,
                "model_id": model.id,
                "model": model.name.model_dump(),
                "kind": model.kind,
                "finished_at": past.finished_at,
                "phase_id": phase_id,
                "phase": {lang: phase_name(model, phase_id, lang) for lang in LANGUAGES},
                "phase_number": index + 1,
                "pillar_levels": past.result.pillar_levels,
                "next_actions": (
                    [{"nl": a.nl, "en": a.en} for a in phase.next_actions] if phase else []
                ),
            }
        )
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("no finished assessments yet")
    for row in rows:
        print(f"{row['finished_at']}  {row['model'][args.lang]}: {row['phase'][args.lang]}")
        for action in row["next_actions"]:
            print(f"    - {action[args.lang]}")
    return 0


def _locale_language() -> str:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return normalise_language(value)
    return "en"


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"


if __name__ == "__main__":
    raise SystemExit(main())
