"""`maturity-bot web`: the dashboard on its own (uvicorn), for a deployment that serves it apart
from the chat, or a chat in Socket Mode or polling that has no HTTP server of its own. The HTTP
modes (`slack --http`, the Telegram webhook) serve the same routes beside theirs."""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING

from bot.errors import UsageError

if TYPE_CHECKING:
    from bot.service import AssessmentService
    from bot.settings import Settings

DEFAULT_PORT = 8080
log = logging.getLogger("bot.web")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})"
    )


def check(settings: Settings, args: argparse.Namespace) -> None:
    """Refuse, as one line, what would make a dashboard nobody can sign in to."""
    if not settings.maturity_web_url:
        raise UsageError(
            "MATURITY_WEB_URL is not set: the dashboard's public base URL, which the sign-in "
            "links the bot sends are built from (e.g. https://maturity.example.org)"
        )
    if not 1 <= args.port <= 65535:
        raise UsageError(f"--port must be from 1 to 65535 (got {args.port})")


def run_web(settings: Settings, args: argparse.Namespace, service: AssessmentService) -> int:
    import uvicorn

    from bot.observability.logs import setup_logging
    from bot.web.app import web_app

    setup_logging(settings.maturity_log_format, secrets=[])
    app = web_app(service.storage, settings, service.models)
    log.info(
        "serving the dashboard at http://%s:%s (public: %s)",
        args.host,
        args.port,
        settings.maturity_web_url,
    )
    try:
        uvicorn.run(
            app, host=args.host, port=args.port, log_level="info", access_log=False, log_config=None
        )
    except KeyboardInterrupt:
        pass
    finally:
        service.storage.close()
    return 0
