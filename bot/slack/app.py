"""The Slack channel: a Bolt app that translates Slack requests to neutral events and replies
to Block Kit, with every answer stored by the service before anything is sent.

Where the work happens: each slash command and button press is acknowledged at once (Bolt's
lazy listeners) and handled afterwards in Bolt's worker threads, so Slack's 3-second limit holds
even when a chart is drawn or a file uploaded; Events API callbacks are acknowledged by Bolt
before the listener runs. The service is synchronous and called from those threads (the HTTP
server hands each request to a thread, never blocking its event loop).

Nothing about an assessment lives here: state is in SQLite, decisions are the engine's, looks are
bot/slack/render.py's. Retried events carry the same event_id, which the service records in the
same transaction as the answer (`delivery_key`), so a retry is applied once.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr
from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.charts import matrix_png, radar_png
from bot.errors import UsageError
from bot.service import AssessmentService
from bot.settings import Settings
from bot.slack.http import EVENTS_PATH, bolt_logger, web_app
from bot.slack.member import SlackMember
from bot.slack.render import (
    ACTION_FORGET_NO,
    ACTION_FORGET_YES,
    ACTION_HOME_START,
    ACTION_PREFIX,
    SLASH_COMMAND,
    SlackMessage,
    answered_message,
    forget_confirm_message,
    home_view,
    message_for,
    settled_message,
    text_message,
    unescape,
)
from bot.slack.texts import st
from bot.storage import StorageWriteError
from flows.events import Event, Kind, from_payload, from_text
from flows.i18n import DEFAULT_LANGUAGE, normalise_language, t
from flows.replies import Answered, Reply, ResultCard, Say

if TYPE_CHECKING:
    from bot.pulse.service import PulseSettings
    from bot.slack.pulse import SlackPulse

CHANNEL = "slack"
RATE_LIMIT_RETRIES = 3

log = logging.getLogger("bot.slack")

HELP_WORDS = {"", "help", "hulp"}
FORGET_WORDS = {"forget", "vergeet"}
EXPORT_WORDS = {"export", "exporteer"}
PULSE_WORDS = {"pulse"}


@dataclass(frozen=True)
class Pressed:
    """The DM message whose button was pressed: Answered replaces it, other presses settle it."""

    channel: str
    ts: str
    blocks: tuple[dict[str, Any], ...]
    text: str
    label: str | None


def external_id(team_id: str, user_id: str) -> str:
    """The service's id for a Slack user (see bot/slack/member.py)."""
    return SlackMember(team_id, user_id).key


def event_for_action(action: dict[str, Any]) -> Event:
    """A block_actions action as a neutral event."""
    action_id = action.get("action_id", "")
    if action_id.startswith(ACTION_HOME_START):
        # the Home tab names the model: start (or resume) it without the intro question
        return Event(Kind.CHOOSE, action.get("value") or "", direct=True)
    value = action.get("value")
    if value is None:
        value = (action.get("selected_option") or {}).get("value", "")
    return from_payload(value)


def action_label(action: dict[str, Any]) -> str | None:
    """The text on what the user pressed or selected, for the settled message's note."""
    source = action.get("selected_option") or action
    text = source.get("text") or {}
    return text.get("text")


def command_event(text: str) -> Event:
    """`/maturity start groeimodel` -> the core's `/start groeimodel`; bare `/maturity` is help."""
    stripped = unescape(text).strip()  # Slack escapes &, < and > in a command's text too
    if stripped.split(" ", 1)[0].lower() in HELP_WORDS:
        return Event(Kind.HELP)
    return from_text("/" + stripped.lstrip("/"))


