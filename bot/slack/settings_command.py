"""Per-workspace settings (issue 14): what a workspace's admin chose for its language default,
pulse admins, K and time zone, over the operator's settings, and `/maturity settings` to see
and change them.

Why here and not in the core: a "workspace" and its admins are Slack's (users.info is_admin /
is_owner), so the core keeps taking plain values: the pulse asks `scope` (bot/pulse/service.py)
for a team's settings, and the Slack channel asks `Workspaces.lang` for a new member's
language. A value a workspace did not set is read from the operator each time, never copied,
so a changed operator setting reaches every workspace that kept the default.

Only admins and owners see and change the settings (like the pulse's permission check): a pulse
DMs every member of a channel, so who may start one and how anonymous it is are theirs to say.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient

from bot.pulse.service import PulseSettings
from bot.slack.events import SETTINGS_WORDS
from bot.slack.member import SlackMember
from bot.slack.render import context, mrkdwn, plain, sections, unescape
from bot.slack.texts import st
from bot.storage.workspaces import WorkspaceSettings, WorkspaceStore
from flows.i18n import LANGUAGES
from flows.pulse import MIN_RESPONSES_FLOOR, PulseInputError, check_timezone

if TYPE_CHECKING:
    from bot.slack.app import SlackChannel

NAMES = {
    "lang": {"language", "lang", "taal"},
    "pulse_admins": {"admins", "pulse-admins", "pulseadmins", "beheerders", "pulsebeheerders"},
    "min_responses": {"k", "anonymity", "anonimiteit", "min-responses"},
    "timezone": {"timezone", "tz", "tijdzone"},
}
"""Each setting's words in a command, English and Dutch (as the commands' aliases are)."""
DEFAULT_WORDS = {"default", "standaard"}
"""The value that unsets a setting: the operator's applies again."""
NONE_WORDS = {"none", "geen"}
"""Pulse admins: nobody besides the workspace's admins and the channels' creators."""
ADMIN_SECONDS = 300.0
"""How long "is an admin" is remembered per member (the Home tab asks on every publish)."""
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


@dataclass(frozen=True)
class OperatorDefaults:
    """The operator's settings (environment), which apply where a workspace set nothing."""

    lang: str | None = None
    """None: each new member starts in their own Slack language."""
    pulse_admins: frozenset[str] = frozenset()
    min_responses: int = 5
    timezone: str = "Europe/Amsterdam"


class SettingRefused(ValueError):
    """A value a setting may not take; `key` and `values` are the text that says why."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


class Workspaces:
    """Effective settings per workspace: its own value where set, else the operator's."""

    def __init__(self, store: WorkspaceStore, defaults: OperatorDefaults) -> None:
        self.store = store
        self.defaults = defaults
        self._admins: dict[tuple[str, str], tuple[float, bool]] = {}

    def own(self, workspace: str) -> WorkspaceSettings:
        return self.store.workspace_settings(workspace)

    def lang(self, workspace: str) -> str | None:
        """A new member's language here, or None: their own Slack language."""
        return self.own(workspace).lang or self.defaults.lang

    def pulse_admins(self, workspace: str) -> frozenset[str]:
        own = self.own(workspace).pulse_admins
        return self.defaults.pulse_admins if own is None else frozenset(own)

    def pulse_settings(self, base: PulseSettings, workspace: str) -> PulseSettings:
        """The pulse's settings in `workspace`: its K (never below the floor) and time zone."""
        own = self.own(workspace)
        k = own.min_responses if own.min_responses is not None else base.min_responses
        return replace(
            base,
            min_responses=max(k, MIN_RESPONSES_FLOOR),
            timezone=own.timezone or base.timezone,
        )

    def change(self, workspace: str, name: str, words: list[str], resolve: Callable) -> str:
        """Check and store one setting; the value as shown. SettingRefused says why not."""
        value: Any = None
        if not (len(words) == 1 and words[0].lower() in DEFAULT_WORDS):
            value = parse_value(name, words, resolve, self.min_responses_now(workspace))
        self.store.set_workspace_setting(workspace, name, value)
        return "" if value is None else shown_value(name, value)

    def min_responses_now(self, workspace: str) -> int:
        own = self.own(workspace).min_responses
        return own if own is not None else self.defaults.min_responses

    def is_admin(self, slack: SlackChannel, client: WebClient, team_id: str, user: str) -> bool:
        """A workspace admin or owner (users.info), remembered for a few minutes; when Slack
        cannot tell, no (the member may try again)."""
        now = time.monotonic()
        cached = self._admins.get((team_id, user))
        if cached is not None and cached[0] > now:
            return cached[1]
        info = slack.safely("users.info", lambda: client.users_info(user=user))
        if info is None:
            return False
        return self.remember_admin(team_id, user, info.get("user") or {})

    def remember_admin(self, team_id: str, user: str, found: dict[str, Any]) -> bool:
        """Whether users.info's `found` is an admin or owner, remembered as `is_admin` does:
        a first contact's users.info (their locale) also answers it, so it is not asked twice."""
        admin = bool(
            found.get("is_admin") or found.get("is_owner") or found.get("is_primary_owner")
        )
        self._admins[(team_id, user)] = (time.monotonic() + ADMIN_SECONDS, admin)
        return admin


