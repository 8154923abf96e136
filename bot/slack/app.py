"""The Slack channel: a Bolt app that translates Slack requests to neutral events (their meaning:
bot/slack/events.py) and shows the service's replies through `SlackOutput` (bot/slack/output.py),
with every answer stored by the service before anything is sent.

Where the work happens: every request is acknowledged before its work starts, in both modes,
and handled afterwards in a bounded pool of threads (bot/slack/dispatch.py), so Slack's 3-second
limit holds whatever the load, and a full pool tells the user it is busy. The service is
synchronous and called from those threads.

Nothing about an assessment lives here: state is in SQLite, decisions are the engine's, looks are
bot/slack/render.py's. Retried events carry the same event_id, which the service records in the
same transaction as the answer (`delivery_key`), so a retry is applied once.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.service import AssessmentService
from bot.slack.dashboard import ACTION_DASHBOARD, DASHBOARD_WORDS, home_blocks, send_dashboard_link
from bot.slack.events import (
    CHANNEL,
    EXPORT_WORDS,
    FORGET_WORDS,
    PULSE_WORDS,
    command_event,
    event_for_action,
    external_id,
    first_word,
    workspace_of,
)
from bot.slack.home import home_view, view_digest
from bot.slack.member import SlackMember
from bot.slack.output import Pressed, SlackOutput
from bot.slack.personal import export, forget
from bot.slack.render import (
    ACTION_FORGET_NO,
    ACTION_FORGET_YES,
    SlackMessage,
    forget_confirm_message,
    unescape,
)
from bot.slack.settings_command import (
    Workspaces,
    defaults_of,
    home_settings_blocks,
    is_settings_command,
    settings_command,
)
from bot.slack.texts import st
from bot.storage import StorageError, StorageWriteError
from bot.storage.workspaces import WorkspaceStore
from flows.events import Event, Kind, from_text
from flows.i18n import normalise_language, t
from flows.replies import Reply, ResultCard

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.slack.pulse import SlackPulse

log = logging.getLogger("bot.slack")


class SlackChannel:
    """The listeners, and the Web API calls every Slack module makes through them (each failure
    logged and survived). Holds the service (and the team pulse, when it runs): no
    conversation state of its own."""

    def __init__(
        self, service: AssessmentService, pulse: SlackPulse | None = None, *, grid: bool = False
    ) -> None:
        self.service = service
        self.pulse = pulse
        self.grid = grid
        """OAuth mode: a Grid workspace is its organisation and team (bot/slack/member.py)."""
        self.workspaces = Workspaces(WorkspaceStore(service.storage), defaults_of(pulse))
        """Each workspace's own settings over the operator's (bot/slack/settings_command.py)."""
        if pulse is not None:
            pulse.use_workspaces(self.workspaces)

    web_settings: Settings | None = None
    """The dashboard's settings (MATURITY_WEB_URL), set by build_app; None: not set up."""

    # ---- listeners (run after the ack, in Bolt's worker threads) ----------------------------
    def on_command(self, body: dict[str, Any], client: WebClient, respond: Any) -> None:
        """A slash command. One the database cannot save (a full disk: a setting, a pulse
        command) is answered, to its sender, that it was not saved; nothing of it was."""
        try:
            self._command(body, client, respond)
        except StorageWriteError as exc:
            log.error("a command could not be saved: %s", exc)
            lang = self.lang_for(client, self.workspace_of(body), body["user_id"])
            text = t("not_saved", lang)
            self.safely("respond", lambda: respond(text=text, response_type="ephemeral"))

    def _command(self, body: dict[str, Any], client: WebClient, respond: Any) -> None:
        team_id, user_id = self.workspace_of(body), body["user_id"]
        if first_word(body.get("text") or "") in PULSE_WORDS:
            self.pulse_command(body, client, respond)  # a team's command: stays in its channel
            return
        if is_settings_command(first_word(body.get("text") or "")):
            settings_command(self, body, client, respond)  # an admin's, answered to them only
            return
        dm = self.open_dm(client, user_id)
        if dm is None:
            return
        if body.get("channel_id") != dm:
            lang = self.lang_for(client, team_id, user_id)
            self.safely("respond", lambda: respond(text=st("dm_notice", lang)))
        text = body.get("text") or ""
        word = first_word(text)
        if word in FORGET_WORDS:
            lang = self.lang_for(client, team_id, user_id)
            self.post(client, dm, forget_confirm_message(lang))
            return
        if word in EXPORT_WORDS:
            export(self, client, team_id, user_id, dm)
            return
        if word in DASHBOARD_WORDS:
            send_dashboard_link(self, self.web_settings, client, team_id, user_id, dm)
            return
        event = command_event(text)
        self.run(client, team_id, user_id, dm, event)

    def pulse_command(self, body: dict[str, Any], client: WebClient, respond: Any) -> None:
        """`/maturity pulse ...`, handed to the pulse part (bot/slack/pulse.py)."""
        if self.pulse is not None:
            self.pulse.on_command(self, body, client, respond)
            return
        lang = self.lang_for(client, self.workspace_of(body), body["user_id"])
        self.safely("respond", lambda: respond(text=st("pulse_unavailable", lang)))

    def on_action(self, body: dict[str, Any], client: WebClient) -> None:
        action = body["actions"][0]
        user_id = body["user"]["id"]
        team_id = self.workspace_of(body)
        pressed = Pressed.of(body, action)
        dm = pressed.channel if pressed else self.open_dm(client, user_id)
        if dm is None:
            return
        action_id = action.get("action_id", "")
        if action_id.startswith(ACTION_DASHBOARD):
            if action_id == ACTION_DASHBOARD:  # the Home tab's; the link's own button: nothing
                send_dashboard_link(self, self.web_settings, client, team_id, user_id, dm)
            return
        if action_id in (ACTION_FORGET_YES, ACTION_FORGET_NO):
            confirmed = action_id == ACTION_FORGET_YES
            forget(self, client, team_id, user_id, dm, pressed, confirmed=confirmed)
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
        team_id = self.workspace_of(body)
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
        self.publish_home(client, self.workspace_of(body), event["user"])

    def workspace_of(self, body: dict[str, Any]) -> str:
        """The request's workspace key, as members are stored in this mode."""
        return workspace_of(body, grid=self.grid)

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
        """Store first (service), then show: a failed send never loses the stored answer.
        "Make a board report" (a result's button, /maturity report) is a sign-in link instead."""
        if event.kind is Kind.REPORT:
            if delivery_key is None or self.service.first_delivery(CHANNEL, delivery_key):
                send_dashboard_link(self, self.web_settings, client, team_id, user_id, dm, "report")
            return
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
        output = SlackOutput(self, client, dm, handled.user.lang, pressed)
        output.deliver(handled.replies, event=event)
        if any(isinstance(reply, ResultCard) for reply in handled.replies):
            self.publish_home(client, team_id, user_id, lang=handled.user.lang)

    def deliver(
        self, client: WebClient, dm: str, replies: list[Reply], lang: str, pressed: Pressed | None
    ) -> bool:
        """Replies that answer no event of the user's (the pulse's invitations)."""
        return SlackOutput(self, client, dm, lang, pressed).deliver(replies)

    # ---- App Home -------------------------------------------------------------------------------
    def publish_home(
        self, client: WebClient, team_id: str, user_id: str, lang: str | None = None
    ) -> None:
        """Publish the Home tab only when it differs from the one published last (its digest
        is stored per member): opening the tab again, or a second trigger for the same result,
        costs a read, not a views.publish. A failed publish is released, so the next one runs."""
        who = external_id(team_id, user_id)
        home = self.service.home(CHANNEL, who)
        lang = lang or self.lang_for(client, team_id, user_id)
        extra = []
        if self.workspaces.is_admin(self, client, team_id, user_id):
            extra = home_settings_blocks(self.workspaces, team_id, lang)
        web = self.web_settings is not None and bool(self.web_settings.maturity_web_url)
        dashboard = home_blocks(lang) if web else []
        view = home_view(self.service.models, home.latest, home.recent, lang, extra, dashboard)
        digest = view_digest(view)
        if not self.service.claim_home_view(CHANNEL, who, digest):
            log.debug("Home tab unchanged: not published again")
            return
        published = self.safely(
            "views.publish", lambda: client.views_publish(user_id=user_id, view=view)
        )
        if published is None:
            self.service.release_home_view(CHANNEL, who, digest)

    # ---- Slack calls ---------------------------------------------------------------------------
    def first_contact_language(self, client: WebClient, who: str, user_id: str) -> str | None:
        """The language of a user we have not stored yet: their workspace's, where its admin
        set one, else their Slack locale (users.info); None for a stored user."""
        if self.stored_language(who) is not None:
            return None
        return self._new_member_language(client, who, user_id)

    def stored_language(self, who: str) -> str | None:
        """The member's stored language; None also when the database cannot be read (it is
        down): the reply that says their message was not saved still needs a language."""
        try:
            return self.service.language(CHANNEL, who)
        except StorageError as exc:
            log.warning("the stored language could not be read: %s", exc)
            return None

    def _new_member_language(self, client: WebClient, who: str, user_id: str) -> str | None:
        team = SlackMember.parse(who).team
        try:
            chosen = self.workspaces.lang(team)
        except StorageError:  # the database is down: the member's Slack locale still says
            chosen = None
        if chosen is not None:
            return chosen
        info = self.safely(
            "users.info", lambda: client.users_info(user=user_id, include_locale=True)
        )
        if info is None:
            return None
        found = info.get("user") or {}
        self.workspaces.remember_admin(team, user_id, found)  # the Home tab asks that next
        return found.get("locale")

    def lang_for(self, client: WebClient, team_id: str, user_id: str) -> str:
        who = external_id(team_id, user_id)
        stored = self.stored_language(who)
        return stored or normalise_language(self._new_member_language(client, who, user_id))

    def open_dm(self, client: WebClient, user_id: str) -> str | None:
        """The bot's DM with the user (the App Home messages tab), where assessments run."""
        opened = self.safely("conversations.open", lambda: client.conversations_open(users=user_id))
        return opened["channel"]["id"] if opened is not None else None

    def post(self, client: WebClient, channel: str, message: SlackMessage) -> bool:
        posted = self.safely(
            "chat.postMessage",
            lambda: client.chat_postMessage(channel=channel, **message.as_kwargs()),
        )
        return posted is not None

    def update(self, client: WebClient, channel: str, ts: str, message: SlackMessage) -> None:
        self.safely(
            "chat.update",
            lambda: client.chat_update(channel=channel, ts=ts, **message.as_kwargs()),
        )

    def upload_png(self, client: WebClient, channel: str, png: bytes, key: str, title: str) -> bool:
        """A chart as a file in the DM (files upload v2), after the message it belongs to."""
        return self.upload(
            client, channel, file=png, filename=f"chart-{key}.png", title=title, alt_txt=title
        )

    def upload(self, client: WebClient, channel: str, **fields: Any) -> bool:
        """A file in a conversation (files upload v2: `file` or `content`, `filename`, ...)."""
        uploaded = self.safely(
            "files.upload_v2", lambda: client.files_upload_v2(channel=channel, **fields)
        )
        return uploaded is not None

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