class SlackChannel:
    """The listeners. Holds the service (and the team pulse, when it runs): no conversation
    state of its own."""

    def __init__(self, service: AssessmentService, pulse: SlackPulse | None = None) -> None:
        self.service = service
        self.pulse = pulse

    # ---- listeners (run after the ack, in Bolt's worker threads) ----------------------------
    def on_command(self, body: dict[str, Any], client: WebClient, respond: Any) -> None:
        team_id, user_id = body["team_id"], body["user_id"]
        if (body.get("text") or "").strip().split(" ", 1)[0].lower() in PULSE_WORDS:
            self.pulse_command(body, client, respond)  # a team's command: stays in its channel
            return
        dm = self.open_dm(client, user_id)
        if dm is None:
            return
        if body.get("channel_id") != dm:
            lang = self.lang_for(client, team_id, user_id)
            self.safely("respond", lambda: respond(text=st("dm_notice", lang)))
        text = body.get("text") or ""
        word = text.strip().split(" ", 1)[0].lower()
        if word in FORGET_WORDS:
            lang = self.lang_for(client, team_id, user_id)
            self.post(client, dm, forget_confirm_message(lang))
            return
        if word in EXPORT_WORDS:
            self.export(client, team_id, user_id, dm)
            return
        event = command_event(text)
        self.run(client, team_id, user_id, dm, event)

    def pulse_command(self, body: dict[str, Any], client: WebClient, respond: Any) -> None:
        """`/maturity pulse ...`, handed to the pulse part (bot/slack/pulse.py)."""
        if self.pulse is not None:
            self.pulse.on_command(self, body, client, respond)
            return
        lang = self.lang_for(client, body["team_id"], body["user_id"])
        self.safely("respond", lambda: respond(text=st("pulse_unavailable", lang)))

    def on_action(self, body: dict[str, Any], client: WebClient) -> None:
        action = body["actions"][0]
        user_id = body["user"]["id"]
        team_id = (body.get("team") or {}).get("id") or body["user"].get("team_id", "")
        pressed = self.pressed(body, action)
        dm = pressed.channel if pressed else self.open_dm(client, user_id)
        if dm is None:
            return
        action_id = action.get("action_id", "")
        if action_id in (ACTION_FORGET_YES, ACTION_FORGET_NO):
            self.forget(
                client, team_id, user_id, dm, pressed, confirmed=action_id == ACTION_FORGET_YES
            )
            return
        self.run(client, team_id, user_id, dm, event_for_action(action), pressed=pressed)

    def on_message(self, body: dict[str, Any], event: dict[str, Any], client: WebClient) -> None:
        if (
            event.get("channel_type") != "im"
            or event.get("subtype")
            or event.get("bot_id")
            or not event.get("user")
        ):
            return  # our own messages, edits, joins, other channels: not the user talking to us
        team_id = body.get("team_id") or event.get("team", "")
        self.run(
            client,
            team_id,
            event["user"],
            event["channel"],
            from_text(unescape(event.get("text") or "")),
            delivery_key=body.get("event_id"),
        )

    def on_home_opened(
        self, body: dict[str, Any], event: dict[str, Any], client: WebClient
    ) -> None:
        if event.get("tab", "home") != "home":
            return
        self.publish_home(client, body.get("team_id", ""), event["user"])

    # ---- the one path every event takes -----------------------------------------------------
    def run(
        self,
        client: WebClient,
        team_id: str,
        user_id: str,
        dm: str,
        event: Event,
        *,
        delivery_key: str | None = None,
        pressed: Pressed | None = None,
    ) -> None:
        """Store first (service), then show: a failed send never loses the stored answer."""
        who = external_id(team_id, user_id)
        handled = self.service.handle(
            CHANNEL,
            who,
            event,
            lang_hint=self.first_contact_language(client, who, user_id),
            delivery_key=delivery_key,
        )
        if handled.duplicate:
            log.info("event %s was handled before; not applied again", delivery_key)
            return
        replies = list(handled.replies)
        if event.kind is Kind.HELP and replies:
            replies.insert(1, Say(st("help_note", handled.user.lang)))
        self.deliver(client, dm, replies, handled.user.lang, pressed)
        if any(isinstance(reply, ResultCard) for reply in replies):
            self.publish_home(client, team_id, user_id)

    def deliver(
        self,
        client: WebClient,
        dm: str,
        replies: list[Reply],
        lang: str,
        pressed: Pressed | None,
    ) -> None:
        """Show the replies in order. The pressed message is edited in place (to its answer,
        or without its buttons), so old buttons do not linger and the DM reads as a transcript."""
        answered = next((r for r in replies if isinstance(r, Answered)), None)
        if pressed is not None:
            if answered is not None:
                self.update(client, pressed.channel, pressed.ts, answered_message(answered))
            else:
                failed = any(isinstance(r, Say) and r.is_error for r in replies)
                note = None if failed else pressed.label
                self.update(
                    client,
                    pressed.channel,
                    pressed.ts,
                    settled_message(pressed.blocks, pressed.text, note),
                )
        for reply in replies:
            if isinstance(reply, Answered):
                if pressed is None or reply is not answered:
                    self.post(client, dm, answered_message(reply))  # a typed answer
                continue
            self.post(client, dm, message_for(reply, lang))
            if isinstance(reply, ResultCard) and reply.chart is not None:
                self.upload_png(
                    client, dm, radar_png(reply.chart), reply.chart.key, reply.chart.title
                )
            if isinstance(reply, Say) and reply.chart is not None:
                self.upload_png(
                    client, dm, matrix_png(reply.chart), reply.chart.key, reply.chart.title
                )

    # ---- forget and export --------------------------------------------------------------------
    def forget(
        self,
        client: WebClient,
        team_id: str,
        user_id: str,
        dm: str,
        pressed: Pressed | None,
        *,
        confirmed: bool,
    ) -> None:
        """After the confirmation button: erase through the service, then clear the Home tab."""
        who = external_id(team_id, user_id)
        lang = self.service.language(CHANNEL, who) or DEFAULT_LANGUAGE
        if pressed is not None:
            self.update(
                client,
                pressed.channel,
                pressed.ts,
                settled_message(pressed.blocks, pressed.text, pressed.label),
            )
        if not confirmed:
            self.post(client, dm, text_message(st("forget_cancelled", lang)))
            return
        try:
            erased = self.service.forget(CHANNEL, who)
        except StorageWriteError as exc:
            log.error("forget could not be saved: %s", exc)
            self.post(client, dm, text_message(t("not_saved", lang)))
            return
        self.post(client, dm, text_message(st("forgotten" if erased else "forget_nothing", lang)))
        self.publish_home(client, team_id, user_id, lang=lang)

    def export(self, client: WebClient, team_id: str, user_id: str, dm: str) -> None:
        """The user's own data (service.export) as a JSON file in the DM: a copy they can keep."""
        who = external_id(team_id, user_id)
        data = self.service.export(CHANNEL, who)
        lang = self.lang_for(client, team_id, user_id)
        if data is None:
            self.post(client, dm, text_message(st("export_nothing", lang)))
            return
        uploaded = self.safely(
            "files.upload_v2",
            lambda: client.files_upload_v2(
                channel=dm,
                content=json.dumps(data, ensure_ascii=False, indent=2),
                filename="maturity-bot-export.json",
                title="maturity-bot-export.json",
                initial_comment=st("export_comment", lang),
            ),
        )
        if uploaded is None:
            self.post(client, dm, text_message(st("export_failed", lang)))

    # ---- App Home -------------------------------------------------------------------------------
    def publish_home(
        self, client: WebClient, team_id: str, user_id: str, lang: str | None = None
    ) -> None:
        who = external_id(team_id, user_id)
        _, history = self.service.history(CHANNEL, who)
        lang = lang or self.lang_for(client, team_id, user_id)
        view = home_view(self.service.models, history, lang)
        self.safely("views.publish", lambda: client.views_publish(user_id=user_id, view=view))

    # ---- Slack calls ---------------------------------------------------------------------------
    def first_contact_language(self, client: WebClient, who: str, user_id: str) -> str | None:
        """The Slack locale of a user we have not stored yet (users.info); None otherwise."""
        if self.service.language(CHANNEL, who) is not None:
            return None
        info = self.safely(
            "users.info", lambda: client.users_info(user=user_id, include_locale=True)
        )
        if info is None:
            return None
        return (info.get("user") or {}).get("locale")

    def lang_for(self, client: WebClient, team_id: str, user_id: str) -> str:
        who = external_id(team_id, user_id)
        stored = self.service.language(CHANNEL, who)
        return stored or normalise_language(self.first_contact_language(client, who, user_id))

    def open_dm(self, client: WebClient, user_id: str) -> str | None:
        """The bot's DM with the user (the App Home messages tab), where assessments run."""
        opened = self.safely("conversations.open", lambda: client.conversations_open(users=user_id))
        return opened["channel"]["id"] if opened is not None else None

    def pressed(self, body: dict[str, Any], action: dict[str, Any]) -> Pressed | None:
        container = body.get("container") or {}
        message = body.get("message")
        if container.get("type") != "message" or not message:
            return None
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
        return Pressed(
            channel=channel,
            ts=container.get("message_ts") or message.get("ts"),
            blocks=tuple(message.get("blocks") or ()),
            text=message.get("text") or "",
            label=action_label(action),
        )

    def post(self, client: WebClient, channel: str, message: SlackMessage) -> None:
        self.safely(
            "chat.postMessage",
            lambda: client.chat_postMessage(channel=channel, **message.as_kwargs()),
        )

    def update(self, client: WebClient, channel: str, ts: str, message: SlackMessage) -> None:
        self.safely(
            "chat.update",
            lambda: client.chat_update(channel=channel, ts=ts, **message.as_kwargs()),
        )

    def upload_png(self, client: WebClient, channel: str, png: bytes, key: str, title: str) -> None:
        """A chart as a file in the DM (files upload v2), after the message it belongs to."""
        self.safely(
            "files.upload_v2",
            lambda: client.files_upload_v2(
                channel=channel,
                file=png,
                filename=f"chart-{key}.png",
                title=title,
                alt_txt=title,
            ),
        )

    @staticmethod
    def safely(what: str, call: Any) -> Any:
        """Run one Slack call; a failure is logged (never with a token) and the bot goes on: the
        answer is already stored, and the user's next message shows the current question."""
        try:
            return call()
        except SlackApiError as exc:
            log.warning(
                "Slack %s failed: %s", what, exc.response.get("error", exc.response.status_code)
            )
        except (SlackClientError, OSError) as exc:
            log.warning("Slack %s failed: %s", what, type(exc).__name__)
        return None


