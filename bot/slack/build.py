"""Building the Slack app: Bolt's App with our listeners (bot/slack/app.py's SlackChannel), the
dispatch that acknowledges first, the clients per workspace in OAuth mode, and the uninstall
listeners. Kept apart from the listeners so each module stays one job.
"""

from __future__ import annotations

import re
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any, cast

from slack_bolt import BoltContext
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient

from bot.service import AssessmentService
from bot.slack.app import SlackChannel
from bot.slack.dispatch import AckFirst, AckFirstSocketModeHandler, Sender, SlackApp, WorkPool
from bot.slack.http import bolt_logger
from bot.slack.render import ACTION_PREFIX, SLASH_COMMAND

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.slack.pulse import SlackPulse


def build_app(
    service: AssessmentService,
    client: WebClient,
    signing_secret: str | None = None,
    executor: Executor | None = None,
    pulse: SlackPulse | None = None,
    *,
    threads: int = 8,
    max_pending: int = 1000,
    oauth: OAuthSettings | None = None,
    web_settings: Settings | None = None,
) -> SlackApp:
    """The Bolt app with our listeners. Calls auth.test once (Bolt checks the token).

    Requests are acknowledged before their work starts (bot/slack/dispatch.py); the work runs
    in `threads` threads, with at most `max_pending` requests waiting or in work (beyond, the
    user is told the bot is busy). `executor` replaces those threads: pass your own to wait for
    the work in flight before closing the database. `pulse` answers `/maturity pulse ...` in
    channels (without it, that command says pulses are not running).

    `oauth` (bot/slack/oauth.py) is OAuth mode, many workspaces: `client` then holds no token
    (no auth.test), Bolt's authorize finds each request's workspace token, and the listeners
    call Slack with that token over `client`'s pooled connections. `web_settings` with a
    MATURITY_WEB_URL: `/maturity dashboard` and the Home tab's button send a sign-in link."""
    app = SlackApp(
        client=client,
        signing_secret=signing_secret or "",
        process_before_response=True,  # the listener is the work, run after our own ack
        request_verification_enabled=False,  # bot/slack/http.py checks every signature first
        name="maturity-bot",
        logger=bolt_logger(),
        oauth_settings=oauth,
    )
    app.ack_first = AckFirst(app, service, WorkPool(threads, max_pending, executor))
    channel = SlackChannel(service, pulse, grid=oauth is not None)
    channel.web_settings = web_settings  # the dashboard's links (bot/slack/dashboard.py)
    if pulse is not None:
        pulse.messenger.attach(channel)  # the pulse sends through this same channel object

    # Every listener calls Slack through our pooled client (`app.client`): the `client` Bolt
    # injects is a new WebClient per request, with a new connection per call. In OAuth mode,
    # a client per workspace token, all over `app.client`'s one pool.
    api = cast(WebClient, app.client)
    if oauth is not None:
        from bot.slack.oauth import bot_for_workspace
        from bot.slack.web_client import ClientsByToken, KeepAliveWebClient

        clients = ClientsByToken(cast(KeepAliveWebClient, api))

        def api_for(context: BoltContext) -> WebClient:
            return clients.get(context.bot_token or "")

        def notice_client(sender: Sender) -> WebClient | None:
            """A busy notice is sent before Bolt's authorize ran: find the token here."""
            bot = bot_for_workspace(oauth.installation_store, sender.team_id)
            return clients.get(bot.bot_token) if bot is not None and bot.bot_token else None

        app.ack_first.notice_client = notice_client
    else:

        def api_for(context: BoltContext) -> WebClient:
            return api

    @app.command(SLASH_COMMAND)
    def on_command(ack: Any, body: dict[str, Any], respond: Any, context: BoltContext) -> None:
        ack()  # Slack was answered already; this tells Bolt the listener took the request
        channel.on_command(body, api_for(context), respond)

    @app.action(re.compile("^" + re.escape(ACTION_PREFIX)))
    def on_action(ack: Any, body: dict[str, Any], context: BoltContext) -> None:
        ack()
        channel.on_action(body, api_for(context))

    @app.event("message")
    def on_message(body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
        channel.on_message(body, event, api_for(context))

    @app.event("app_home_opened")
    def on_home_opened(body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
        channel.on_home_opened(body, event, api_for(context))

    if oauth is not None:
        from bot.slack.oauth import InstallationStoreOverStorage, Uninstaller

        uninstall = Uninstaller(service.storage, oauth.installation_store)
        if pulse is not None:  # the pulse's clock: the one its purge and resumes go by
            uninstall.clock = pulse.pulse.clock
            if isinstance(oauth.installation_store, InstallationStoreOverStorage):
                oauth.installation_store.clock = pulse.pulse.clock

        @app.event("app_uninstalled")
        def on_app_uninstalled(context: BoltContext) -> None:
            uninstall.app_uninstalled(
                context.enterprise_id, context.team_id, bool(context.is_enterprise_install)
            )

        @app.event("tokens_revoked")
        def on_tokens_revoked(event: dict[str, Any], context: BoltContext) -> None:
            uninstall.tokens_revoked(
                event, context.enterprise_id, context.team_id, bool(context.is_enterprise_install)
            )

    return app


def socket_mode_handler(bolt_app: SlackApp, app_token: str) -> AckFirstSocketModeHandler:
    """Socket Mode (the default): Slack connects to us over a WebSocket, no public URL needed;
    each envelope is acknowledged before its work starts."""
    return AckFirstSocketModeHandler(bolt_app, app_token)
