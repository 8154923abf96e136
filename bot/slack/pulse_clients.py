"""Which Web API client reaches a pulse team's workspace, and how a team is named in each mode.

A self-hosted app has one bot token, so one workspace: a team is its channel id, and every call
goes through the one paced client. In OAuth mode ("Add to Slack") each workspace has its own
token and Slack's rate limits are per workspace, so each workspace gets its own paced client
(its own pacer, all over one connection pool), found through the installation store; a team is
the workspace key and the channel (`T…:C…`, bot/slack/member.py), so two workspaces never share
a team row, not even for a channel shared between them.
"""

from __future__ import annotations

from typing import Protocol

from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import InstallationStore

from bot.slack.member import SlackMember
from bot.slack.oauth import bot_for_workspace
from bot.slack.pacing import PacedClient, Pacer, Pacing
from bot.slack.web_client import ClientsByToken, KeepAliveWebClient


class SlackSendError(RuntimeError):
    """A pulse message could not be delivered (the core logs it and goes on with the others)."""


class WorkspaceClients(Protocol):
    def client_for(self, workspace: str) -> WebClient:
        """The paced client of `workspace` (a workspace key); SlackSendError when none."""
        ...

    def team_key(self, workspace: str, channel: str) -> str:
        """The pulse team's stored name for a channel of `workspace`."""
        ...

    def split_team(self, team: str) -> tuple[str, str]:
        """The inverse of `team_key`: (workspace key, channel id)."""
        ...


class OneWorkspace:
    """A self-hosted app: one token, one workspace (auth.test says which, asked once)."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._workspace: str | None = None

    def workspace(self) -> str:
        if self._workspace is None:
            self._workspace = self.client.auth_test()["team_id"]
        return self._workspace

    def client_for(self, workspace: str) -> WebClient:
        return self.client

    def team_key(self, workspace: str, channel: str) -> str:
        return channel

    def split_team(self, team: str) -> tuple[str, str]:
        return self.workspace(), team


class InstalledWorkspaces:
    """OAuth mode: each installed workspace its own token and its own pacer; the clients of the
    `size` most recently used tokens are kept (a reinstall's new token gets a new one)."""

    def __init__(
        self,
        base: KeepAliveWebClient,
        installations: InstallationStore,
        pacing: Pacing | None = None,
        size: int = 1000,
    ) -> None:
        self.base = base
        self.installations = installations
        self.pacing = pacing
        self._clients = ClientsByToken(base, size, make=self._paced)

    def _paced(self, token: str) -> KeepAliveWebClient:
        paced = PacedClient.like(self.base, Pacer(self.pacing))
        paced.token = token
        return paced.sending_over(self.base)  # one connection pool for every workspace

    def client_for(self, workspace: str) -> WebClient:
        bot = bot_for_workspace(self.installations, workspace)
        if bot is None or not bot.bot_token:
            raise SlackSendError(f"the app is not installed in workspace {workspace}")
        return self._clients.get(bot.bot_token)

    def team_key(self, workspace: str, channel: str) -> str:
        return SlackMember(workspace, channel).key

    def split_team(self, team: str) -> tuple[str, str]:
        parsed = SlackMember.parse(team)
        return parsed.team, parsed.user
