"""Benchmark: the real `maturity-bot telegram` (long polling, a subprocess with its own SQLite
file) under N concurrent users, against a lean fake Bot API on 127.0.0.1 (bench/fake_bot_api.py).

Each simulated user types `/assess <model>`, presses a random answer button on every question
the moment it arrives (a callback query, as Telegram sends it), and on the result starts again.
For N = 1, 10, 50, 200 it prints updates/s (every update whose reply arrived in the measured
window), the reply latency p50/p99 (from the getUpdates answer that offers the update to the
bot's next sendMessage: the next question, or the result), and the CPU the bot process and this
process spent per update. Then the same events, in the same order, go through
`AssessmentService.handle` directly on a fresh temporary database (one thread, no Telegram),
and the ratio of the two is printed.

The bot's own pacing of Telegram's 30 messages a second (MATURITY_TELEGRAM_RATE) would cap it
at 15 answers a second (each answer edits the question and sends the next one), so it is off
here (`--rate 0`): the figures are what the bot can do, not what Telegram would accept. The
loopback answers at once; `--latency MS` delays every Bot API answer as a network would, which
is where handling many updates at once pays.

    python bench/load_telegram.py [--users 1,10,50,200] [--concurrency N] [--seconds 10]
    python bench/load_telegram.py --users 50 --concurrency 1,4,16,64,128,256 [--latency 50]

`--concurrency` is MATURITY_TELEGRAM_CONCURRENCY (default: the bot's default); a list compares
them, one bot process each. About a minute with the defaults.

Never run as a test; it stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fake_bot_api import FakeBotApi  # noqa: E402

TOKEN = "123456789:AAHbenchTokenForLoad-0123456789_abc"
CLOCK_TICK = os.sysconf("SC_CLK_TCK")


# ---- the simulated users ------------------------------------------------------------------------
@dataclass
class User:
    id: int
    waiting: int | None = None
    """The update sent and not answered yet."""
    running: bool = True


@dataclass
class Level:
    """One measured level: who, for how long, and what was seen."""

    users: int
    start: float
    end: float
    latencies: list[float] = field(default_factory=list)
    updates: int = 0


class Driver:
    """Plays every user's side on the fake: each sendMessage is read as the user would."""

    def __init__(self, model: str, seed: int, latency: float = 0) -> None:
        self.model = model
        self.rng = random.Random(seed)
        self.api = FakeBotApi(self.on_message, latency)
        self.users: dict[int, User] = {}
        self.events: list[tuple[int, int, str, str]] = []
        """(update_id, user id, "text" or "press", text or callback data), in offered order."""
        self.level: Level | None = None
        self.in_flight = 0

    # ---- what a user does ------------------------------------------------------------------
    def type(self, user: User, text: str) -> None:
        update_id = self.api.new_update_id()
        message = {
            "message_id": self.api.new_message_id(),
            "date": int(time.time()),
            "chat": {"id": user.id, "type": "private", "first_name": "User"},
            "from": self.user_json(user),
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
        }
        self.send(user, update_id, {"update_id": update_id, "message": message}, "text", text)

    def press(self, user: User, message: dict, data: str) -> None:
        update_id = self.api.new_update_id()
        query = {
            "id": f"q{update_id}",
            "from": self.user_json(user),
            "chat_instance": f"ci{user.id}",
            "data": data,
            "message": message,
        }
        self.send(user, update_id, {"update_id": update_id, "callback_query": query}, "press", data)

    def send(self, user: User, update_id: int, update: dict, kind: str, value: str) -> None:
        user.waiting = update_id
        self.in_flight += 1
        self.events.append((update_id, user.id, kind, value))
        self.api.offer(update_id, update)

    @staticmethod
    def user_json(user: User) -> dict:
        return {"id": user.id, "is_bot": False, "first_name": "User", "language_code": "en"}

    # ---- what the user sees ----------------------------------------------------------------
    def on_message(self, chat_id: int, message_id: int, text: str, markup: dict | None) -> None:
        user = self.users.get(chat_id)
        if user is None:
            return
        now = time.perf_counter()
        if user.waiting is not None:  # the first message after an update is its reply
            offered = self.api.offered_at.get(user.waiting, now)
            level = self.level
            if level is not None and level.start <= now <= level.end:
                level.latencies.append(now - offered)
                level.updates += 1
            user.waiting = None
            self.in_flight -= 1
        keys = [key for row in (markup or {}).get("inline_keyboard", []) for key in row]
        answers = [k["callback_data"] for k in keys if k.get("callback_data", "").startswith("a:")]
        if not user.running:
            return
        if answers:
            message = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "User"},
                "from": {"id": 1, "is_bot": True, "first_name": "Maturity Bot"},
                "text": text,
                "reply_markup": markup,
            }
            self.press(user, message, self.rng.choice(answers))
        elif any(k.get("callback_data", "").startswith("r:") for k in keys):  # the result
            self.type(user, f"/assess {self.model}")

    # ---- one level -------------------------------------------------------------------------
    async def run_level(self, users: int, first_id: int, warmup: float, seconds: float) -> Level:
        now = time.perf_counter()
        self.level = Level(users, now + warmup, now + warmup + seconds)
        group = [User(first_id + i) for i in range(users)]
        for user in group:
            self.users[user.id] = user
            self.type(user, f"/assess {self.model}")
        await asyncio.sleep(warmup + seconds)
        for user in group:
            user.running = False
        deadline = time.perf_counter() + 30
        while self.in_flight and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        return self.level


