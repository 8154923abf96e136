"""OAuth mode ("Add to Slack"): one hosted bot for many workspaces, with Bolt's own OAuth flow.

On when SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set (HTTP mode; bot/slack/platform.py checks
them). Bolt serves GET /slack/install (a redirect to Slack's authorize page, with a `state` that
is kept in our database and in a cookie of the browser that asked) and GET /slack/oauth_redirect
(the state checked once, the code exchanged with oauth.v2.access, the workspace's bot token
stored). Each request's token then comes from Bolt's authorize, which finds the workspace's row.

Installations and states live in our own tables (bot/storage/installations.py, both backends);
the classes here are slack_sdk's interfaces over them. Bot installations only: the app asks
for no user scopes, so a user's installation is the workspace's bot installation.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore

from bot.pulse.clock import iso, schedule_of
from bot.slack.member import split_workspace, workspace_key
from bot.slack.platform import REDIRECT_PATH
from bot.slack.texts import st
from bot.storage import Storage
from bot.storage.installations import InstallationRow, Installations, OAuthStates, key
from bot.storage.pulses import PulseStore
from bot.storage.purge import Uninstalls
from flows.i18n import normalise_language
from flows.pulse import next_run

log = logging.getLogger("bot.slack.oauth")

INSTALL_PATH = "/slack/install"
BOT_SCOPES = (
    "channels:read",
    "chat:write",
    "commands",
    "files:write",
    "groups:read",
    "im:history",
    "im:write",
    "users:read",
)
"""The scopes of manifest.yml and manifest.distributed.yml, kept in the code: an installed
package (the Docker image) has no manifest file to read them from."""


class InstallationStoreOverStorage(InstallationStore):
    """slack_sdk's installation store over our installations table."""

    def __init__(
        self, storage: Storage, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.table = Installations(storage)
        self.storage = storage
        self.clock = clock
        """The pulse's clock (set with it): a resumed pulse's next round is planned by it."""

    @property
    def logger(self) -> logging.Logger:
        return log

    def save(self, installation: Installation) -> None:
        self._save(installation.to_bot(), installer=installation.user_id)
        log.info("installed in workspace %s", installation.team_id or installation.enterprise_id)

    def save_bot(self, bot: Bot) -> None:
        self._save(bot, installer=None)

    def _save(self, bot: Bot, installer: str | None) -> None:
        enterprise_id, team_id = key(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        installed = datetime.fromtimestamp(bot.installed_at, UTC).isoformat(timespec="seconds")
        row = InstallationRow(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=1 if bot.is_enterprise_install else 0,
            app_id=bot.app_id,
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            bot_scopes=",".join(bot.bot_scopes or []),
            installer_user_id=installer,
            team_name=bot.team_name,
            enterprise_name=bot.enterprise_name,
            installed_at=installed,
        )
        org_wide = bool(bot.is_enterprise_install)
        workspace = workspace_key(bot.enterprise_id, None if org_wide else bot.team_id)
        self.table.save(row, workspace)
        self.resume_pulses(workspace)

    def resume_pulses(self, workspace: str) -> None:
        """A reinstall: the pulses its uninstall stopped run again, from their next scheduled
        round on (a round missed while uninstalled is not made up)."""
        store, now = PulseStore(self.storage), self.clock()
        for team_id in Uninstalls(self.storage).uninstalled_pulses(workspace):
            pulse = store.pulse_of_team(team_id)
            if pulse is not None:
                store.set_status(team_id, "active", iso(next_run(schedule_of(pulse), now)))
                log.info("reinstalled: the pulse of team %s resumes", team_id)

    def find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        found = self.table.find(enterprise_id, team_id, is_enterprise_install)
        return Bot(**_bot_fields(found)) if found is not None else None

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        found = self.table.find(enterprise_id, team_id, is_enterprise_install)
        if found is None or (user_id is not None and user_id != found.installer_user_id):
            return None
        return Installation(user_id=found.installer_user_id or "", **_bot_fields(found))

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.table.delete(enterprise_id, team_id)

    def delete_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
    ) -> None:
        """A user id means that user's own token, which we never had: nothing to delete."""
        if user_id is None:
            self.table.delete(enterprise_id, team_id)

    def delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.table.delete(enterprise_id, team_id)


class Uninstaller:
    """`app_uninstalled` and `tokens_revoked` (bot tokens): the token is deleted at once (Slack
    no longer honours it), the workspace's pulses stop, and its data is kept for the grace
    period (MATURITY_WORKSPACE_GRACE_DAYS; the pulse tick purges it after), so a reinstall in
    time loses nothing. `clock` is the pulse's, so an uninstall and its purge use one time."""

    def __init__(
        self,
        storage: Storage,
        installations: InstallationStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.uninstalls = Uninstalls(storage)
        self.installations = installations
        self.clock = clock

    def app_uninstalled(
        self, enterprise_id: str | None, team_id: str | None, org_wide: bool = False
    ) -> None:
        """`org_wide`: the organisation's own install (Grid) went, whichever workspace the
        event names: its row is the organisation's, and so is the grace period."""
        team_id = None if org_wide else team_id
        self.installations.delete_all(enterprise_id=enterprise_id, team_id=team_id)
        self._uninstalled(workspace_key(enterprise_id, team_id))

    def tokens_revoked(
        self,
        event: dict[str, Any],
        enterprise_id: str | None,
        team_id: str | None,
        org_wide: bool = False,
    ) -> None:
        """Only the bot's token matters: we hold no user tokens."""
        if event.get("tokens", {}).get("bot"):
            team_id = None if org_wide else team_id
            self.installations.delete_bot(enterprise_id=enterprise_id, team_id=team_id)
            self._uninstalled(workspace_key(enterprise_id, team_id))

    def _uninstalled(self, workspace: str) -> None:
        """`workspace`: the workspace key, or the organisation's id for an org-wide uninstall
        (which names no workspace): its grace period then covers all its workspaces' data."""
        if not workspace:
            return
        self.uninstalls.record_uninstall(workspace, self.clock())
        stopped = self.uninstalls.stop_pulses(workspace)
        log.info("uninstalled from workspace %s; %d pulse(s) stopped", workspace, stopped)


def bot_for_workspace(store: InstallationStore, workspace: str) -> Bot | None:
    """The installation that serves a workspace key: the workspace's own, else (Grid) its
    organisation's org-wide one."""
    enterprise, team = split_workspace(workspace)
    bot = store.find_bot(enterprise_id=enterprise, team_id=team)
    if bot is None and enterprise:
        bot = store.find_bot(enterprise_id=enterprise, team_id=None, is_enterprise_install=True)
    return bot


def _bot_fields(row: InstallationRow) -> dict[str, Any]:
    return {
        "app_id": row.app_id,
        "enterprise_id": row.enterprise_id or None,
        "enterprise_name": row.enterprise_name,
        "team_id": row.team_id or None,
        "team_name": row.team_name,
        "bot_token": row.bot_token,
        "bot_id": row.bot_id,
        "bot_user_id": row.bot_user_id,
        "bot_scopes": row.bot_scopes or "",
        "is_enterprise_install": bool(row.is_enterprise_install),
        "installed_at": datetime.fromisoformat(row.installed_at).timestamp(),
    }


class StateStoreOverStorage(OAuthStateStore):
    """slack_sdk's OAuth state store over our oauth_states table: each state valid once."""

    def __init__(self, states: OAuthStates) -> None:
        self.states = states

    @property
    def logger(self) -> logging.Logger:
        return log

    def issue(self, *args: Any, **kwargs: Any) -> str:
        return self.states.issue()

    def consume(self, state: str) -> bool:
        return self.states.consume(state)


def bot_scopes() -> list[str]:
    """The bot scopes the app asks for; both manifests list the same (a test keeps them so)."""
    return list(BOT_SCOPES)


def oauth_settings(
    storage: Storage,
    client_id: str,
    client_secret: str,
    *,
    redirect_uri: str | None = None,
    authorization_url: str | None = None,
    states: OAuthStates | None = None,
    installations: InstallationStoreOverStorage | None = None,
) -> OAuthSettings:
    """Bolt's OAuth settings with our stores. /slack/install redirects straight to Slack (no
    page of Bolt's own); the state is also bound to the browser by Bolt's cookie.

    Each request's token is still looked up in the store (an uninstalled workspace's is gone at
    once), but what auth.test says about a token is kept: without that, Bolt's authorize asks
    auth.test on every request, a Web API call per message."""
    extra: dict[str, Any] = {}
    if authorization_url:
        extra["authorization_url"] = authorization_url
    settings = OAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=bot_scopes(),
        user_scopes=[],
        redirect_uri=redirect_uri,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        install_page_rendering_enabled=False,
        installation_store=installations or InstallationStoreOverStorage(storage),
        installation_store_bot_only=True,
        state_store=StateStoreOverStorage(states or OAuthStates(storage)),
        callback_options=CallbackOptions(success=_installed, failure=_not_installed),
        **extra,
    )
    settings.authorize.cache_enabled = True  # what auth.test said, per token
    return settings


# ---- the page the installing admin's browser ends on -------------------------------------------
def _installed(args: SuccessArgs) -> BoltResponse:
    return _page(args.request, "install_done", 200)


def _not_installed(args: FailureArgs) -> BoltResponse:
    log.warning("an installation did not complete: %s", args.reason)
    return _page(args.request, "install_failed", args.suggested_status_code)


def _page(request: BoltRequest, key: str, status: int) -> BoltResponse:
    """Bolt's own pages are English only: ours speak the browser's language (nl or en)."""
    accepted = (request.headers.get("accept-language") or [""])[0]
    lang = normalise_language(accepted.split(",", 1)[0])
    title, text = html.escape(st("install_title", lang)), html.escape(st(key, lang))
    body = (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body><h1>{title}</h1><p>{text}</p></body></html>"
    )
    return BoltResponse(
        status=status, body=body, headers={"Content-Type": "text/html; charset=utf-8"}
    )
