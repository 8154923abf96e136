"""`/dashboard` in Telegram: the real PTB Application in webhook mode against the fake Bot API,
with the dashboard served by the same webhook server; the link opens it in Chromium, and a
group's creator signs in as that group's admin (getChatMember)."""

# ruff: noqa: F811 - `browser` is a fixture imported from tests/web_rig.py
from __future__ import annotations

import re

import pytest

from bot.storage.connection import now_iso
from bot.storage.pulses import PulseStore
from bot.telegram.app import WebhookConfig
from tests.fake_telegram import FakeTelegram, TgChat, TgUser, post_webhook
from tests.telegram_rig import Rig, free_port
from tests.web_rig import (  # noqa: F401 (browser is a fixture)
    browser,
    check_accessibility,
    open_sign_in_link,
    save_screenshot,
    web_settings,
)

SECRET = "webhook-secret_0123456789"
LINK = re.compile(r"http://127\.0\.0\.1:\d+/signin/[A-Za-z0-9_-]+")


@pytest.fixture
def fake():
    with FakeTelegram() as server:
        yield server


def hooked_rig(fake, tmp_path, models, *, dashboard: bool) -> tuple[Rig, WebhookConfig]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = WebhookConfig(
        url=f"{base}/telegram/hook", listen="127.0.0.1", port=port, secret=SECRET
    )
    settings = web_settings(base) if dashboard else web_settings("")
    return Rig(fake, tmp_path / "bot.db", models, webhook=config, web_settings=settings), config


def dashboard(rig: Rig, config: WebhookConfig, user: TgUser, contains: str) -> str:
    mark = rig.fake.mark()
    update = rig.fake.send(user, "/dashboard", deliver=False)
    assert post_webhook(config.url, update, SECRET).status_code == 200
    return rig.message(user, contains, after=mark).text


def test_dashboard_sends_a_link_that_opens_the_dashboard_in_the_webhook_server(
    browser, fake, tmp_path, models
):
    rig, config = hooked_rig(fake, tmp_path, models, dashboard=True)
    try:
        lead = TgUser(3001, language_code="nl")
        group = TgChat(-100300, type="group", title="Team A")
        fake.set_member(group, lead, "creator")
        PulseStore(rig.storage).join("telegram", str(group.id), "Team A", str(lead.id), now_iso())
        text = dashboard(rig, config, lead, "/signin/")
        assert "één keer en tien minuten" in text
        link = LINK.search(text).group(0)
        page = open_sign_in_link(browser, link)
        assert page.locator("html").get_attribute("lang") == "nl"
        assert page.locator("h1").inner_text() == "Mijn resultaten"
        rows = rig.storage._rows(
            "select channel, external_id, workspace_admin, admin_of_groups from web_sessions"
        )
        assert rows == [
            {"channel": "telegram", "external_id": "3001", "workspace_admin": 1,
             "admin_of_groups": str(group.id)}
        ]  # fmt: skip
        check_accessibility(page)
        save_screenshot(page, "dashboard-home-telegram-nl")
        page.context.close()

        member = TgUser(3002)
        fake.set_member(group, member, "member")
        PulseStore(rig.storage).join("telegram", str(group.id), "Team A", str(member.id), now_iso())
        assert "/signin/" in dashboard(rig, config, member, "/signin/")
        admins = rig.storage._rows(
            "select workspace_admin, admin_of_groups from web_links where external_id = '3002'"
        )
        assert admins == [{"workspace_admin": 0, "admin_of_groups": ""}]
        menu = [c.params for c in fake.calls_to("setMyCommands")]
        assert any("dashboard" in str(params.get("commands")) for params in menu)
    finally:
        rig.stop()


def test_without_a_web_url_dashboard_says_it_is_not_set_up(fake, tmp_path, models):
    rig, config = hooked_rig(fake, tmp_path, models, dashboard=False)
    try:
        dashboard(rig, config, TgUser(3003), "The dashboard is not set up here yet")
        assert rig.storage._rows("select count(*) as n from web_links") == [{"n": 0}]
    finally:
        rig.stop()
