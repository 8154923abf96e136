"""Benchmark: the real `maturity-bot slack --http` with 1 and 2 worker processes (`--workers 2`,
one port), on SQLite and on PostgreSQL, in one run.

The load is bench/load_slack.py's, imported, not copied: its lean fake Web API (served from this
process) and its signed simulated users (each starts a Groeimodel assessment and presses the
first answer of every question as soon as it arrives, on one kept-alive connection of its own;
the kernel hands each connection to whichever worker accepts it first). For each backend and
number of workers it prints answers/s, ack and reply p50/p99, the bot's CPU per answer (all its
processes), how the CPU was split between the workers, and then the ratios: 2 workers vs 1 on
each backend, PostgreSQL vs SQLite at each number of workers.

    python bench/workers.py [--users 50] [--seconds 8] [--warmup 2] [--postgres URL]
                            [--workers 1,2] [--backends sqlite,postgresql] [--threads N]

PostgreSQL: the server at --postgres (a database is created per measurement and dropped), or
else a throwaway server started here as the tests start theirs (tests/postgres_server.py:
initdb into a temporary folder, fsync off, synchronous commits on). Never run as a test.

Read the figures with the machine in mind: on 2 cores, the load generator, the fake Web API
and (for PostgreSQL) the server share the cores with the workers, so a second worker has less
than a core of its own to add.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load_slack import (  # noqa: E402  (bench/ is not a package)
    SECRET,
    FakeWebApi,
    Slack,
    Tally,
    _fastest_loop,
    free_port,
    percentile,
    simulate,
    wait_ready,
)


# ---- the bot's processes -------------------------------------------------------------------------
def tree(pid: int) -> list[int]:
    """`pid` and its descendants (the workers of `--workers N`), from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += parents.get(current, [])
    return found


def cpu_of(pids: list[int]) -> dict[int, float]:
    """CPU seconds (user + system) of each process still running."""
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return seconds


