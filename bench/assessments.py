"""Benchmark: N simulated users take complete assessments against a real database file.

Prints answers per second and p50/p99 latency per answer through the whole service (load the
conversation, run the engine, commit), the same rows written with bare sqlite-utils as a
baseline (one durable upsert per transaction, the same pragmas), their ratio, and resident
memory as paused conversations pile up (it should stay flat: no per-user objects in memory).

    python bench/assessments.py [--users 10000] [--db PATH]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.service import AssessmentService  # noqa: E402
from bot.storage import Storage, now_iso  # noqa: E402
from flows.events import Event, Kind, from_payload  # noqa: E402
from flows.model_loader import load_models  # noqa: E402
from flows.replies import Ask  # noqa: E402


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * 4096 / 2**20


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run_service(db_path: Path, users: int, seed: int) -> tuple[list[float], list]:
    rng = random.Random(seed)
    models = load_models()
    ids = list(models)
    service = AssessmentService(Storage(db_path), models)
    latencies: list[float] = []
    written: list[tuple[str, str, str]] = []
    for n in range(users):
        user = f"user{n}"
        model_id = ids[n % len(ids)]
        handled = service.handle("bench", user, Event(Kind.CHOOSE, model_id, direct=True))
        ask = next(r for r in handled.replies if isinstance(r, Ask))
        # every user finishes, except each tenth pauses halfway and stays paused
        pause_at = len(models[model_id].questions) // 2 if n % 10 == 0 else None
        step = 0
        while ask is not None:
            if step == pause_at:
                service.handle("bench", user, Event(Kind.STOP))
                break
            payload = rng.choice(ask.choices).payload
            started = time.perf_counter()
            handled = service.handle("bench", user, from_payload(payload))
            latencies.append(time.perf_counter() - started)
            written.append(tuple(payload.split(":")[1:]))
            ask = next((r for r in handled.replies if isinstance(r, Ask)), None)
            step += 1
    service.storage.close()
    return latencies, written


def run_paused(db_path: Path, users: int, checkpoints: int = 5) -> list[tuple[int, float]]:
    """Resident memory while paused conversations pile up: start, answer two, /stop."""
    models = load_models()
    ids = list(models)
    service = AssessmentService(Storage(db_path), models)
    memory = [(0, rss_mib())]
    for n in range(users):
        user = f"paused{n}"
        handled = service.handle("bench", user, Event(Kind.CHOOSE, ids[n % len(ids)], direct=True))
        for _ in range(2):
            ask = next(r for r in handled.replies if isinstance(r, Ask))
            handled = service.handle("bench", user, from_payload(ask.choices[0].payload))
        service.handle("bench", user, Event(Kind.STOP))
        if (n + 1) % max(1, users // checkpoints) == 0:
            gc.collect()
            memory.append((n + 1, rss_mib()))
    service.storage.close()
    return memory


def run_baseline(db_path: Path, rows: list[tuple[str, str, str]]) -> list[float]:
    """The floor: the same answer rows, one upsert + commit each, with bare sqlite-utils."""
    storage = Storage(db_path)  # same file setup and pragmas
    table = storage.db["answers_baseline"]
    table.create(
        {"assessment_id": str, "question_id": str, "option_id": str, "answered_at": str},
        pk=("assessment_id", "question_id"),
        if_not_exists=True,
    )
    latencies = []
    for assessment_id, question_id, option_id in rows:
        started = time.perf_counter()
        with storage.db.atomic():
            table.upsert(
                {
                    "assessment_id": assessment_id,
                    "question_id": question_id,
                    "option_id": option_id,
                    "answered_at": now_iso(),
                },
                pk=("assessment_id", "question_id"),
            )
        latencies.append(time.perf_counter() - started)
    storage.close()
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--db", type=Path, help="database file (default: a temporary one)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory()
    db_path = args.db or Path(folder.name) / "bench.db"

    started = time.perf_counter()
    latencies, rows = run_service(db_path, args.users, args.seed)
    elapsed = time.perf_counter() - started
    base = run_baseline(db_path, rows)

    engine_p50, base_p50 = statistics.median(latencies), statistics.median(base)
    print(f"users: {args.users}, answers: {len(latencies)}, database: {db_path}")
    print(
        f"service: {len(latencies) / sum(latencies):,.0f} answers/s "
        f"(wall {elapsed:.1f} s incl. starts and pauses)"
    )
    print(
        f"  per answer p50 {engine_p50 * 1e6:,.0f} µs, "
        f"p99 {percentile(latencies, 0.99) * 1e6:,.0f} µs"
    )
    print(f"bare sqlite-utils upsert+commit: {len(base) / sum(base):,.0f} rows/s")
    print(f"  per row p50 {base_p50 * 1e6:,.0f} µs, p99 {percentile(base, 0.99) * 1e6:,.0f} µs")
    print(
        f"ratio service/bare (p50): {engine_p50 / base_p50:.2f}x  "
        f"(mean: {statistics.mean(latencies) / statistics.mean(base):.2f}x)"
    )
    del latencies, rows, base
    memory = run_paused(Path(folder.name) / "paused.db", args.users)
    print("resident memory with paused conversations (one process, after gc):")
    for paused, mib in memory:
        print(f"  {paused:>7} paused: {mib:.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