# ---- building and running the app ----------------------------------------------------------------
def _ack(ack: Any) -> None:
    """Acknowledge at once; the work runs in a lazy listener after the response."""
    ack()


def make_client(bot_token: str, api_url: str | None = None) -> WebClient:
    """A WebClient that retries HTTP 429 after Slack's Retry-After."""
    kwargs: dict[str, Any] = {"token": bot_token}
    if api_url:
        kwargs["base_url"] = api_url if api_url.endswith("/") else api_url + "/"
    client = WebClient(**kwargs)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES))
    return client


def build_app(
    service: AssessmentService,
    client: WebClient,
    signing_secret: str | None = None,
    executor: Executor | None = None,
    pulse: SlackPulse | None = None,
) -> App:
    """The Bolt app with our listeners. Calls auth.test once (Bolt checks the token).

    `executor` runs the listeners after the ack (Bolt's default: 5 threads); pass your own to
    wait for the work in flight before closing the database. `pulse` answers
    `/maturity pulse ...` in channels (without it, that command says pulses are not running)."""
    app = App(
        client=client,
        signing_secret=signing_secret or "",
        process_before_response=False,
        name="maturity-bot",
        logger=bolt_logger(),
        listener_executor=executor,
    )
    channel = SlackChannel(service, pulse)
    app.command(SLASH_COMMAND)(ack=_ack, lazy=[channel.on_command])
    app.action(re.compile("^" + re.escape(ACTION_PREFIX)))(ack=_ack, lazy=[channel.on_action])
    app.event("message")(channel.on_message)
    app.event("app_home_opened")(channel.on_home_opened)
    return app


