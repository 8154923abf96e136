"""Webhook mode: the bot's webhook server (bot/telegram/webhook.py) on 127.0.0.1 in front of the
real PTB Application; Telegram's secret_token is checked on every request, a request without the
right one stores nothing, and neither does a body that is not an update or is over the limit."""

from __future__ import annotations

import httpx
import pytest

from bot.telegram.app import WebhookConfig
from flows.i18n import t
from tests.fake_telegram import FakeTelegram, TgUser, post_webhook
from tests.telegram_rig import Rig, free_port

SECRET = "webhook-secret_0123456789"
LIMIT = 64 * 1024


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
        max_body_bytes=LIMIT,
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


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"not json",
        b"null",
        b"[]",
        b"42",
        b'"text"',
        b"{}",
        b'{"update_id": "7"}',
        b'{"update_id": 7, "message": {"text": "no chat, no date"}}',
        b"\xff\xfe",
    ],
)
def test_the_right_secret_with_a_body_that_is_no_update_gets_400_and_stores_nothing(
    hooked, fake, body
):
    rig, config = hooked
    response = httpx.post(
        config.url,
        content=body,
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET},
        timeout=10,
    )
    assert response.status_code == 400
    assert rig.rows("select count(*) from processed_events") == [(0,)]
    assert rig.rows("select count(*) from users") == [(0,)]
    # and the bot still answers a real update
    user = TgUser(2002)
    mark = fake.mark()
    assert (
        post_webhook(config.url, fake.send(user, "/help", deliver=False), SECRET).status_code == 200
    )
    rig.message(user, t("help", "en").split("\n")[0], after=mark)


def test_a_body_over_the_limit_gets_413_before_it_is_read(hooked, fake):
    rig, config = hooked
    user = TgUser(2003)
    update = fake.send(user, "/start", deliver=False)
    update["message"]["text"] = "/start " + "x" * LIMIT  # a real update, only too big
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
    declared = httpx.post(config.url, json=update, headers=headers, timeout=10)
    chunked = httpx.post(
        config.url,
        content=iter([b'{"update_id": 1, "message": {"text": "'] + [b"y" * 4096] * 40 + [b'"}}']),
        headers=headers,
        timeout=10,
    )
    assert (declared.status_code, chunked.status_code) == (413, 413)
    assert rig.rows("select count(*) from processed_events") == [(0,)]
    # without the secret, the size does not matter: 403 first
    assert httpx.post(config.url, json=update, timeout=10).status_code == 403