def parse_value(name: str, words: list[str], resolve: Callable, k_now: int) -> Any:
    """The value a setting's words mean, or SettingRefused."""
    if name == "lang":
        lang = " ".join(words).strip().lower()
        if lang not in LANGUAGES:
            raise SettingRefused("settings_bad_lang", languages=", ".join(LANGUAGES))
        return lang
    if name == "min_responses":
        text = " ".join(words).strip()
        if not re.fullmatch(r"\d{1,4}", text) or int(text) < MIN_RESPONSES_FLOOR:
            raise SettingRefused("settings_k_floor", floor=MIN_RESPONSES_FLOOR, k=k_now)
        return int(text)
    if name == "timezone":
        zone = " ".join(words).strip()
        try:
            check_timezone(zone)
        except PulseInputError:
            raise SettingRefused("settings_bad_timezone", value=zone) from None
        if not zone or zone.startswith(("/", ".")):
            raise SettingRefused("settings_bad_timezone", value=zone)
        return zone
    if len(words) == 1 and words[0].lower() in NONE_WORDS:
        return ()
    ids = []
    for word in (w for part in words for w in part.split(",") if w):
        found = _MENTION.match(word)
        user = found.group(1) if found else word if _USER_ID.match(word) else resolve(word)
        if user is None:
            raise SettingRefused("settings_bad_admins", value=word)
        ids.append(user)
    if not ids:
        raise SettingRefused("settings_bad_admins", value="")
    return tuple(dict.fromkeys(ids))


def shown_value(name: str, value: Any) -> str:
    if name == "pulse_admins":
        # the operator's allow-list may name a member as `T…:U…`: a mention takes the user
        return ", ".join(f"<@{SlackMember.parse(user).user}>" for user in value)
    return str(value)


def setting_name(word: str) -> str | None:
    word = word.lower()
    return next((name for name, words in NAMES.items() if word in words), None)


# ---- what an admin sees ------------------------------------------------------------------------
def settings_text(workspaces: Workspaces, workspace: str, lang: str) -> str:
    """The current values, each marked when it is the bot's default rather than the workspace's."""
    own, defaults = workspaces.own(workspace), workspaces.defaults

    def value(own_value: Any, default: str, name: str) -> str:
        if own_value is not None:
            return shown_value(name, own_value) or st("settings_admins_none", lang)
        return st("settings_default", lang, value=default)

    admins = shown_value("pulse_admins", sorted(defaults.pulse_admins))
    return st(
        "settings_show",
        lang,
        lang_value=value(own.lang, defaults.lang or st("settings_lang_slack", lang), "lang"),
        admins=value(own.pulse_admins, admins or st("settings_admins_none", lang), "pulse_admins"),
        k=value(own.min_responses, str(defaults.min_responses), "min_responses"),
        timezone=value(own.timezone, defaults.timezone, "timezone"),
    )


def home_settings_blocks(workspaces: Workspaces, workspace: str, lang: str) -> list[dict]:
    """The Home tab's "Workspace settings" part, for admins only."""
    return [
        {"type": "divider"},
        {"type": "header", "text": plain(st("home_settings_title", lang))},
        *sections(mrkdwn(settings_text(workspaces, workspace, lang))),
        context(mrkdwn(st("settings_how", lang))),
    ]


# ---- the command -------------------------------------------------------------------------------
def is_settings_command(word: str) -> bool:
    return word in SETTINGS_WORDS


def settings_command(
    slack: SlackChannel, body: dict[str, Any], client: WebClient, respond: Any
) -> None:
    """`/maturity settings [name value]`: shown and answered only to the one who typed it."""
    team_id, user_id = slack.workspace_of(body), body["user_id"]
    lang = slack.lang_for(client, team_id, user_id)
    workspaces = slack.workspaces

    def answer(text: str) -> None:
        slack.safely("respond", lambda: respond(text=text, response_type="ephemeral"))

    if not workspaces.is_admin(slack, client, team_id, user_id):
        answer(st("settings_not_admin", lang))
        return
    words = unescape(body.get("text") or "").split()[1:]
    name = setting_name(words[0]) if words else None
    if not words or (name is not None and len(words) < 2):  # a name alone: what it is now
        answer(f"{settings_text(workspaces, team_id, lang)}\n\n{st('settings_how', lang)}")
        return
    if name is None:
        answer(st("settings_unknown", lang, name=words[0]))
        return
    try:
        shown = workspaces.change(team_id, name, words[1:], lambda w: find_user(slack, client, w))
    except SettingRefused as refused:
        answer(st(refused.key, lang, **refused.values))
        return
    label = st(f"settings_name_{name}", lang)
    if shown:
        answer(st("settings_saved", lang, name=label, value=shown))
    else:
        answer(st("settings_reset", lang, name=label))
    slack.publish_home(client, team_id, user_id, lang=lang)


def find_user(slack: SlackChannel, client: WebClient, word: str) -> str | None:
    """`@name` as typed (the command's text is not escaped): the member whose handle or
    display name it is (users.list, paginated)."""
    handle = word.removeprefix("@").lower()
    cursor: str | None = None
    while True:
        page = slack.safely("users.list", lambda at=cursor: client.users_list(limit=200, cursor=at))
        if page is None:
            return None
        for user in page.get("members") or []:
            profile = user.get("profile") or {}
            names = {user.get("name"), profile.get("display_name"), profile.get("real_name")}
            if handle in {str(n).lower() for n in names if n} and not user.get("deleted"):
                return str(user["id"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None


def defaults_of(pulse: Any) -> OperatorDefaults:
    """The operator's values as the app was given them (the pulse's settings and allow-list)."""
    if pulse is None:
        return OperatorDefaults()
    settings = pulse.pulse.settings
    return OperatorDefaults(
        pulse_admins=frozenset(pulse.messenger.admins),
        min_responses=max(settings.min_responses, MIN_RESPONSES_FLOOR),
        timezone=settings.timezone,
    )