def socket_mode_handler(bolt_app: App, app_token: str) -> Any:
    """Socket Mode (the default): Slack connects to us over a WebSocket, no public URL needed."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    return SocketModeHandler(bolt_app, app_token)


def _required(value: SecretStr | None, name: str, prefix: str, what: str) -> str:
    secret = value.get_secret_value().strip() if value is not None else ""
    if not secret:
        raise UsageError(f"{name} is not set: {what} (see .env.example and README, Slack)")
    if prefix and not secret.startswith(prefix):
        raise UsageError(f"{name} must start with {prefix} ({what})")
    return secret


def check_slack_settings(settings: Settings, *, http: bool) -> None:
    """Refuse missing or malformed settings before anything is opened or contacted."""
    _required(settings.slack_bot_token, "SLACK_BOT_TOKEN", "xoxb-", "the bot token")
    if http:
        _required(
            settings.slack_signing_secret, "SLACK_SIGNING_SECRET", "", "the app's signing secret"
        )
    else:
        _required(settings.slack_app_token, "SLACK_APP_TOKEN", "xapp-", "the app-level token")
    checked_pulse_settings(settings)


def checked_pulse_settings(settings: Settings) -> PulseSettings:
    """The pulse settings, or one line naming the setting that is wrong (K below 3, a time
    zone nobody knows): a pulse that would run on them must not start at all."""
    from bot.pulse.service import pulse_settings
    from flows.pulse import PulseInputError, check_timezone

    try:
        check_timezone(settings.maturity_timezone)
    except PulseInputError:
        raise UsageError(
            f"MATURITY_TIMEZONE: unknown time zone {settings.maturity_timezone!r}"
        ) from None
    try:
        return pulse_settings(settings)
    except ValueError as exc:
        raise UsageError(f"MATURITY_PULSE_MIN_RESPONSES: {exc}") from None


def client_from_settings(
    settings: Settings, *, http: bool
) -> tuple[WebClient, str | None, str | None]:
    """Check the settings; returns the Web API client, the signing secret (HTTP mode) and the
    app-level token (Socket Mode)."""
    bot_token = _required(settings.slack_bot_token, "SLACK_BOT_TOKEN", "xoxb-", "the bot token")
    signing_secret = app_token = None
    if http:
        signing_secret = _required(
            settings.slack_signing_secret, "SLACK_SIGNING_SECRET", "", "the app's signing secret"
        )
    else:
        app_token = _required(
            settings.slack_app_token, "SLACK_APP_TOKEN", "xapp-", "the app-level token"
        )
    api_url = settings.slack_api_url
    if api_url and not api_url.startswith(("http://", "https://")):
        raise UsageError(f"SLACK_API_URL must be an http(s) URL, got {api_url!r}")
    return make_client(bot_token, api_url), signing_secret, app_token


def checked_app(
    service: AssessmentService,
    client: WebClient,
    signing_secret: str | None,
    pulse: SlackPulse | None = None,
) -> App:
    """`build_app`, with Slack's refusal of the token (auth.test) as one line for the user."""
    try:
        return build_app(service, client, signing_secret, pulse=pulse)
    except BoltError as exc:
        raise UsageError(f"Slack refused the bot token: {exc}") from None
    except (SlackClientError, OSError) as exc:
        raise UsageError(f"cannot reach the Slack Web API at {client.base_url}: {exc}") from None


