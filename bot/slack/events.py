"""Slack requests as neutral events: what a slash command's text, a pressed button or a
selected option means to the core. Pure functions, so they are tested without Slack.
"""

from __future__ import annotations

from typing import Any

from bot.slack.home import ACTION_HOME_START
from bot.slack.member import SlackMember, workspace_key
from bot.slack.render import unescape
from flows.events import Event, Kind, from_payload, from_text

CHANNEL = "slack"
"""The channel name Slack users are stored under."""
HELP_WORDS = {"", "help", "hulp"}
FORGET_WORDS = {"forget", "vergeet"}
EXPORT_WORDS = {"export", "exporteer"}
PULSE_WORDS = {"pulse"}
SETTINGS_WORDS = {"settings", "instellingen"}
"""`/maturity settings`: the workspace's settings, for its admins (bot/slack/settings_command)."""


def external_id(team_id: str, user_id: str) -> str:
    """The service's id for a Slack user (see bot/slack/member.py)."""
    return SlackMember(team_id, user_id).key


def team_of(body: dict[str, Any]) -> str:
    """The workspace (team id) a request comes from: a command's or event's `team_id`, an
    interaction's `team.id` (or its user's `team_id`)."""
    team = body.get("team_id") or (body.get("team") or {}).get("id")
    if not team:
        user, event = body.get("user"), body.get("event")
        team = (user.get("team_id") if isinstance(user, dict) else None) or (
            event.get("team") if isinstance(event, dict) else None
        )
    return str(team or "")


def enterprise_of(body: dict[str, Any]) -> str:
    """The Enterprise Grid organisation a request comes from; '' outside Grid."""
    enterprise = body.get("enterprise_id") or (body.get("enterprise") or {}).get("id")
    if not enterprise:
        user = body.get("user")
        enterprise = user.get("enterprise_id") if isinstance(user, dict) else None
    if not enterprise:
        authorizations = body.get("authorizations") or [{}]
        enterprise = authorizations[0].get("enterprise_id") if authorizations else None
    return str(enterprise or "")


def workspace_of(body: dict[str, Any], *, grid: bool) -> str:
    """The request's workspace key (bot/slack/member.py): with `grid` (OAuth mode), a Grid
    workspace is its organisation and team together; a self-hosted app keeps the team id."""
    return workspace_key(enterprise_of(body) if grid else None, team_of(body))


def first_word(text: str) -> str:
    """The word after `/maturity`, which says whose command it is (the core's, forget, pulse)."""
    return text.strip().split(" ", 1)[0].lower()


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


def command_event(text: str) -> Event:
    """`/maturity start groeimodel` -> the core's `/start groeimodel`; bare `/maturity` is help."""
    stripped = unescape(text).strip()  # Slack escapes &, < and > in a command's text too
    if first_word(stripped) in HELP_WORDS:
        return Event(Kind.HELP)
    return from_text("/" + stripped.lstrip("/"))
