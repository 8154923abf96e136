"""Team pulse checks in Slack: the pulse core's `TeamMessenger` over the Web API, the
`/maturity pulse ...` command typed in a team's channel.

No pulse logic lives here. Which rounds open, who is reminded, what a report says and when it is
withheld are decided by bot/pulse/service.py against SQLite; this module only lists a
channel's humans, answers "is this person an admin", delivers DMs with the existing Block Kit
rendering (`SlackChannel.deliver`: an invitation, the model's intro and the first question are
one message, so a member costs one chat.postMessage a round) and posts the team's result to
the channel.

The pulse core is async and runs on one asyncio loop in a background thread
(bot/slack/pulse_runtime.py); every Web API call leaves that loop through `asyncio.to_thread`,
paced under Slack's limits by bot/slack/pacing.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import InstallationStore
from slack_sdk.web.slack_response import SlackResponse

from bot.pulse.service import PulseService, PulseSettings
from bot.service import AssessmentService
from bot.slack.events import CHANNEL, external_id
from bot.slack.member import SlackMember
from bot.slack.pacing import PacedClient, Pacer, Pacing
from bot.slack.pulse_clients import (
    InstalledWorkspaces,
    OneWorkspace,
    SlackSendError,
    WorkspaceClients,
)
from bot.slack.pulse_runtime import PulseRuntime
from bot.slack.render import text_message
from bot.slack.texts import st
from bot.storage import StorageWriteError
from flows.i18n import DEFAULT_LANGUAGE
from flows.pulse_commands import NotAdmin, PulseHelp, pulse_text
from flows.replies import Reply

if TYPE_CHECKING:
    from bot.slack.app import SlackChannel
    from bot.slack.settings_command import Workspaces

log = logging.getLogger("bot.slack.pulse")

T = TypeVar("T")

SLACKBOT = "USLACKBOT"
"""Slackbot is listed as a user with is_bot false; it is never a team member."""
PAGE_SIZE = 200
"""Slack recommends at most 200 items per page for users.list and conversations.members."""


# ---- the messenger -------------------------------------------------------------------------
class SlackTeamMessenger:
    """The pulse core's TeamMessenger for Slack. A team is a channel; its members are the
    channel's humans; a member is `external_id(workspace, user)`, as in the DM channel, so the
    pulse DM and the member's button presses are the same user to the service. Every call
    goes through the client of the workspace it is about (`clients`: one paced client for a
    self-hosted app, one per installed workspace in OAuth mode, bot/slack/pulse_clients.py)."""

    channel = CHANNEL

    def __init__(
        self,
        client: WebClient,
        service: AssessmentService,
        slack: SlackChannel | None = None,
        *,
        page_size: int = PAGE_SIZE,
        admins: frozenset[str] = frozenset(),
        clients: WorkspaceClients | None = None,
    ) -> None:
        """`slack`: the app's own SlackChannel (its DM opening, rendering and error handling),
        given here or by `attach` when the app is built; never a second one made here.
        `clients` (OAuth mode) replaces `client` with a client per workspace."""
        self.clients: WorkspaceClients = clients or OneWorkspace(client)
        self.service = service
        self.admins = admins
        """Slack user ids (`U…`, or `T…:U…`) the operator allows to start and manage pulses."""
        self._slack = slack
        self.workspaces: Workspaces | None = None
        """Each workspace's own settings (its pulse admins, its members' language), once the
        app is built (`SlackPulse.use_workspaces`)."""
        self.page_size = page_size
        self._dms: dict[str, str] = {}
        """Member (workspace and user) -> the DM's channel id: a reminder does not reopen it."""

    def attach(self, slack: SlackChannel) -> None:
        """Use the app's channel object (done by `build_app`)."""
        self._slack = slack

    @property
    def slack(self) -> SlackChannel:
        if self._slack is None:
            raise RuntimeError("the Slack pulse messenger is not attached to an app")
        return self._slack

    # ---- TeamMessenger -------------------------------------------------------------------
    async def members(self, team: str) -> list[str]:
        return await asyncio.to_thread(self._members, team)

    async def is_admin(self, team: str, user: str, creator: str | None) -> bool:
        """Who may start and manage the pulse of channel `team`: a workspace admin or owner
        (users.info), the channel's creator (conversations.info), someone on the operator's
        allow-list (MATURITY_PULSE_ADMINS), and once it runs, the pulse's creator. Not any
        member: a pulse DMs every member of the channel on a schedule. A workspace whose admin
        named its own pulse admins has those instead of the operator's."""
        admins = self.admins
        if self.workspaces is not None:
            admins = await asyncio.to_thread(
                self.workspaces.pulse_admins, SlackMember.parse(user).team
            )
        if user == creator or user in admins or SlackMember.parse(user).user in admins:
            return True
        return await asyncio.to_thread(self._admin_here, team, user)

    async def send_dm(self, member: str, replies: Sequence[Reply]) -> None:
        await asyncio.to_thread(self._send_dm, member, list(replies))

    async def post_team(self, team: str, text: str, chart_png: bytes | None) -> None:
        await asyncio.to_thread(self._post_team, team, text, chart_png)

    def team_key(self, workspace: str, channel: str) -> str:
        """How the pulse of `channel` in `workspace` is stored (the channel id when self-hosted,
        the workspace and the channel in OAuth mode)."""
        return self.clients.team_key(workspace, channel)

    # ---- the Web API calls (in worker threads) -------------------------------------------
    def _members(self, team: str) -> list[str]:
        """The channel's member ids (conversations.members) that are humans: not bots, not
        deactivated. The directory is read once per call with users.list (paginated), never
        users.info per member: a team of 1,000 costs a handful of calls, not 1,000."""
        workspace, channel = self.clients.split_team(team)
        client = self.clients.client_for(workspace)
        ids = self._paginate(lambda **page: client.conversations_members(channel=channel, **page))
        humans: dict[str, str | None] = {}
        for user in self._paginate(lambda **page: client.users_list(include_locale=True, **page)):
            if user.get("is_bot") or user.get("deleted") or user.get("id") == SLACKBOT:
                continue
            humans[user["id"]] = user.get("locale")
        chosen = self.workspaces.lang(workspace) if self.workspaces is not None else None
        members = []
        for user_id in dict.fromkeys(ids):  # unique, in Slack's order
            if user_id not in humans:
                continue
            member = external_id(workspace, user_id)
            locale = chosen or humans[user_id]  # the language the workspace chose wins
            if locale and self.service.language(CHANNEL, member) is None:
                # first contact: their pulse DM comes in their Slack language, as a DM would
                with contextlib.suppress(StorageWriteError):  # a language is not worth a round
                    self.service.set_language(CHANNEL, member, locale)
            members.append(member)
        return members

    def _paginate(self, call: Callable[..., SlackResponse]) -> list:
        """Every page's `members` (cursor pagination, called here rather than by iterating the
        response, so that each page goes through the pacer)."""
        items: list = []
        cursor: str | None = None
        while True:
            page = call(limit=self.page_size, cursor=cursor)
            items += page.get("members") or []
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return items

    def _admin_here(self, team: str, member: str) -> bool:
        """A workspace admin or owner (asked as `/maturity settings` asks, and remembered with
        it), or the channel's creator. When Slack cannot tell, the answer is no: the caller is
        refused and can try again."""
        who = SlackMember.parse(member)
        workspace, channel_id = self.clients.split_team(team)
        client = self.clients.client_for(workspace)
        if self.slack.workspaces.is_admin(self.slack, client, workspace, who.user):
            return True
        channel = self.slack.safely(
            "conversations.info", lambda: client.conversations_info(channel=channel_id)
        )
        return bool(channel) and (channel.get("channel") or {}).get("creator") == who.user

    def _send_dm(self, member: str, replies: list[Reply]) -> None:
        """Into the member's DM: the channel id from an earlier round is reused (stored), so a
        round opens only new members' DMs (conversations.open is the slowest call, Tier 3).
        When a stored channel is gone (channel_not_found), Slack gives a new id on re-opening:
        nothing reached the old one, so everything is sent again there."""
        who = SlackMember.parse(member)
        client = self.clients.client_for(who.team)
        lang = self.service.language(CHANNEL, member) or DEFAULT_LANGUAGE
        dm = self._dms.get(member) or self.service.dm_channel(CHANNEL, member)
        if dm is not None:
            if self.slack.deliver(client, dm, replies, lang, None):
                self._dms[member] = dm
                return
            fresh = self._open(client, member)
            if fresh != dm:
                self.slack.deliver(client, fresh, replies, lang, None)
            return
        self.slack.deliver(client, self._open(client, member), replies, lang, None)

    def _open(self, client: WebClient, member: str) -> str:
        dm = self.slack.open_dm(client, SlackMember.parse(member).user)
        if dm is None:
            raise SlackSendError(f"cannot open a direct message with {member}")
        self._dms[member] = dm
        self.service.remember_dm_channel(CHANNEL, member, dm)
        return dm

    def _post_team(self, team: str, text: str, chart_png: bytes | None) -> None:
        workspace, channel = self.clients.split_team(team)
        client = self.clients.client_for(workspace)
        message = text_message(text)
        posted = self.slack.safely(
            "chat.postMessage",
            lambda: client.chat_postMessage(channel=channel, **message.as_kwargs()),
        )
        if posted is None:
            raise SlackSendError(f"cannot post in channel {channel} (is the bot invited?)")
        if chart_png is not None:
            title = text.split("\n", 1)[0]
            self.slack.upload_png(client, channel, chart_png, f"pulse-{channel}", title)


