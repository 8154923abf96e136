"""Webhook mode: the real PTB webhook server (tornado) on 127.0.0.1; Telegram's secret_token
is checked on every request, and a request without the right one stores nothing."""

from __future__ import annotations

import pytest

from bot.telegram import WebhookConfig
from flows.i18n import t
from tests.fake_telegram import FakeTelegram, TgUser, post_webhook
from tests.telegram_rig import Rig, free_port

SECRET = "webhook-secret_0123456789"


@pytest.fixture
def fake():
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def hooked(fake, tmp_path, models):
    port = free_port()
    config = WebhookConfig(
        url=f"http://127.0.0.1:{port}/telegram/hook",
        listen="127.0.0.1",
        port=port,
        secret=SECRET,
    )
    bot = Rig(fake, tmp_path / "bot.db", models, webhook=config)
    yield bot, config
    bot.stop()


def test_the_webhook_is_set_with_the_secret(hooked, fake):
    _, config = hooked
    assert fake.webhook == {"url": config.url, "secret_token": SECRET}
    assert not fake.calls_to("getUpdates")


def test_a_request_without_the_right_secret_is_refused_and_stores_nothing(hooked, fake):
    rig, config = hooked
    user = TgUser(2001)
    mark = fake.mark()
    wrong = post_webhook(config.url, fake.send(user, "/start", deliver=False), "not-the-secret")
    missing = post_webhook(config.url, fake.send(user, "/assess groeimodel", deliver=False))
    assert (wrong.status_code, missing.status_code) == (403, 403)

    right = post_webhook(config.url, fake.send(user, "/help", deliver=False), SECRET)
    assert right.status_code == 200
    rig.message(user, t("help", "en").split("\n")[0], after=mark)  # the right one is handled
    texts = [m.text for m in fake.sent(user.id, after=mark)]
    assert not any(t("welcome", "en") in text for text in texts)  # the refused /start
    assert rig.rows("select count(*) from assessments") == [(0,)]  # the refused /assess
    assert len(rig.rows("select event_key from processed_events")) == 1  # only the accepted one
