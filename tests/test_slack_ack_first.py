"""Acknowledging before any work, whatever the load, in both Slack modes (bot/slack/dispatch.py):
a request whose work is stuck is still acknowledged, and a full pool acknowledges, applies
nothing, and tells the user the bot is busy."""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack
from typing import Any

import pytest
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.service import AssessmentService
from bot.slack.build import build_app, socket_mode_handler
from bot.slack.http import EVENTS_PATH, web_app
from bot.slack.texts import st
from bot.slack.web_client import make_client
from bot.storage import Storage
from tests.fake_slack import BOT_TOKEN, TEAM_ID, FakeSlack, SlackSender, serve_asgi

SECRET = "test-signing-secret"
BUSY_EN = st("busy", "en")
BUSY_NL = st("busy", "nl")


@pytest.fixture
def fake():
    with FakeSlack() as server:
        yield server


class Bot:
    """The real app over a SQLite file, with a pool of one thread and `max_pending` places."""

    def __init__(self, fake: FakeSlack, db_path, models, max_pending: int) -> None:
        self.stack = ExitStack()
        self.storage = Storage(db_path)
        self.stack.callback(self.storage.close)
        self.service = AssessmentService(self.storage, models)
        client = make_client(BOT_TOKEN, fake.api_url)
        self.app = build_app(self.service, client, SECRET, threads=1, max_pending=max_pending)
        self.stack.callback(self.app.ack_first.shutdown, wait=True)
        url = self.stack.enter_context(serve_asgi(web_app(self.app, self.storage)))
        self.send = SlackSender(url + EVENTS_PATH, SECRET, fake)
        self.stack.callback(self.send.close)

    def users(self) -> int:
        return self.storage.db.execute("select count(*) from users").fetchone()[0]


@pytest.fixture
def crowded(fake, tmp_path, models):
    """A bot with room for one request at a time."""
    bot = Bot(fake, tmp_path / "slack.db", models, max_pending=1)
    yield bot
    bot.stack.close()


def _posted_to(fake: FakeSlack, channel: str, text: str, after: int = 0) -> bool:
    return any(
        c.response.get("channel") == channel and text in (c.params.get("text") or "")
        for c in fake.calls_to("chat.postMessage", after=after)
        if c.ok
    )


def test_a_message_is_acknowledged_while_its_work_waits_for_slack(crowded, fake):
    gate = fake.hold("users.info")  # a first contact's language: the first Web API call
    try:
        response = crowded.send.dm("U1", "hello")
        assert response.status_code == 200
        fake.wait_held("users.info")  # the work is under way and stuck, the ack went out
        assert crowded.users() == 0
    finally:
        gate.set()
    fake.wait_for("chat.postMessage", lambda c: c.response.get("channel") == "DU1")
    assert crowded.users() == 1


def test_a_full_pool_still_acks_and_tells_the_user_it_is_busy(crowded, fake):
    gate = fake.hold("conversations.open")
    try:
        assert crowded.send.command("start groeimodel", "U1").status_code == 200
        fake.wait_held("conversations.open")  # U1's work holds the only place

        refused = crowded.send.command("start groeimodel", "U2")
        assert refused.status_code == 200
        assert refused.json() == {"response_type": "ephemeral", "text": BUSY_EN}

        mark = fake.mark()
        typed = crowded.send.dm("U3", "hello")
        assert typed.status_code == 200 and typed.text == ""
        fake.wait_for("chat.postMessage", lambda c: c.response.get("channel") == "DU3", after=mark)
        assert _posted_to(fake, "DU3", BUSY_EN, after=mark)
    finally:
        gate.set()
    fake.wait_for("chat.postMessage", lambda c: c.response.get("channel") == "DU1")
    # nothing of the refused requests was applied: only U1 is known
    stored = crowded.storage.db.execute("select external_id from users").fetchall()
    assert stored == [(f"{TEAM_ID}:U1",)]


def test_the_busy_notice_is_in_the_users_language(crowded, fake):
    crowded.send.command("lang nl", "U1")
    fake.wait_for("chat.postMessage", lambda c: c.response.get("channel") == "DU1")
    _wait_until(lambda: crowded.users() == 1 and _idle(crowded))
    gate = fake.hold("conversations.open")
    try:
        crowded.send.command("start groeimodel", "U2")
        fake.wait_held("conversations.open")
        refused = crowded.send.command("resume", "U1")
        assert refused.json()["text"] == BUSY_NL
    finally:
        gate.set()


def test_when_the_work_is_done_the_place_is_free_again(crowded, fake):
    gate = fake.hold("conversations.open")
    try:
        crowded.send.command("start groeimodel", "U1")
        fake.wait_held("conversations.open")
        assert crowded.send.command("start groeimodel", "U2").json()["text"] == BUSY_EN
    finally:
        gate.set()
    fake.wait_for("chat.postMessage", lambda c: c.response.get("channel") == "DU1")
    _wait_until(lambda: _idle(crowded))
    again = crowded.send.command("start groeimodel", "U2")
    assert again.status_code == 200 and again.text == ""
    fake.wait_for("chat.postMessage", lambda c: c.response.get("channel") == "DU2")


# ---- Socket Mode ---------------------------------------------------------------------------------
class Envelopes:
    """Slack's side of the WebSocket: records the acknowledgements the handler sends back."""

    def __init__(self) -> None:
        self.sent: list[SocketModeResponse] = []
        self.arrived = threading.Condition()

    def send_socket_mode_response(self, response: SocketModeResponse) -> None:
        with self.arrived:
            self.sent.append(response)
            self.arrived.notify_all()


def _command_envelope(envelope_id: str, user: str, text: str) -> SocketModeRequest:
    payload = {
        "team_id": TEAM_ID,
        "channel_id": f"D{user}",
        "user_id": user,
        "command": "/maturity",
        "text": text,
        "response_url": "http://127.0.0.1:9/",
        "trigger_id": envelope_id,
    }
    return SocketModeRequest(type="slash_commands", envelope_id=envelope_id, payload=payload)


def test_socket_mode_acks_each_envelope_before_its_work_and_says_busy_when_full(
    fake, tmp_path, models
):
    storage = Storage(tmp_path / "socket.db")
    service = AssessmentService(storage, models)
    app = build_app(service, make_client(BOT_TOKEN, fake.api_url), None, threads=1, max_pending=1)
    handler = socket_mode_handler(app, "xapp-1-test")
    socket = Envelopes()
    gate = fake.hold("conversations.open")
    try:
        handler.handle(socket, _command_envelope("E1", "U1", "start groeimodel"))
        assert [r.envelope_id for r in socket.sent] == ["E1"]  # acked, work not done yet
        assert socket.sent[0].payload is None
        fake.wait_held("conversations.open")
        assert fake.calls_to("chat.postMessage") == []

        handler.handle(socket, _command_envelope("E2", "U2", "start groeimodel"))
        assert socket.sent[1].envelope_id == "E2"
        assert socket.sent[1].payload == {"response_type": "ephemeral", "text": BUSY_EN}
    finally:
        gate.set()
    fake.wait_for("chat.postMessage", lambda c: c.response.get("channel") == "DU1")
    app.ack_first.shutdown(wait=True)
    users = storage.db.execute("select external_id from users").fetchall()
    storage.close()
    assert users == [(f"{TEAM_ID}:U1",)]


# ---- helpers -------------------------------------------------------------------------------------
def _idle(bot: Bot) -> bool:
    """Every place in the pool is free again (the work after the last post has ended)."""
    return bot.app.ack_first.pool.pending == 0


def _wait_until(condition: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)
