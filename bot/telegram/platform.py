"""Telegram as a platform of the command line (see bot/platforms.py): `maturity-bot telegram`'s
options and the checks of its settings. Imported by every command to build the parser, so it
imports no Telegram library: `bot.telegram.app`, which does, is imported only when the bot runs.
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.errors import UsageError
from bot.platforms import Platform, checked_pulse_settings
from bot.workers import add_argument as add_workers_argument
from bot.workers import workers_of

if TYPE_CHECKING:
    from pydantic import SecretStr

    from bot.settings import Settings

TOKEN_PATTERN = re.compile(r"\d+:[A-Za-z0-9_-]{35}")


def check_token(value: SecretStr | None) -> str:
    token = value.get_secret_value().strip() if value is not None else ""
    if not token:
        raise UsageError(
            "TELEGRAM_BOT_TOKEN is not set: the token from @BotFather (see README, Telegram)"
        )
    if not TOKEN_PATTERN.fullmatch(token):
        raise UsageError(
            "TELEGRAM_BOT_TOKEN is malformed: expected <digits>:<35 characters> from @BotFather"
        )
    return token


def check_url(value: str | None, name: str) -> str | None:
    if not value:
        return None
    parsed = urlsplit(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise UsageError(f"{name} must be an http(s) URL, got {value!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--webhook", metavar="URL", help="use a webhook at this public URL")
    parser.add_argument("--listen", default="127.0.0.1", help="webhook mode: listen address")
    parser.add_argument("--port", type=int, default=8443, help="webhook mode: listen port")
    add_workers_argument(parser, "webhook mode")


POLLING_WORKERS = (
    "--workers needs --webhook: Telegram gives a bot's updates to one poller at a time "
    "(getUpdates), so polling runs in one process; several workers share a webhook"
)


def check(settings: Settings, args: argparse.Namespace) -> None:
    """Before any network call and before a database file is made."""
    if workers_of(args) > 1 and not args.webhook:
        raise UsageError(POLLING_WORKERS)
    check_token(settings.telegram_bot_token)
    check_url(settings.telegram_base_url, "TELEGRAM_BASE_URL")
    check_url(settings.telegram_base_file_url, "TELEGRAM_BASE_FILE_URL")
    checked_pulse_settings(settings)


PLATFORM = Platform(
    name="telegram",
    help="run the Telegram bot",
    runner="bot.telegram.workers:run",
    add_arguments=add_arguments,
    check=check,
)