def app_from_settings(
    settings: Settings, service: AssessmentService, *, http: bool
) -> tuple[App, str | None]:
    """Check the settings and build the app; returns it with the app-level token (Socket Mode)."""
    client, signing_secret, app_token = client_from_settings(settings, http=http)
    return checked_app(service, client, signing_secret), app_token


def run_slack(settings: Settings, args: argparse.Namespace, service: AssessmentService) -> int:
    """`maturity-bot slack [--http --port N]`: the app and, next to it, the team pulse's
    scheduler; run until interrupted (Ctrl-C or SIGTERM), then stop the scheduler cleanly."""
    from bot.slack.pulse import SlackPulse

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("transitions").setLevel(logging.WARNING)  # a line per state change
    client, signing_secret, app_token = client_from_settings(settings, http=args.http)
    pulse = SlackPulse.create(
        service, client, checked_pulse_settings(settings), admins=settings.pulse_admins
    )
    app = checked_app(service, client, signing_secret, pulse)
    _stop_on_sigterm()
    try:
        pulse.start()
        if args.http:
            import uvicorn

            log.info("serving Slack requests at http://%s:%s%s", args.host, args.port, EVENTS_PATH)
            server = web_app(app, service.storage, max_body_bytes=settings.maturity_max_body_bytes)
            uvicorn.run(server, host=args.host, port=args.port, log_level="info")
        else:
            socket_mode_handler(app, app_token).start()
    except KeyboardInterrupt:
        pass
    finally:
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
