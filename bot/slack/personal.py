"""Your data in Slack: `/maturity forget` (after its confirmation button) erases everything
stored about you, `/maturity export` sends you a copy of it as a JSON file in the DM.

Why apart from the listeners: these two talk to the service's erasure and export, not to the
conversation engine, and answer with the adapter's own texts (bot/slack/texts.py). Every Web API
call still goes through the channel's wrappers (bot/slack/app.py), which log and survive it.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from slack_sdk import WebClient

from bot.slack.events import CHANNEL, external_id
from bot.slack.output import Pressed, SlackOutput
from bot.slack.texts import st
from bot.storage import StorageWriteError
from flows.i18n import DEFAULT_LANGUAGE, t

if TYPE_CHECKING:
    from bot.slack.app import SlackChannel

EXPORT_FILE = "maturity-bot-export.json"

log = logging.getLogger("bot.slack")


def forget(
    slack: SlackChannel,
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
    lang = slack.service.language(CHANNEL, who) or DEFAULT_LANGUAGE
    output = SlackOutput(slack, client, dm, lang, pressed)
    output.settle([])  # the confirmation loses its buttons, with the choice as a note
    if not confirmed:
        output.send_text(st("forget_cancelled", lang))
        return
    try:
        erased = slack.service.forget(CHANNEL, who)
    except StorageWriteError as exc:
        log.error("forget could not be saved: %s", exc)
        output.send_text(t("not_saved", lang))
        return
    output.send_text(st("forgotten" if erased else "forget_nothing", lang))
    slack.publish_home(client, team_id, user_id, lang=lang)


def export(slack: SlackChannel, client: WebClient, team_id: str, user_id: str, dm: str) -> None:
    """The user's own data (service.export) as a JSON file in the DM: a copy they can keep."""
    data = slack.service.export(CHANNEL, external_id(team_id, user_id))
    lang = slack.lang_for(client, team_id, user_id)
    output = SlackOutput(slack, client, dm, lang)
    if data is None:
        output.send_text(st("export_nothing", lang))
        return
    uploaded = slack.upload(
        client,
        dm,
        content=json.dumps(data, ensure_ascii=False, indent=2),
        filename=EXPORT_FILE,
        title=EXPORT_FILE,
        initial_comment=st("export_comment", lang),
    )
    if not uploaded:
        output.send_text(st("export_failed", lang))
