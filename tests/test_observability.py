"""Operating the bot behind a load balancer (bot/observability/): /healthz, /readyz and /metrics
in both HTTP modes, the counts a signed user's requests leave in /metrics, and JSON log lines
from the real `maturity-bot slack --http` with a request id and no body, token or signature.

Real servers throughout: the Bolt app on uvicorn against the fake Slack Web API, the PTB
Application behind its webhook server against the fake Bot API, and the command itself as a
subprocess. /metrics is read with prometheus_client's own parser.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.observability import worker_name
from bot.observability.logs import Scrubbed
from bot.service import AssessmentService
from bot.slack.build import build_app
from bot.slack.http import EVENTS_PATH, web_app
from bot.slack.web_client import make_client
from bot.storage import Storage
from bot.telegram.app import WebhookConfig
from flows.i18n import t
from tests.fake_slack import BOT_TOKEN, TEAM_ID, Call, FakeSlack, SlackSender, serve_asgi
from tests.fake_telegram import FakeTelegram, TgUser, post_webhook
from tests.telegram_rig import Rig as TelegramRig
from tests.telegram_rig import free_port, wait_until

SECRET = "observability-signing-secret"
LIMIT = 4096


# ---- reading /metrics ----------------------------------------------------------------------------
def metric(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels` (0 when none)."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                total += sample.value
    return total


class Counts:
    """What /metrics says now, and by how much a value changed since a `snapshot`."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.before = self.text()

    def text(self) -> str:
        response = self.http.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        return response.text

    def delta(self, name: str, **labels: str) -> float:
        labels.setdefault("worker", worker_name())
        return metric(self.text(), name, **labels) - metric(self.before, name, **labels)

    def wait_for(self, name: str, expected: float, **labels: str) -> None:
        """Counts made in the work after the ack arrive a moment after the response."""
        wait_until(lambda: self.delta(name, **labels) >= expected, what=f"{name} {labels}")
        assert self.delta(name, **labels) == expected


# ---- the Slack app over HTTP ---------------------------------------------------------------------
class Slack:
    """The real app (service over a SQLite file, Bolt, our HTTP server) against the fake."""

    def __init__(self, fake: FakeSlack, db_path, models, **pool: int) -> None:
        self.fake = fake
        self.stack = ExitStack()
        self.storage = Storage(db_path)
        self.stack.callback(self.storage.close)
        self.service = AssessmentService(self.storage, models)
        self.app = build_app(self.service, make_client(BOT_TOKEN, fake.api_url), SECRET, **pool)
        self.stack.callback(self.app.ack_first.shutdown, wait=True)
        server = web_app(self.app, self.storage, max_body_bytes=LIMIT)
        self.url = self.stack.enter_context(serve_asgi(server))
        self.send = SlackSender(self.url + EVENTS_PATH, SECRET, fake)
        self.stack.callback(self.send.close)
        self.http = httpx.Client(base_url=self.url, timeout=10)
        self.stack.callback(self.http.close)

    def question(self, user: str, after: int) -> Call:
        return self.fake.wait_for(
            "chat.postMessage",
            lambda c: (
                c.response.get("channel") == f"D{user}"
                and any(b.get("block_id") == "answers" for b in c.blocks)
            ),
            after=after,
        )

    def stored_answers(self, user: str) -> int:
        return self.storage.db.execute(
            "select count(*) from answers x join assessments a on a.id = x.assessment_id "
            "join users u on u.id = a.user_id where u.external_id = ?",
            (f"{TEAM_ID}:{user}",),
        ).fetchone()[0]


@pytest.fixture
def fake():
    with FakeSlack() as server:
        yield server


@pytest.fixture
def slack(fake, tmp_path, models):
    bot = Slack(fake, tmp_path / "slack.db", models)
    yield bot
    bot.stack.close()


