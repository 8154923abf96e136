"""Slack's HTTP mode under attack: the real `maturity-bot slack --http` process (and the real Bolt
app in-process) against floods, malformed timestamps, replays and signed-but-broken payloads.
What is asserted is what an operator or user would see: status codes, the process's memory and
log, and what is stored."""

from __future__ import annotations

import json
import logging
import os
import re
import select
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.slack.http import EVENTS_PATH
from tests.fake_slack import BOT_TOKEN, TEAM_ID, FakeSlack
from tests.test_slack_http import Rig

SECRET = "hostile-signing-secret"
MB = 1024 * 1024
MARKER = b"FLOODMARKER"


# ---- the real process ----------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BotProcess:
    """`maturity-bot slack --http` as an operator runs it, its log (stdout and stderr) in a file."""

    def __init__(self, fake: FakeSlack, tmp_path: Path) -> None:
        self.port = free_port()
        self.log_path = tmp_path / "bot.log"
        self.db = tmp_path / "bot.db"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MATURITY_"))},
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "MATURITY_DB": str(self.db),
        }
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "slack", "--http", "--port", str(self.port)],
            cwd=tmp_path,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            assert self.process.poll() is None, self.log_path.read_text()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the HTTP server did not come up"
                time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}{EVENTS_PATH}"

    def memory(self) -> tuple[int, int]:
        """(resident now, resident at its peak) in bytes, from /proc."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        rss = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024
        peak = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024
        return rss, peak

    def log_size(self) -> int:
        self.log.flush()
        return self.log_path.stat().st_size

    def stop(self) -> str:
        self.process.terminate()
        self.process.wait(timeout=15)
        self.log.close()
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def fake():
    with FakeSlack() as server:
        yield server


@pytest.fixture
def bot(fake, tmp_path):
    running = BotProcess(fake, tmp_path)
    yield running
    if running.process.poll() is None:
        running.stop()


def raw_post(port: int, headers: dict[str, str], chunks: Iterator[bytes], chunked: bool) -> int:
    """POST the chunks one by one, as an attacker's client would, and stop sending as soon as the
    server has answered; returns the HTTP status the server gave."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    try:
        lines = [f"POST {EVENTS_PATH} HTTP/1.1", "Host: 127.0.0.1"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if chunked:
            lines.append("Transfer-Encoding: chunked")
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        try:
            for chunk in chunks:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break  # the server answered before the body was all sent
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" if chunked else chunk)
            else:
                if chunked:
                    sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        head = b""
        while b"\r\n" not in head:
            data = sock.recv(4096)
            if not data:
                break
            head += data
        return int(head.split(b" ", 2)[1])
    finally:
        sock.close()


def flood(size: int) -> Iterator[bytes]:
    piece = (MARKER * (64 * 1024 // len(MARKER) + 1))[: 64 * 1024]
    for _ in range(size // len(piece)):
        yield piece


def test_a_50_mb_unsigned_post_is_refused_without_reading_or_logging_it(bot):
    rss_before, peak_before = bot.memory()
    log_before = bot.log_size()
    stamp = str(int(time.time()))
    unsigned = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": "v0=" + "0" * 64,
    }
    declared = raw_post(
        bot.port, {**unsigned, "Content-Length": str(50 * MB)}, flood(50 * MB), chunked=False
    )
    streamed = raw_post(bot.port, unsigned, flood(50 * MB), chunked=True)
    assert (declared, streamed) == (413, 413)
    # under the limit but unsigned: read, checked, refused
    small = raw_post(bot.port, {**unsigned, "Content-Length": str(MB)}, flood(MB), chunked=False)
    assert small == 401

    rss_after, peak_after = bot.memory()
    assert rss_after - rss_before < 5 * MB
    assert peak_after - peak_before < 5 * MB
    assert bot.log_size() - log_before < 5 * MB
    log = bot.stop()
    assert MARKER.decode() not in log  # no body, at any level
    assert "0" * 64 not in log  # nor the signature
    assert "Traceback" not in log
    assert "body over 1048576 bytes" in log


@pytest.mark.parametrize("stamp", ["abc", "", "1e10", "1.5", "0x10", "-5", "9" * 40])
def test_a_malformed_timestamp_is_refused_with_401_and_one_log_line(stamp, fake, tmp_path, caplog):
    rig = Rig(fake, tmp_path / "bot.db", {})
    try:
        body = urllib.parse.urlencode({"command": "/maturity", "text": "help", "user_id": "U1"})
        signature = SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)
        caplog.clear()
        with caplog.at_level(logging.DEBUG):
            response = rig.send.http.post(
                rig.send.url,
                content=body.encode(),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Slack-Request-Timestamp": stamp,
                    "X-Slack-Signature": signature or "v0=",
                },
            )
        assert response.status_code == 401
        refusals = [r for r in caplog.records if r.name.startswith(("bot", "slack"))]
        assert len(refusals) == 1 and refusals[0].exc_info is None
        assert "Timestamp" in refusals[0].getMessage()
        assert rig.rows("select count(*) from users") == [(0,)]
    finally:
        rig.stop()


# ---- in-process: replays and broken payloads -----------------------------------------------------
@pytest.fixture
def rig(fake, tmp_path, models):
    running = Rig(fake, tmp_path / "bot.db", models)
    yield running
    running.stop()


def test_a_replayed_signed_command_is_applied_once(rig, fake):
    fields = {
        "team_id": TEAM_ID,
        "channel_id": "DU1",
        "channel_name": "directmessage",
        "user_id": "U1",
        "command": "/maturity",
        "text": "initiatives add Webcare; X; supporting; customer satisfaction",
        "response_url": fake.response_url("U1"),
        "trigger_id": "1.2.once",
    }
    body = urllib.parse.urlencode(fields)
    stamp = int(time.time())
    sent = [
        rig.send.post(body, "application/x-www-form-urlencoded", timestamp=stamp) for _ in range(3)
    ]
    assert [r.status_code for r in sent] == [200, 200, 200]
    fake.wait_for("chat.postMessage", lambda c: "Webcare" in json.dumps(c.params))
    time.sleep(0.3)  # a second application, had there been one, would have stored by now
    assert rig.rows("select name from initiatives") == [("Webcare",)]

    # the same command signed anew (as a user typing it again) is a new request
    again = rig.send.post(body, "application/x-www-form-urlencoded", timestamp=stamp + 1)
    assert again.status_code == 200
    deadline = time.monotonic() + 10
    while rig.rows("select count(*) from initiatives") != [(2,)]:
        assert time.monotonic() < deadline
        time.sleep(0.02)


MALFORMED = {
    "payload not JSON": ("form", "payload=%7Bnot-json"),
    "payload {}": ("form", "payload=%7B%7D"),
    "payload null": ("form", "payload=null"),
    "payload []": ("form", "payload=%5B%5D"),
    "payload a number": ("form", "payload=42"),
    "actions missing": (
        "form",
        urllib.parse.urlencode(
            {"payload": json.dumps({"type": "block_actions", "user": {"id": "U1"}})}
        ),
    ),
    "actions empty": (
        "form",
        urllib.parse.urlencode(
            {"payload": json.dumps({"type": "block_actions", "user": {"id": "U1"}, "actions": []})}
        ),
    ),
    "action not an object": (
        "form",
        urllib.parse.urlencode(
            {"payload": json.dumps({"type": "block_actions", "user": {"id": "U1"}, "actions": [3]})}
        ),
    ),
    "invalid JSON body": ("json", '{"type": "event_callback", '),
    "JSON list": ("json", "[1, 2]"),
    "JSON null": ("json", "null"),
    "event missing": ("json", '{"type": "event_callback"}'),
    "command without user": ("form", "command=%2Fmaturity&text=help&team_id=T1"),
    "nothing at all": ("form", ""),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_a_signed_malformed_payload_gets_400_never_500(rig, fake, name):
    kind, body = MALFORMED[name]
    content_type = "application/json" if kind == "json" else "application/x-www-form-urlencoded"
    response = rig.send.post(body, content_type)
    assert response.status_code == 400, (response.status_code, response.text)
    # the connection was answered, not dropped, and the app still works
    good = rig.command("U2", "start groeimodel")
    rig.question("U2", after=good)
    assert rig.rows("select external_id from users") == [(f"{TEAM_ID}:U2",)]


def test_bolt_never_logs_a_request_body(rig, caplog):
    """A signed event nobody listens to makes Bolt log "Unhandled request (...)" with parts of
    the body: our filter withholds it."""
    event = {"type": "reaction_added", "user": "U1", "reaction": "SECRETWORD", "item": {}}
    with caplog.at_level(logging.DEBUG):
        assert rig.send.event(event).status_code in (200, 404)
        time.sleep(0.2)
    assert "SECRETWORD" not in caplog.text


# ---- a full disk -----------------------------------------------------------------------------
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE semantics")
def test_a_full_disk_tells_the_slack_user_and_stores_nothing(rig, fake, models):
    """The bot cannot write its database: the user sees, in their language, that the answer was
    not saved; nothing of it is stored; once there is room again the same press works."""
    from flows.i18n import t
    from tests.test_bad_environments import files_limited_to
    from tests.test_slack_http import block

    model = models["groeimodel"]
    first = rig.question("U1", after=rig.command("U1", "start groeimodel"))
    before = rig.answers("U1")
    element = block(first, "answers")["elements"][0]
    with files_limited_to(4096):
        mark = rig.press("U1", first, element)
        told = fake.wait_for(
            "chat.postMessage",
            lambda c: t("not_saved", "en") in c.params.get("text", ""),
            after=mark,
        )
    assert told.params["channel"] == "DU1"
    assert rig.answers("U1") == before == []
    mark = rig.press("U1", first, element)  # room again: the same press is applied
    rig.question("U1", after=mark)
    assert rig.answers("U1") == [(model.questions[0].id, model.questions[0].options[0].id)]
