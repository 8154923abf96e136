"""Slack as a platform of the command line (see bot/platforms.py): `maturity-bot slack`'s options
and the checks of its settings. Imported by every command to build the parser, so it imports no
Slack library: `bot.slack.app`, which does, is imported only when the app runs.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.errors import UsageError
from bot.platforms import Platform, checked_pulse_settings
from bot.workers import add_argument as add_workers_argument
from bot.workers import workers_of

if TYPE_CHECKING:
    from pydantic import SecretStr

    from bot.settings import Settings


@dataclass(frozen=True)
class SlackSecrets:
    """The checked settings the app is built from."""

    bot_token: str | None
    """None in OAuth mode: each workspace's token is in the database."""
    signing_secret: str | None
    """HTTP mode only."""
    app_token: str | None
    """Socket Mode only."""
    api_url: str | None


@dataclass(frozen=True)
class OAuthCredentials:
    client_id: str
    client_secret: str
    redirect_uri: str | None


def required(value: SecretStr | None, name: str, prefix: str, what: str) -> str:
    secret = value.get_secret_value().strip() if value is not None else ""
    if not secret:
        raise UsageError(f"{name} is not set: {what} (see .env.example and README, Slack)")
    if prefix and not secret.startswith(prefix):
        raise UsageError(f"{name} must start with {prefix} ({what})")
    return secret


def slack_secrets(settings: Settings, *, http: bool) -> SlackSecrets:
    """The settings HTTP mode or Socket Mode needs, or one line naming the first that is
    missing or malformed (never its value). With SLACK_CLIENT_ID and SLACK_CLIENT_SECRET it is
    OAuth mode (HTTP only), where SLACK_BOT_TOKEN is not needed."""
    bot_token = None
    if oauth_credentials(settings, http=http) is None:
        bot_token = required(settings.slack_bot_token, "SLACK_BOT_TOKEN", "xoxb-", "the bot token")
    signing_secret = app_token = None
    if http:
        signing_secret = required(
            settings.slack_signing_secret, "SLACK_SIGNING_SECRET", "", "the app's signing secret"
        )
    else:
        app_token = required(
            settings.slack_app_token, "SLACK_APP_TOKEN", "xapp-", "the app-level token"
        )
    api_url = settings.slack_api_url
    if api_url and not api_url.startswith(("http://", "https://")):
        raise UsageError(f"SLACK_API_URL must be an http(s) URL, got {api_url!r}")
    return SlackSecrets(bot_token, signing_secret, app_token, api_url)


def oauth_credentials(settings: Settings, *, http: bool) -> OAuthCredentials | None:
    """OAuth mode's settings, checked; None when neither SLACK_CLIENT_ID nor
    SLACK_CLIENT_SECRET is set (one workspace, with SLACK_BOT_TOKEN)."""
    client_id = (settings.slack_client_id or "").strip()
    secret = settings.slack_client_secret
    has_secret = secret is not None and bool(secret.get_secret_value().strip())
    if not client_id and not has_secret:
        return None
    if not client_id:
        raise UsageError(
            "SLACK_CLIENT_ID is not set: OAuth mode needs the app's client id with "
            "SLACK_CLIENT_SECRET (see README, Hosting for many workspaces)"
        )
    client_secret = required(secret, "SLACK_CLIENT_SECRET", "", "the app's client secret")
    if not http:
        raise UsageError(
            "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (OAuth mode) need --http: Slack sends "
            "the browser back to /slack/oauth_redirect on this server"
        )
    redirect = (settings.slack_redirect_uri or "").strip() or None
    if redirect is not None and not (
        redirect.startswith(("https://", "http://")) and redirect.endswith(REDIRECT_PATH)
    ):
        raise UsageError(
            f"SLACK_REDIRECT_URI must be the http(s) URL of {REDIRECT_PATH}, got {redirect!r}"
        )
    bare = sorted(admin for admin in settings.pulse_admins if ":" not in admin)
    if bare:
        raise UsageError(
            "MATURITY_PULSE_ADMINS: in OAuth mode (many workspaces) a user id alone would be an "
            f"admin in every workspace; write it with its workspace, as T…:{bare[0]}"
        )
    return OAuthCredentials(client_id, client_secret, redirect)


REDIRECT_PATH = "/slack/oauth_redirect"
"""Where Slack sends the browser back (bot/slack/oauth.py serves it)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--http", action="store_true", help="serve HTTP at /slack/events instead")
    parser.add_argument("--host", default="127.0.0.1", help="HTTP mode: address to listen on")
    parser.add_argument("--port", type=int, default=3000, help="HTTP mode: port to listen on")
    add_workers_argument(parser, "HTTP mode")


def check(settings: Settings, args: argparse.Namespace) -> None:
    if workers_of(args) > 1 and not args.http:
        raise UsageError(SOCKET_MODE_WORKERS)
    slack_secrets(settings, http=args.http)
    checked_pulse_settings(settings)


SOCKET_MODE_WORKERS = (
    "--workers needs --http: it starts N processes behind one HTTP port, and Socket Mode has "
    "no port (Slack gives each event to one of an app's connections: for more Socket Mode "
    "processes, start the command more than once)"
)

PLATFORM = Platform(
    name="slack",
    help="run the Slack app (Socket Mode)",
    runner="bot.slack.workers:run",
    add_arguments=add_arguments,
    check=check,
)