def test_slack_http_serves_healthz_and_readyz(slack):
    health = slack.http.get("/healthz")
    assert (health.status_code, health.text) == (200, "ok")
    ready = slack.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok", "worker": worker_name()}
    assert slack.http.post("/healthz").status_code == 405  # only GET (and HEAD)


def test_metrics_count_a_signed_users_answers_acks_and_replies(slack):
    counts = Counts(slack.http)
    mark = slack.fake.mark()
    responses = [slack.send.command("start groeimodel", "U1")]
    slack.question("U1", after=mark)
    for _ in range(3):
        mark = slack.fake.mark()
        responses.append(slack.send.dm("U1", "1"))
        slack.question("U1", after=mark)
    forged = slack.send.dm("U1", "1", secret="not-the-secret")
    assert [r.status_code for r in responses] == [200] * 4 and forged.status_code == 401

    assert slack.stored_answers("U1") == 3
    counts.wait_for("maturity_answers_stored_total", 3, channel="slack")
    # every acknowledged request, and only those, is in the ack latency histogram
    assert counts.delta("maturity_ack_seconds_count", channel="slack") == 4
    counts.wait_for("maturity_reply_seconds_count", 4, channel="slack")
    assert counts.delta("maturity_requests_refused_total", reason="unsigned") == 1
    # each response names its request, so an operator can find its log lines
    ids = {r.headers["x-request-id"] for r in [*responses, forged]}
    assert len(ids) == 5 and all(len(i) == 32 for i in ids)


def test_refused_requests_are_counted_by_reason(fake, tmp_path, models):
    bot = Slack(fake, tmp_path / "slack.db", models, threads=1, max_pending=1)
    try:
        counts = Counts(bot.http)
        send = bot.send
        unsigned = [
            send.command("start groeimodel", "U1", secret="not-the-secret"),
            send.command("start groeimodel", "U1", timestamp=int(time.time()) - 6 * 60),
        ]
        too_large = send.command("x" * LIMIT, "U1")
        bad_payload = send.post(json.dumps({"type": "not_a_slack_request"}), "application/json")
        assert [r.status_code for r in unsigned] == [401, 401]
        assert (too_large.status_code, bad_payload.status_code) == (413, 400)

        # the same signed request twice: the second is acknowledged and applied zero times
        envelope = {
            "type": "event_callback",
            "team_id": TEAM_ID,
            "event_id": "EvREPLAYED",
            "event": {"type": "app_home_opened", "user": "U2", "channel": "DU2", "tab": "home"},
        }
        body, stamp = json.dumps(envelope), int(time.time())
        assert send.post(body, "application/json", timestamp=stamp).status_code == 200
        counts.wait_for("maturity_reply_seconds_count", 1, channel="slack")
        assert send.post(body, "application/json", timestamp=stamp).status_code == 200
        counts.wait_for("maturity_requests_refused_total", 1, reason="replay")

        # a pool with one place, taken: the next request is told the bot is busy
        gate = fake.hold("conversations.open")
        try:
            assert send.command("start groeimodel", "U3").status_code == 200
            fake.wait_held("conversations.open")
            busy = send.command("start groeimodel", "U4")
            assert busy.status_code == 200 and busy.json()["response_type"] == "ephemeral"
        finally:
            gate.set()

        assert {
            reason: counts.delta("maturity_requests_refused_total", reason=reason)
            for reason in ("too_large", "unsigned", "bad_payload", "replay", "busy")
        } == {"too_large": 1, "unsigned": 2, "bad_payload": 1, "replay": 1, "busy": 1}
    finally:
        bot.stack.close()


