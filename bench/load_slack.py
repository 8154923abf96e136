"""Benchmark: the real `maturity-bot slack --http` under N concurrent users.

The bot runs as a subprocess (its own SQLite file in a temporary folder) against a lean fake
Slack Web API on 127.0.0.1, served from this process with uvicorn (kept-alive connections,
as Slack's are). N simulated users each start a Groeimodel assessment with a signed
`/maturity start groeimodel` and answer every question by pressing its first button (signed
block_actions, exactly as Slack signs them), waiting for each next question before pressing
again, and start over when the result arrives. For N = 1, 10, 50, 200 it prints:
- answers/s through Slack HTTP mode;
- ack latency p50/p99: from sending a press to its HTTP response (Slack wants < 3 s);
- reply latency p50/p99: from sending a press to the next question arriving at the Web API;
- the bot's CPU per answer (its user + system time over the answers);
and, in the same run, the bare service's answers/s (AssessmentService.handle on its own, the
same answers, one thread) with the ratio of the two.

    python bench/load_slack.py [--users 1,10,50,200] [--seconds 8]

Never run as a test. Figures depend on the machine: both processes share its cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-signing-secret"
TEAM = "T0BENCH"
MODEL = "groeimodel"


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---- the fake Web API ----------------------------------------------------------------------------
@dataclass
class Posted:
    """A message the bot posted into a user's DM, as the user's client would see it."""

    at: float
    ts: str
    blocks: list[dict[str, Any]]
    text: str

    @property
    def question(self) -> dict[str, Any] | None:
        return next((b for b in self.blocks if b.get("block_id") == "answers"), None)

    @property
    def result(self) -> bool:
        return any(b.get("type") == "header" for b in self.blocks)


@dataclass
class FakeWebApi:
    """Just the Web API methods the assessment path calls, answered at once by a bare asyncio
    protocol (HTTP/1.1, kept alive): the load generator shares this process, so the fake must
    cost little, or it, not the bot, would be what is measured."""

    waiting: dict[str, asyncio.Future[Posted]] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    stamps: Iterator[int] = field(default_factory=lambda: count(1))

    async def serve(self, port: int) -> asyncio.Server:
        loop = asyncio.get_running_loop()
        return await loop.create_server(lambda: _ApiConnection(self), "127.0.0.1", port)

    def answer(self, method: str, content_type: str, raw: bytes) -> dict[str, Any]:
        self.calls[method] = self.calls.get(method, 0) + 1
        if content_type.startswith("application/json"):
            params = json.loads(raw or b"{}")
        else:
            params = dict(parse_qsl(raw.decode()))
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": TEAM, "team": "b"}
        if method == "users.info":
            return {"ok": True, "user": {"id": params.get("user"), "locale": "en-US"}}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(params.get("users"))}}
        if method in ("chat.postMessage", "chat.update"):
            channel = str(params.get("channel"))
            ts = params.get("ts") or f"{next(self.stamps)}.000100"
            if method == "chat.postMessage":
                self.deliver(channel, ts, params)
            return {"ok": True, "channel": channel, "ts": ts}
        return {"ok": True}  # views.publish and the like

    def deliver(self, channel: str, ts: str, params: dict[str, Any]) -> None:
        blocks = params.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        posted = Posted(time.perf_counter(), ts, blocks, str(params.get("text") or ""))
        waiter = self.waiting.get(channel)
        if waiter is not None and not waiter.done() and (posted.question or posted.result):
            waiter.set_result(posted)

    def expect(self, channel: str) -> asyncio.Future[Posted]:
        future: asyncio.Future[Posted] = asyncio.get_running_loop().create_future()
        self.waiting[channel] = future
        return future


class _ApiConnection(asyncio.Protocol):
    """One kept-alive connection from the bot: requests in, JSON answers out."""

    def __init__(self, api: FakeWebApi) -> None:
        self.api = api
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1").split("\r\n")
            fields = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:])}
            size = int(fields.get("content-length", "0"))
            if len(self.buffer) < end + 4 + size:
                return
            body = self.buffer[end + 4 : end + 4 + size]
            self.buffer = self.buffer[end + 4 + size :]
            method = head[0].split()[1].rsplit("/", 1)[-1]
            answer = json.dumps(self.api.answer(method, fields.get("content-type", ""), body))
            payload = answer.encode()
            self.transport.write(  # type: ignore[attr-defined]
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload)
            )


# ---- a simulated Slack user ----------------------------------------------------------------------
class Slack:
    """Sends signed requests to the bot as Slack would, one kept-alive connection per user
    (bare asyncio streams: cheaper than an HTTP client library, see FakeWebApi)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.triggers = count(1)
        self.connections: dict[str, tuple[asyncio.StreamReader, asyncio.StreamWriter]] = {}

    async def post(self, user: str, body: str) -> float:
        """Sends the form body; returns the ack latency."""
        if user not in self.connections:
            self.connections[user] = await asyncio.open_connection("127.0.0.1", self.port)
        reader, writer = self.connections[user]
        stamp = str(int(time.time()))
        digest = hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
        data = body.encode()
        request = (
            f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\n"
            f"X-Slack-Request-Timestamp: {stamp}\r\n"
            f"X-Slack-Signature: v0={digest.hexdigest()}\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        ).encode() + data
        started = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        took = time.perf_counter() - started
        lines = head.decode("latin-1").split("\r\n")
        size = next(
            (
                int(v)
                for k, _, v in (h.partition(":") for h in lines)
                if k.lower() == "content-length"
            ),
            0,
        )
        content = await reader.readexactly(size) if size else b""
        if not lines[0].startswith("HTTP/1.1 200") or content:
            raise RuntimeError(f"unexpected ack {lines[0]} {content[:80]!r}")
        return took

    async def close(self) -> None:
        for _, writer in self.connections.values():
            writer.close()

    async def command(self, user: str, text: str) -> float:
        fields = {
            "team_id": TEAM,
            "channel_id": "D" + user,
            "user_id": user,
            "command": "/maturity",
            "text": text,
            "response_url": "http://127.0.0.1:9/",
            "trigger_id": f"{next(self.triggers)}.bench",
        }
        return await self.post(user, urlencode(fields))

    async def press(self, user: str, message: Posted, answers: dict[str, Any]) -> float:
        element = answers["elements"][0]
        action = {"action_id": element["action_id"], "block_id": "answers", "type": element["type"]}
        if element["type"] == "static_select":
            action["selected_option"] = element["options"][0]
        else:
            action["value"] = element["value"]
            action["text"] = element["text"]
        payload = {
            "type": "block_actions",
            "user": {"id": user, "team_id": TEAM},
            "team": {"id": TEAM},
            "trigger_id": f"{next(self.triggers)}.bench",
            "container": {"type": "message", "message_ts": message.ts, "channel_id": "D" + user},
            "channel": {"id": "D" + user},
            "message": {"ts": message.ts, "text": message.text, "blocks": message.blocks},
            "actions": [{**action, "action_ts": f"{time.time():.6f}"}],
        }
        return await self.post(user, urlencode({"payload": json.dumps(payload)}))


@dataclass
class Tally:
    acks: list[float] = field(default_factory=list)
    replies: list[float] = field(default_factory=list)
    answers: int = 0
    counting: bool = False


async def simulate(user: str, slack: Slack, api: FakeWebApi, tally: Tally, stop: float) -> None:
    channel = "D" + user
    while time.perf_counter() < stop:
        waiter = api.expect(channel)
        await slack.command(user, f"start {MODEL}")
        message = await asyncio.wait_for(waiter, 60)
        while message.question is not None and time.perf_counter() < stop:
            waiter = api.expect(channel)
            sent = time.perf_counter()
            ack = await slack.press(user, message, message.question)
            message = await asyncio.wait_for(waiter, 60)
            if tally.counting:
                tally.acks.append(ack)
                tally.replies.append(message.at - sent)
                tally.answers += 1


# ---- the bot process -----------------------------------------------------------------------------
@contextlib.contextmanager
def bot_process(folder: Path, api_url: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api_url,
        "MATURITY_DB": str(folder / "bot.db"),
    }
    log = open(folder / "bot.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "slack", "--http", "--port", str(port)],
        cwd=folder,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def wait_ready(port: int) -> None:
    for _ in range(300):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    raise RuntimeError("the bot did not start; see bot.log")


async def run_level(
    users: int, slack: Slack, api: FakeWebApi, pid: int, seconds: float, warmup: float
) -> dict[str, float]:
    tally = Tally()
    stop = time.perf_counter() + warmup + seconds
    tasks = [
        asyncio.create_task(simulate(f"U{users}x{n}", slack, api, tally, stop))
        for n in range(users)
    ]
    await asyncio.sleep(warmup)
    tally.counting = True
    cpu_before, started = cpu_seconds(pid), time.perf_counter()
    await asyncio.gather(*tasks)
    elapsed, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu_before
    return {
        "answers_per_s": tally.answers / elapsed,
        "ack_p50_ms": percentile(tally.acks, 0.5) * 1000,
        "ack_p99_ms": percentile(tally.acks, 0.99) * 1000,
        "reply_p50_ms": percentile(tally.replies, 0.5) * 1000,
        "reply_p99_ms": percentile(tally.replies, 0.99) * 1000,
        "cpu_ms_per_answer": cpu / max(1, tally.answers) * 1000,
    }


async def run_slack(levels: list[int], seconds: float, warmup: float) -> list[dict[str, float]]:
    api = FakeWebApi()
    api_port, bot_port = free_port(), free_port()
    server = await api.serve(api_port)
    results = []
    api_url = f"http://127.0.0.1:{api_port}/api/"
    with tempfile.TemporaryDirectory() as tmp, bot_process(Path(tmp), api_url, bot_port) as bot:
        await wait_ready(bot_port)
        slack = Slack(bot_port)
        for users in levels:
            figures = await run_level(users, slack, api, bot.pid, seconds, warmup)
            results.append({"users": users, **figures})
        await slack.close()
    server.close()
    return results


# ---- the bare service ----------------------------------------------------------------------------
def bare_service(seconds: float) -> float:
    """AssessmentService.handle alone, one thread, the same answers: answers/s."""
    from bot.service import AssessmentService
    from bot.storage import Storage
    from flows.events import Event, Kind, from_payload
    from flows.model_loader import load_models
    from flows.replies import Ask

    with tempfile.TemporaryDirectory() as tmp:
        service = AssessmentService(Storage(Path(tmp) / "bare.db"), load_models())
        answers, spent, n = 0, 0.0, 0
        while spent < seconds:
            n += 1
            handled = service.handle("bench", f"u{n}", Event(Kind.CHOOSE, MODEL, direct=True))
            ask = next((r for r in handled.replies if isinstance(r, Ask)), None)
            while ask is not None:
                event = from_payload(ask.choices[0].payload)
                started = time.perf_counter()
                handled = service.handle("bench", f"u{n}", event)
                spent += time.perf_counter() - started
                answers += 1
                ask = next((r for r in handled.replies if isinstance(r, Ask)), None)
        service.storage.close()
    return answers / spent


def _fastest_loop() -> Any:
    """uvloop's runner when it is installed (it is with the bot's dependencies), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="1,10,50,200", help="comma-separated levels")
    parser.add_argument("--seconds", type=float, default=8.0, help="measured time per level")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured time per level")
    args = parser.parse_args(argv)
    levels = [int(n) for n in args.users.split(",")]
    bare = bare_service(min(args.seconds, 5.0))
    runner = _fastest_loop()
    results = runner(run_slack(levels, args.seconds, args.warmup))
    print(f"Slack HTTP mode, `maturity-bot slack --http` as a subprocess, {os.cpu_count()} cores")
    print(f"bare service (AssessmentService.handle, one thread): {bare:,.0f} answers/s")
    header = "users  answers/s  ack p50/p99 ms  reply p50/p99 ms  bot CPU ms/answer  of bare"
    print(header)
    for r in results:
        print(
            f"{r['users']:>5}  {r['answers_per_s']:>9,.0f}  "
            f"{r['ack_p50_ms']:>6.1f}/{r['ack_p99_ms']:<7.1f} "
            f"{r['reply_p50_ms']:>7.1f}/{r['reply_p99_ms']:<8.1f} "
            f"{r['cpu_ms_per_answer']:>17.2f}  {r['answers_per_s'] / bare:>7.1%}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