# ---- the bot process ----------------------------------------------------------------------------
def start_bot(workdir: Path, base_url: str, concurrency: int, rate: float) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MATURITY_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_BASE_URL=base_url,
        MATURITY_DB=str(workdir / f"bot-{concurrency}.db"),
        MATURITY_TELEGRAM_CONCURRENCY=str(concurrency),
        MATURITY_TELEGRAM_RATE=str(rate),
        PYTHONPATH=str(ROOT),
    )
    log = (workdir / f"bot-{concurrency}.log").open("w")
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "telegram"], cwd=workdir, env=env, stdout=log, stderr=log
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, all its threads."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


def stop_bot(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Row:
    concurrency: int
    users: int
    updates_per_s: float
    p50_ms: float
    p99_ms: float
    bot_cpu_ms: float
    bench_cpu_ms: float


async def run_concurrency(
    driver: Driver, workdir: Path, concurrency: int, args: argparse.Namespace, first_id: int
) -> list[Row]:
    process = start_bot(workdir, driver.api.base_url, concurrency, args.rate)
    rows = []
    try:
        started = time.perf_counter()
        while driver.api.polls == 0:  # the bot is up when it polls
            if process.poll() is not None or time.perf_counter() - started > 60:
                log = (workdir / f"bot-{concurrency}.log").read_text()
                raise SystemExit(f"the bot did not start:\n{log[-2000:]}")
            await asyncio.sleep(0.05)
        for n, users in enumerate(args.users):
            bot_cpu, own_cpu = cpu_seconds(process.pid), time.process_time()
            level = await driver.run_level(users, first_id + n * 100_000, args.warmup, args.seconds)
            bot_cpu, own_cpu = cpu_seconds(process.pid) - bot_cpu, time.process_time() - own_cpu
            handled = max(1, level.updates)
            total = handled + users  # CPU counted over warm-up and drain too: per update seen
            lat = sorted(level.latencies) or [float("nan")]
            rows.append(
                Row(
                    concurrency,
                    users,
                    level.updates / (level.end - level.start),
                    lat[len(lat) // 2] * 1000,
                    lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000,
                    bot_cpu * 1000 / _seen(driver, first_id + n * 100_000, users, total),
                    own_cpu * 1000 / _seen(driver, first_id + n * 100_000, users, total),
                )
            )
            print(_format(rows[-1]), flush=True)
    finally:
        stop_bot(process)
    return rows


def _seen(driver: Driver, first_id: int, users: int, fallback: int) -> int:
    """Updates the level's users sent (warm-up and drain included): what the CPU was spent on."""
    ids = range(first_id, first_id + users)
    return sum(1 for _, user_id, _, _ in driver.events if user_id in ids) or fallback


# ---- the bare service ---------------------------------------------------------------------------
def bare_service(events: Sequence[tuple[int, int, str, str]], workdir: Path) -> tuple[int, float]:
    """The same events through AssessmentService.handle on a fresh database, one thread:
    (events, seconds spent in handle)."""
    from bot.service import AssessmentService
    from bot.storage import Storage
    from flows.events import from_payload, from_text
    from flows.model_loader import load_models, load_scan

    models = load_models()
    service = AssessmentService(Storage(workdir / "bare.db"), models, scan=load_scan(models))
    spent = 0.0
    for update_id, user_id, kind, value in events:
        event = from_text(value) if kind == "text" else from_payload(value)
        started = time.perf_counter()
        service.handle(
            "telegram", str(user_id), event, lang_hint="en", delivery_key=f"update:{update_id}"
        )
        spent += time.perf_counter() - started
    service.storage.close()
    return len(events), spent


# ---- output -------------------------------------------------------------------------------------
HEADER = (
    "concurrency  users  updates/s  reply p50 ms  reply p99 ms  bot CPU ms/update  "
    "fake CPU ms/update"
)


def _format(row: Row) -> str:
    return (
        f"{row.concurrency:>11}  {row.users:>5}  {row.updates_per_s:>9.1f}  {row.p50_ms:>12.1f}  "
        f"{row.p99_ms:>12.1f}  {row.bot_cpu_ms:>17.2f}  {row.bench_cpu_ms:>18.2f}"
    )


def numbers(text: str) -> list[int]:
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("a comma-separated list of whole numbers >= 1")
    return values


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=numbers, default=[1, 10, 50, 200], help="e.g. 1,10,50")
    parser.add_argument(
        "--concurrency",
        type=numbers,
        default=None,
        help="MATURITY_TELEGRAM_CONCURRENCY, or a list to compare (default: the bot's default)",
    )
    parser.add_argument("--seconds", type=float, default=10, help="measured per level")
    parser.add_argument("--warmup", type=float, default=2, help="unmeasured start of a level")
    parser.add_argument("--model", default="groeimodel")
    parser.add_argument("--rate", type=float, default=0, help="MATURITY_TELEGRAM_RATE")
    parser.add_argument(
        "--latency", type=float, default=0, help="ms each Bot API answer takes (network)"
    )
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> int:
    from bot.settings import Settings

    default = Settings.model_fields["maturity_telegram_concurrency"].default
    concurrencies = args.concurrency or [default]
    driver = Driver(args.model, args.seed, args.latency / 1000)
    await driver.api.start()
    print(
        f"maturity-bot telegram (polling, subprocess) against a fake Bot API on 127.0.0.1; "
        f"model {args.model}; {args.warmup:g} s warm-up + {args.seconds:g} s measured per level; "
        f"MATURITY_TELEGRAM_RATE={args.rate:g}; Bot API latency {args.latency:g} ms; "
        f"{os.cpu_count()} CPUs"
    )
    print(HEADER, flush=True)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as folder:
        try:
            for k, concurrency in enumerate(concurrencies):
                rows += await run_concurrency(
                    driver, Path(folder), concurrency, args, 1_000_000 * (k + 1)
                )
        finally:
            await driver.api.close()
        count, spent = await asyncio.to_thread(bare_service, driver.events, Path(folder))
    bare = count / spent if spent else float("nan")
    print(
        f"bare service (AssessmentService.handle, same {count} events, one thread): "
        f"{bare:,.0f} answers/s"
    )
    for row in rows:
        print(
            f"  concurrency {row.concurrency:>3}, {row.users:>3} users: bot/bare "
            f"{row.updates_per_s / bare:.1%}"
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
