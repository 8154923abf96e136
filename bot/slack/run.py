"""Running the Slack app: its settings checked into a client and an app, then served in Socket
Mode or over HTTP next to the team pulse's scheduler, until Ctrl-C or SIGTERM. The listeners and
the app itself are bot/slack/app.py's; several processes on one port, bot/slack/workers.py's.
"""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot.errors import UsageError
from bot.platforms import checked_pulse_settings
from bot.service import AssessmentService
from bot.settings import Settings
from bot.slack.build import build_app, socket_mode_handler
from bot.slack.dispatch import SlackApp
from bot.slack.http import EVENTS_PATH, web_app
from bot.slack.platform import oauth_credentials, slack_secrets
from bot.slack.web_client import make_client

if TYPE_CHECKING:
    from bot.slack.pulse import SlackPulse

log = logging.getLogger("bot.slack")


def client_from_settings(
    settings: Settings, *, http: bool
) -> tuple[WebClient, str | None, str | None]:
    """Check the settings; returns the Web API client, the signing secret (HTTP mode) and the
    app-level token (Socket Mode)."""
    secrets = slack_secrets(settings, http=http)
    client = make_client(secrets.bot_token, secrets.api_url)
    return client, secrets.signing_secret, secrets.app_token


def checked_app(
    service: AssessmentService,
    client: WebClient,
    signing_secret: str | None,
    pulse: SlackPulse | None = None,
    settings: Settings | None = None,
) -> SlackApp:
    """`build_app` (its pool sized by `settings`), with Slack's refusal of the token
    (auth.test) as one line for the user. When `settings` say OAuth mode (SLACK_CLIENT_ID and
    SLACK_CLIENT_SECRET, HTTP), the app serves many workspaces (bot/slack/oauth.py); `pulse`
    must then reach each workspace with its own token (`pulse_from_settings` makes it so)."""
    sizes: dict[str, Any] = {}
    if settings is not None:
        sizes = {
            "threads": settings.maturity_slack_threads,
            "max_pending": settings.maturity_slack_max_pending,
        }
        credentials = oauth_credentials(settings, http=signing_secret is not None)
        if credentials is not None:
            from bot.slack.oauth import oauth_settings

            sizes["oauth"] = oauth_settings(
                service.storage,
                credentials.client_id,
                credentials.client_secret,
                redirect_uri=credentials.redirect_uri,
                installations=installations_of(pulse),
            )
    try:
        return build_app(
            service, client, signing_secret, pulse=pulse, web_settings=settings, **sizes
        )
    except BoltError as exc:
        raise UsageError(f"Slack refused the bot token: {exc}") from None
    except (SlackClientError, OSError) as exc:
        raise UsageError(f"cannot reach the Slack Web API at {client.base_url}: {exc}") from None


def installations_of(pulse: SlackPulse | None) -> Any:
    """The installation store the pulse reaches workspaces through (OAuth mode), so the app's
    OAuth flow saves into the same one; None when the pulse has one token."""
    from bot.slack.pulse_clients import InstalledWorkspaces

    clients = pulse.messenger.clients if pulse is not None else None
    return clients.installations if isinstance(clients, InstalledWorkspaces) else None


def pulse_from_settings(
    settings: Settings, service: AssessmentService, client: WebClient, *, http: bool
) -> SlackPulse:
    """The team pulse: over the one bot token, or in OAuth mode over each installed
    workspace's own token, found in our installation store (bot/slack/pulse_clients.py)."""
    from bot.slack.pulse import SlackPulse

    installations = None
    if oauth_credentials(settings, http=http) is not None:
        from bot.slack.oauth import InstallationStoreOverStorage

        installations = InstallationStoreOverStorage(service.storage)
    return SlackPulse.create(
        service,
        client,
        checked_pulse_settings(settings),
        admins=settings.pulse_admins,
        installations=installations,
    )


def app_from_settings(
    settings: Settings, service: AssessmentService, *, http: bool
) -> tuple[SlackApp, str | None]:
    """Check the settings and build the app; returns it with the app-level token (Socket Mode)."""
    client, signing_secret, app_token = client_from_settings(settings, http=http)
    return checked_app(service, client, signing_secret, settings=settings), app_token


def run_slack(settings: Settings, args: argparse.Namespace, service: AssessmentService) -> int:
    """`maturity-bot slack [--http --port N]`: the app and, next to it, the team pulse's
    scheduler; run until interrupted (Ctrl-C or SIGTERM), then stop the scheduler cleanly."""
    from bot.observability import set_worker_name
    from bot.observability.health import scheduler_running
    from bot.observability.logs import setup_logging

    set_worker_name(settings.maturity_worker_name)
    secrets = (
        settings.slack_bot_token,
        settings.slack_app_token,
        settings.slack_signing_secret,
        settings.slack_client_secret,
    )
    setup_logging(
        settings.maturity_log_format,
        secrets=[s.get_secret_value() for s in secrets if s is not None],
    )
    client, signing_secret, app_token = client_from_settings(settings, http=args.http)
    pulse = pulse_from_settings(settings, service, client, http=args.http)
    app = checked_app(service, client, signing_secret, pulse, settings)
    _stop_on_sigterm()
    try:
        pulse.start()
        if args.http:
            import uvicorn

            log.info("serving Slack requests at http://%s:%s%s", args.host, args.port, EVENTS_PATH)
            if app.oauth_flow is not None:
                log.info("OAuth mode: installs at %s", app.oauth_flow.install_path)
            server = web_app(
                app,
                service.storage,
                max_body_bytes=settings.maturity_max_body_bytes,
                scheduler=lambda: scheduler_running(pulse.runtime),
                settings=settings,
            )
            # No access log: a line per request was a tenth of the CPU per answer, and the
            # refusals that matter are logged by bot/slack/http.py. No logging config of
            # uvicorn's own: its lines go through ours (text or JSON, scrubbed).
            uvicorn.run(
                server,
                host=args.host,
                port=args.port,
                log_level="info",
                access_log=False,
                log_config=None,
            )
        else:
            socket_mode_handler(app, app_token).start()
    except KeyboardInterrupt:
        pass
    finally:
        # the acknowledged work finishes before the database closes
        app.ack_first.shutdown(wait=True)
        pulse.stop()
    return 0


def _stop_on_sigterm() -> None:
    """Let SIGTERM (a service manager's stop) interrupt like Ctrl-C, so the pulse scheduler is
    stopped, not killed: Socket Mode blocks in the main thread until interrupted, and uvicorn,
    after its own graceful shutdown, re-raises the signal to the handler it found."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
