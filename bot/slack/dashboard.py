"""`/maturity dashboard` and the Home tab's Dashboard button: a sign-in link for the dashboard
(bot/web), sent in the person's DM, never in a channel.

Whether they see the organisation page is Slack's word at this moment: a workspace admin or
owner (users.info, as `/maturity settings` asks). It is kept in the session (bot/web/viewer.py)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.slack.events import CHANNEL, external_id
from bot.storage import StorageError
from bot.web.chat_texts import chat_text
from bot.web.signin import sign_in_link
from bot.web.viewer import Viewer

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.settings import Settings
    from bot.slack.app import SlackChannel

DASHBOARD_WORDS = {"dashboard"}
"""The same word in Dutch and English."""
ACTION_DASHBOARD = "mb:dashboard"
"""The Home tab's Dashboard button (under bot/slack/render.py's ACTION_PREFIX)."""

log = logging.getLogger("bot.slack.dashboard")


def send_dashboard_link(
    slack: SlackChannel,
    settings: Settings | None,
    client: WebClient,
    team_id: str,
    user_id: str,
    dm: str,
    target: str | None = None,
) -> None:
    """Post a new sign-in link in `dm`, or say that the dashboard is not set up. `target`: the
    page it lands on (bot/web/signin.py TARGETS; "report" for the result's board report).
    A link is the person's own: when `dm` is not a direct message (a button pressed in a
    channel), it goes to their DM instead, never where others could use it."""
    if not dm.startswith("D"):
        opened = slack.open_dm(client, user_id)
        if opened is None:
            return
        dm = opened
    lang = slack.lang_for(client, team_id, user_id)
    if settings is None or not settings.maturity_web_url:
        slack.safely(
            "chat.postMessage",
            lambda: client.chat_postMessage(
                channel=dm, text=chat_text("dashboard_not_set_up", lang)
            ),
        )
        return
    viewer = Viewer(
        channel=CHANNEL,
        external_id=external_id(team_id, user_id),
        lang=lang,
        workspace=team_id,
        workspace_admin=slack.workspaces.is_admin(slack, client, team_id, user_id),
    )
    try:
        link = sign_in_link(slack.service.storage, settings, viewer, target=target)
    except StorageError as exc:
        log.error("could not store a dashboard sign-in link: %s", type(exc).__name__)
        link = None
    if link is None:
        text = chat_text("dashboard_failed", lang)
        slack.safely("chat.postMessage", lambda: client.chat_postMessage(channel=dm, text=text))
        return
    slack.safely(
        "chat.postMessage",
        lambda: client.chat_postMessage(
            channel=dm, unfurl_links=False, **link_message(link, lang, target)
        ),
    )


def link_message(link: str, lang: str, target: str | None = None) -> dict[str, Any]:
    """The DM: the text (with the link, for notifications and screen readers) and a button;
    a link to the board report says so."""
    report = target == "report"
    text = chat_text("report_link" if report else "dashboard_link", lang, link=link)
    button = chat_text("report_open_button" if report else "dashboard_button", lang)
    return {
        "text": text,
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": text.replace(link, f"<{link}>")},
            },
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "mb:dashboard:open",
                        "text": {"type": "plain_text", "text": button},
                        "url": link,
                        "style": "primary",
                    }
                ],
            },
        ],
    }


def home_blocks(lang: str) -> list[dict[str, Any]]:
    """The Home tab's Dashboard section and button (shown when the dashboard is set up)."""
    return [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": chat_text("dashboard_home_intro", lang)},
        },
        {
            "type": "actions",
            "block_id": "dashboard",
            "elements": [
                {
                    "type": "button",
                    "action_id": ACTION_DASHBOARD,
                    "text": {
                        "type": "plain_text",
                        "text": chat_text("dashboard_home_button", lang),
                    },
                }
            ],
        },
    ]