def test_readyz_is_503_when_the_schema_is_newer_or_the_database_closed(slack, tmp_path):
    with sqlite3.connect(tmp_path / "slack.db") as other:  # a newer maturity-bot migrated it
        other.execute(
            "insert into _sqlite_migrations (migration_set, name, applied_at) "
            "values ('maturity-bot', 'm999_from_a_newer_version', '2030-01-01')"
        )
    other.close()
    newer = slack.http.get("/readyz")
    assert newer.status_code == 503
    assert newer.json()["status"] == "not ready" and "schema" in newer.json()["reason"]
    assert slack.http.get("/healthz").status_code == 200  # up, only not ready

    slack.storage.close()
    closed = slack.http.get("/readyz")
    assert closed.status_code == 503
    assert closed.json()["reason"] == "the database does not answer"


# ---- the Telegram webhook ------------------------------------------------------------------------
WEBHOOK_SECRET = "webhook-secret_observability"


@pytest.fixture
def hooked(tmp_path, models):
    with FakeTelegram() as fake:
        port = free_port()
        config = WebhookConfig(
            url=f"http://127.0.0.1:{port}/telegram/hook",
            listen="127.0.0.1",
            port=port,
            secret=WEBHOOK_SECRET,
            max_body_bytes=LIMIT,
        )
        rig = TelegramRig(fake, tmp_path / "bot.db", models, webhook=config)
        try:
            yield rig, fake, config
        finally:
            rig.stop()


def test_the_telegram_webhook_serves_health_readiness_and_metrics(hooked):
    rig, fake, config = hooked
    http = httpx.Client(base_url=f"http://127.0.0.1:{config.port}", timeout=10)
    try:
        assert http.get("/healthz").text == "ok"
        ready = http.get("/readyz")
        assert ready.status_code == 200
        # this rig runs no pulse scheduler: still ready, and says so
        assert ready.json()["scheduler"] == "not running"
        counts = Counts(http)

        user = TgUser(3001)
        mark = fake.mark()
        accepted = post_webhook(config.url, fake.send(user, "/help", deliver=False), WEBHOOK_SECRET)
        assert accepted.status_code == 200 and len(accepted.headers["x-request-id"]) == 32
        rig.message(user, t("help", "en").split("\n")[0], after=mark)
        wrong = post_webhook(config.url, fake.send(user, "/start", deliver=False), "wrong")
        not_an_update = httpx.post(
            config.url, content=b"{}", headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        )
        assert (wrong.status_code, not_an_update.status_code) == (403, 400)

        assert counts.delta("maturity_ack_seconds_count", channel="telegram") == 1
        counts.wait_for("maturity_reply_seconds_count", 1, channel="telegram")
        assert counts.delta("maturity_requests_refused_total", channel="telegram") == 2
        assert counts.delta("maturity_requests_refused_total", reason="unsigned") == 1
        assert counts.delta("maturity_requests_refused_total", reason="bad_payload") == 1

        rig.storage.close()
        assert http.get("/readyz").status_code == 503
    finally:
        http.close()


# ---- log lines -----------------------------------------------------------------------------------
def test_a_librarys_log_line_loses_request_content_and_anything_shaped_like_a_secret(caplog):
    scrub = Scrubbed("my-webhook-secret")
    caplog.handler.addFilter(scrub)
    try:
        library = logging.getLogger("slack_bolt.SomeListener")
        library.warning("Failed to verify: body: %s", "payload=%7B%22answer%22%7D")
        ours = logging.getLogger("bot.slack.http")
        ours.warning("token %s and %s", "xoxb-1234-5678-abcdefgh", "my-webhook-secret")
        try:
            raise RuntimeError("signed v0=" + "a" * 64)
        except RuntimeError:
            ours.exception("failed")
    finally:
        caplog.handler.removeFilter(scrub)
    text = caplog.text
    assert "answer" not in text and "payload=" not in text
    assert "xoxb-" not in text and "my-webhook-secret" not in text and "a" * 64 not in text
    assert "a library's message about a request" in text and "<redacted>" in text


