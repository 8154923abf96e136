"""`/dashboard`: a sign-in link for the dashboard (bot/web), sent in the private chat.

Who sees a team's organisation view is, in Telegram, a group's creator or administrator: at
sign-in the bot asks Telegram (getChatMember) about each pulse team the person joined or started
(at most 50), and the session keeps the groups they run (bot/web/viewer.py `admin_of_groups`).
A group owner who neither joined nor started their group's pulse is not asked about: joining is
one press of the group's join button. Kept simple on purpose: no lookup of every team, which
would cost a Bot API call per team per sign-in."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from bot.storage import StorageError
from bot.storage.web_sessions import WebSessionStore
from bot.telegram.render import notice
from bot.telegram.updates import CHANNEL
from bot.web.chat_texts import chat_text
from bot.web.signin import sign_in_link
from bot.web.viewer import Viewer

if TYPE_CHECKING:
    from telegram import User as TgUser

    from bot.settings import Settings
    from bot.telegram.updates import TelegramChannel

ADMIN_STATUSES = ("creator", "administrator")

log = logging.getLogger("bot.telegram.dashboard")


class TelegramDashboard:
    """What `/dashboard` does (TelegramChannel.dashboard, set by build_application)."""

    def __init__(self, settings: Settings | None) -> None:
        self.settings = settings

    async def send_link(
        self,
        channel: TelegramChannel,
        bot: Any,
        chat_id: int,
        user: TgUser,
        target: str | None = None,
    ) -> None:
        await send_dashboard_link(channel, self.settings, bot, chat_id, user, target)


async def send_dashboard_link(
    channel: TelegramChannel,
    settings: Settings | None,
    bot: Any,
    chat_id: int,
    user: TgUser,
    target: str | None = None,
) -> None:
    """Send a new sign-in link into the private chat, or say the dashboard is not set up.
    `target`: the page it lands on (bot/web/signin.py TARGETS; "report" for a result's board
    report)."""
    lang = await channel.language(user)
    if settings is None or not settings.maturity_web_url:
        await channel.send(bot, chat_id, notice(chat_text("dashboard_not_set_up", lang)))
        return
    member = str(user.id)
    storage = channel.service.storage
    try:
        groups = await admin_groups(channel, bot, storage, member)
        viewer = Viewer(
            channel=CHANNEL,
            external_id=member,
            lang=lang,
            workspace=None,
            workspace_admin=bool(groups),
            admin_of_groups=tuple(groups),
        )
        link = await asyncio.to_thread(
            lambda: sign_in_link(storage, settings, viewer, target=target)
        )
    except StorageError as exc:
        log.error("could not make a dashboard sign-in link: %s", type(exc).__name__)
        link = None
    key = "report_link" if target == "report" else "dashboard_link"
    key = "dashboard_failed" if link is None else key
    await channel.send(bot, chat_id, notice(chat_text(key, lang, link=link or "")))


async def admin_groups(channel: TelegramChannel, bot: Any, storage: Any, member: str) -> list[str]:
    """The pulse teams' groups whose creator or administrator `member` is, as Telegram says now
    (a group Telegram does not answer for is left out)."""
    teams = await asyncio.to_thread(WebSessionStore(storage).teams_of, CHANNEL, member)
    found = []
    for chat in teams:
        try:
            chat_id = int(chat)
        except ValueError:
            continue
        answer = await channel.call("getChatMember", bot.get_chat_member(chat_id, int(member)))
        if answer is not None and getattr(answer, "status", None) in ADMIN_STATUSES:
            found.append(chat)
    return found