@contextlib.contextmanager
def bot(
    folder: Path, api_url: str, port: int, db: str, workers: int, threads: int | None
) -> Iterator[int]:
    """The command (`--workers N` when N > 1) until the block ends; yields its process id."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MATURITY_"))},
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api_url,
        "MATURITY_DB": db,
    }
    if threads:
        env["MATURITY_SLACK_THREADS"] = str(threads)
    command = [sys.executable, "-m", "bot", "slack", "--http", "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    log = open(folder / f"bot-{port}.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


async def all_workers_up(pid: int, workers: int) -> None:
    """Until the workers' processes exist (the parent's first answer comes from any one)."""
    for _ in range(600):
        if len(tree(pid)) >= (workers + 1 if workers > 1 else 1):
            await asyncio.sleep(2.0 if workers > 1 else 0)  # their start-up (imports, app)
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("the workers did not start")


async def measure(
    api: FakeWebApi, api_url: str, db: str, workers: int, args: argparse.Namespace
) -> dict[str, float]:
    port = free_port()
    with (
        tempfile.TemporaryDirectory() as tmp,
        bot(Path(tmp), api_url, port, db, workers, args.threads) as pid,
    ):
        await wait_ready(port)
        await all_workers_up(pid, workers)
        slack, tally = Slack(port), Tally()
        stop = time.perf_counter() + args.warmup + args.seconds
        users = [
            asyncio.create_task(simulate(f"U{workers}w{n}", slack, api, tally, stop))
            for n in range(args.users)
        ]
        await asyncio.sleep(args.warmup)
        processes = tree(pid)
        tally.counting = True
        before, started, here = cpu_of(processes), time.perf_counter(), time.process_time()
        await asyncio.gather(*users)
        elapsed, after = time.perf_counter() - started, cpu_of(processes)
        load = time.process_time() - here
        await slack.close()
    spent = {p: after[p] - before[p] for p in after if p in before}
    busiest = sorted((s for p, s in spent.items() if p != pid), reverse=True)
    share = busiest[0] / sum(busiest) if len(busiest) > 1 and sum(busiest) else 1.0
    return {
        "answers_per_s": tally.answers / elapsed,
        "ack_p50_ms": percentile(tally.acks, 0.5) * 1000,
        "ack_p99_ms": percentile(tally.acks, 0.99) * 1000,
        "reply_p50_ms": percentile(tally.replies, 0.5) * 1000,
        "reply_p99_ms": percentile(tally.replies, 0.99) * 1000,
        "cpu_ms_per_answer": sum(spent.values()) / max(1, tally.answers) * 1000,
        "busiest_worker_share": share,
        "bot_cores": sum(spent.values()) / elapsed,
        "load_cores": load / elapsed,
    }


# ---- the databases -------------------------------------------------------------------------------
@contextlib.contextmanager
def postgres_server(url: str | None) -> Iterator[str]:
    from tests import postgres_server as pg

    if url:
        yield url
        return
    with pg.server() as started:
        yield started


@contextlib.contextmanager
def database(backend: str, server: str | None, folder: Path, name: str) -> Iterator[str]:
    """A new, empty database for one measurement."""
    if backend == "sqlite":
        yield str(folder / f"{name}.db")
        return
    from tests.postgres_server import fresh_database

    assert server is not None
    with fresh_database(server) as url:
        yield url


async def run(args: argparse.Namespace, server: str | None) -> dict[tuple[str, int], dict]:
    api = FakeWebApi()
    api_port = free_port()
    listening = await api.serve(api_port)
    api_url = f"http://127.0.0.1:{api_port}/api/"
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            for workers in (int(n) for n in args.workers.split(",")):
                with database(backend, server, Path(tmp), f"{backend}{workers}") as db:
                    results[backend, workers] = await measure(api, api_url, db, workers, args)
                print(f"  measured {backend} with {workers} worker(s)", file=sys.stderr)
    listening.close()
    return results


def report(results: dict[tuple[str, int], dict], args: argparse.Namespace) -> None:
    print(
        f"Slack HTTP mode, `maturity-bot slack --http [--workers N]`, {args.users} users, "
        f"{os.cpu_count()} cores shared with the load generator and the fake Web API"
    )
    print(
        "backend     workers  answers/s  ack p50/p99 ms  reply p50/p99 ms  "
        "CPU ms/answer  busiest worker  cores: bot + load"
    )
    for (backend, workers), r in results.items():
        print(
            f"{backend:<11} {workers:>7}  {r['answers_per_s']:>9,.0f}  "
            f"{r['ack_p50_ms']:>6.1f}/{r['ack_p99_ms']:<7.1f} "
            f"{r['reply_p50_ms']:>7.1f}/{r['reply_p99_ms']:<8.1f} "
            f"{r['cpu_ms_per_answer']:>13.2f}  {r['busiest_worker_share']:>14.0%}  "
            f"{r['bot_cores']:>6.2f} + {r['load_cores']:.2f}"
        )
    print(
        "(busiest worker: its share of the workers' CPU; cores: CPU seconds a second of the "
        "bot's processes and of this load generator with the fake Web API; PostgreSQL's own "
        "are not counted)"
    )
    backends = list(dict.fromkeys(b for b, _ in results))
    counts = sorted({w for _, w in results})
    print("ratios (answers/s; reply p99 in brackets)")
    for backend in backends:
        for more in counts[1:]:
            one, many = results.get((backend, counts[0])), results.get((backend, more))
            if one and many:
                print(
                    f"  {backend}: {more} workers vs {counts[0]}: "
                    f"{many['answers_per_s'] / one['answers_per_s']:.2f}x "
                    f"({many['reply_p99_ms'] / one['reply_p99_ms']:.2f}x)"
                )
    if "sqlite" in backends and "postgresql" in backends:
        for workers in counts:
            lite, pg = results.get(("sqlite", workers)), results.get(("postgresql", workers))
            if lite and pg:
                print(
                    f"  PostgreSQL vs SQLite, {workers} worker(s): "
                    f"{pg['answers_per_s'] / lite['answers_per_s']:.2f}x "
                    f"({pg['reply_p99_ms'] / lite['reply_p99_ms']:.2f}x)"
                )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50, help="simulated users at once")
    parser.add_argument("--seconds", type=float, default=8.0, help="measured time per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured time per run")
    parser.add_argument("--workers", default="1,2", help="worker counts to compare")
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite,postgresql")
    parser.add_argument("--postgres", help="a PostgreSQL server's URL (default: start one)")
    parser.add_argument(
        "--threads", type=int, help="MATURITY_SLACK_THREADS per worker (default: the bot's)"
    )
    args = parser.parse_args(argv)
    needs_server = "postgresql" in args.backends.split(",")
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(postgres_server(args.postgres)) if needs_server else None
        results = _fastest_loop()(run(args, server))
    report(results, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