def test_the_slack_command_writes_json_lines_with_request_ids_and_no_secrets(fake, tmp_path):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MATURITY_"))},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "MATURITY_DB": str(tmp_path / "bot.db"),
        "MATURITY_LOG_FORMAT": "json",
        "MATURITY_WORKER_NAME": "worker-a",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "slack", "--http", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    sender = SlackSender(f"http://127.0.0.1:{port}{EVENTS_PATH}", SECRET, fake)
    sent: list[tuple[str, dict[str, str]]] = []  # (body, headers) of every request sent
    try:
        _wait_for_server(http, process)
        ready = http.get("/readyz").json()
        assert ready == {
            "status": "ready",
            "database": "ok",
            "worker": "worker-a",
            "scheduler": "running",
        }

        mark = fake.mark()
        signed = _recorded(sender, sent, lambda: sender.command("start groeimodel", "U9"))
        fake.wait_for("chat.postMessage", lambda c: "Question 1" in c.params.get("text", ""))
        forged = _recorded(
            sender, sent, lambda: sender.command("start altimeter", "U9", secret="forged")
        )
        # a replay: refused in the work, in a pool thread, which must carry the request's id
        body, stamp = _recorded_body(sent, "start bmm", "U9")
        first = sender.post(body, "application/x-www-form-urlencoded", timestamp=stamp)
        fake.wait_for("chat.postMessage", after=mark, count=2)  # the first one was applied
        again = sender.post(body, "application/x-www-form-urlencoded", timestamp=stamp)
        assert [r.status_code for r in (signed, forged, first, again)] == [200, 401, 200, 200]
        # the replay is refused after its ack, in the work: wait until it is counted
        deadline = time.monotonic() + 10
        while True:
            metrics_text = http.get("/metrics").text
            refused = metric(metrics_text, "maturity_requests_refused_total", worker="worker-a")
            if refused == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert refused == 2
    finally:
        sender.close()
        http.close()
        process.terminate()
        _, stderr = process.communicate(timeout=15)

    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "the command logged nothing"
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    for entry in entries:
        assert {"time", "level", "logger", "message", "worker"} <= entry.keys()
        assert entry["worker"] == "worker-a"
    forged_lines = [e for e in entries if "bad signature" in e["message"]]
    replay_lines = [e for e in entries if "replayed" in e["message"]]
    assert [e.get("request_id") for e in forged_lines] == [forged.headers["x-request-id"]]
    assert [e.get("request_id") for e in replay_lines] == [again.headers["x-request-id"]]
    assert any(e["logger"].startswith("uvicorn") for e in entries)  # the server's own, as JSON

    secrets = [SECRET, BOT_TOKEN] + [headers["x-slack-signature"] for _, headers in sent]
    for body, _ in sent:
        fields = urllib.parse.parse_qs(body)
        secrets += [body, fields["trigger_id"][0], fields["response_url"][0]]
    for secret in secrets:
        assert secret not in stderr


def _wait_for_server(http: httpx.Client, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            if http.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the HTTP server did not come up"
        time.sleep(0.05)


def _recorded(
    sender: SlackSender, sent: list[tuple[str, dict[str, str]]], call: Callable[[], Any]
) -> httpx.Response:
    """Run `call` (one request of `sender`) and keep what it sent, to look for it in the logs."""
    response = call()
    request = response.request
    sent.append((request.content.decode(), dict(request.headers)))
    return response


def _recorded_body(sent: list[tuple[str, dict[str, str]]], text: str, user: str) -> tuple[str, int]:
    """A slash command's signed form body and its timestamp, kept in `sent` as it will go."""
    from slack_sdk.signature import SignatureVerifier

    fields = {
        "team_id": TEAM_ID,
        "channel_id": f"D{user}",
        "user_id": user,
        "command": "/maturity",
        "text": text,
        "trigger_id": f"replay.{time.time()}",
        "response_url": "http://127.0.0.1:9/response/replay",
    }
    body, stamp = urllib.parse.urlencode(fields), int(time.time())
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=str(stamp), body=body)
    sent.append((body, {"x-slack-signature": signature}))
    return body, stamp