def in_dm(body: dict[str, Any]) -> bool:
    return str(body.get("channel_id", "")).startswith("D") or (
        body.get("channel_name") == "directmessage"
    )


class SlackPulse:
    """The pulse part of the Slack app: builds the runtime and answers `/maturity pulse ...`."""

    def __init__(
        self,
        pulse: PulseService,
        messenger: SlackTeamMessenger,
        *,
        interval: float = 30.0,
        scheduled: bool = True,
    ) -> None:
        self.pulse = pulse
        self.messenger = messenger
        self.runtime = PulseRuntime(pulse, messenger, interval=interval, scheduled=scheduled)

    @classmethod
    def create(
        cls,
        service: AssessmentService,
        client: WebClient,
        settings: PulseSettings,
        *,
        pacing: Pacing | None = None,
        admins: frozenset[str] = frozenset(),
        installations: InstallationStore | None = None,
        **kwargs: Any,
    ) -> SlackPulse:
        """The pulse service over `service` (its pulse models registered with the engine, so a
        member's answers work after a restart) and a paced copy of the app's client; `admins`
        are the operator's pulse admins (MATURITY_PULSE_ADMINS). With `installations` (OAuth
        mode) each workspace is reached with its own token, paced on its own."""
        pulse = PulseService(service, settings)
        paced = PacedClient.like(client, Pacer(pacing))
        clients = None
        if installations is not None:
            clients = InstalledWorkspaces(client, installations, pacing)
        messenger = SlackTeamMessenger(paced, service, admins=admins, clients=clients)
        return cls(pulse, messenger, **kwargs)

    def use_workspaces(self, workspaces: Workspaces) -> None:
        """Each workspace's own pulse admins, K and time zone (done by the app's channel)."""
        self.messenger.workspaces = workspaces
        base = self.pulse.settings

        def scope(team: str, user: str | None) -> PulseSettings:
            if user is None:  # a round closing: the workspace its pulse was started in
                row = self.pulse.store.pulse(CHANNEL, team)
                user = row.created_by if row is not None else None
            workspace = SlackMember.parse(user).team if user else ""
            return workspaces.pulse_settings(base, workspace) if workspace else base

        self.pulse.scope = scope

    def start(self) -> None:
        self.runtime.start()

    def stop(self) -> None:
        self.runtime.stop()

    def on_command(
        self, slack: SlackChannel, body: dict[str, Any], client: WebClient, respond: Any
    ) -> None:
        """`/maturity pulse ...`: in a channel the core's reply goes to the channel (only the
        person refused sees a refusal); in a DM it says to use the team's channel."""
        team_id, user_id = slack.workspace_of(body), body["user_id"]
        lang = slack.lang_for(client, team_id, user_id)
        if in_dm(body):
            dm = slack.open_dm(client, user_id) or body.get("channel_id", "")
            slack.post(client, dm, text_message(st("pulse_in_channel_only", lang)))
            return
        channel_id = body.get("channel_id", "")
        name = body.get("channel_name") or ""
        team_name = f"#{name}" if name and name != "privategroup" else channel_id
        words = (body.get("text") or "").split()[1:]
        team = self.messenger.team_key(team_id, channel_id)
        result = self.runtime.command(team, team_name, external_id(team_id, user_id), words, lang)
        refused = isinstance(result, NotAdmin)
        # a refusal says who may, in Slack's terms
        reply = st("pulse_not_admin", lang) if refused else pulse_text(result, lang)
        if isinstance(result, PulseHelp):
            reply = f"{reply}\n\n{st('pulse_slack_note', lang)}"
        message = text_message(reply)
        answered = slack.safely(
            "respond",
            lambda: respond(
                text=message.text,
                blocks=list(message.blocks),
                response_type="ephemeral" if refused else "in_channel",
            ),
        )
        if getattr(answered, "status_code", None) != 200 and not refused:
            # the response_url can expire (30 minutes) during a long `pulse now`: post instead
            slack.post(client, channel_id, message)
