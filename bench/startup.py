"""Benchmark: start-up time of `maturity-bot models` and `maturity-bot models --json`, beside
`python -c pass` (the interpreter alone) on the same machine in the same run.

Each command runs as a fresh process, as a script calling it would, `--runs` times (after
`--warmup` untimed runs, so .pyc files and the disk cache are warm), alternating between the
commands so a burst of load elsewhere on the machine hits them alike. It prints the median,
the fastest and the slowest wall time of each and the ratio of the medians to `python -c pass`.
The goal (issue 12) is a median under 300 ms for both. A run that fails or prints nothing stops
the benchmark: timing a command that does not work says nothing.

The commands run in an empty temporary directory without MATURITY_*, SLACK_* or TELEGRAM_*
variables, so a local `.env` or setting does not change what is measured. `--imports` adds the
top-level packages that cost `models --json` the most import time (from `python -X importtime`).

    python bench/startup.py [--runs 15] [--warmup 2] [--imports]

Never run as a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS = 0.300


def bot_command() -> list[str]:
    """The installed console script beside this interpreter, as users run it; `python -m bot`
    (the same entry point) when the package is not installed."""
    script = Path(sys.executable).parent / "maturity-bot"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "bot"]


def clean_environment() -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("MATURITY_", "SLACK_", "TELEGRAM_", "PYTHON"))
    }
    if not (Path(sys.executable).parent / "maturity-bot").is_file():
        env["PYTHONPATH"] = str(ROOT)
    return env


def run_once(argv: list[str], cwd: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or (argv[-1] != "pass" and not done.stdout.strip()):
        raise SystemExit(
            f"{' '.join(argv)} failed (exit {done.returncode}):\n{done.stderr.strip()[-2000:]}"
        )
    return elapsed


def measure(commands: dict[str, list[str]], runs: int, warmup: int) -> dict[str, list[float]]:
    env = clean_environment()
    times: dict[str, list[float]] = {label: [] for label in commands}
    with tempfile.TemporaryDirectory() as cwd:
        for _ in range(warmup):
            for argv in commands.values():
                run_once(argv, cwd, env)
        for _ in range(runs):
            for label, argv in commands.items():
                times[label].append(run_once(argv, cwd, env))
    return times


def import_costs(argv: list[str], top: int = 12) -> list[tuple[str, float]]:
    """Self import time per top-level package of one run, largest first, in seconds."""
    env = clean_environment()
    with tempfile.TemporaryDirectory() as cwd:
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "from bot.cli import main; main()", *argv],
            cwd=cwd,
            env={**env, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=60,
        )
    per_package: Counter[str] = Counter()
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = line.removeprefix("import time:").split("|")
        per_package[name.strip().split(".")[0]] += int(self_us) / 1e6
    return per_package.most_common(top)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per command")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs per command first")
    parser.add_argument("--imports", action="store_true", help="also show import costs")
    args = parser.parse_args()

    bot = bot_command()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "maturity-bot models": [*bot, "models"],
        "maturity-bot models --json": [*bot, "models", "--json"],
    }
    times = measure(commands, max(1, args.runs), max(0, args.warmup))
    base = statistics.median(times["python -c pass"])
    print(
        f"start-up, {args.runs} runs each, {os.cpu_count()} cores, Python {sys.version.split()[0]}"
    )
    print(f"command: {' '.join(bot)}")
    print(f"{'':<28} {'median':>8} {'fastest':>8} {'slowest':>8} {'x pass':>7}")
    for label, samples in times.items():
        median = statistics.median(samples)
        mark = ""
        if label != "python -c pass":
            mark = "  ok (< 300 ms)" if median < GOAL_SECONDS else "  over the 300 ms goal"
        print(
            f"{label:<28} {median * 1000:>6.0f}ms {min(samples) * 1000:>6.0f}ms "
            f"{max(samples) * 1000:>6.0f}ms {median / base:>6.1f}x{mark}"
        )
    if args.imports:
        print(
            "\nself import time of `models --json` by top-level package (one run, -X importtime):"
        )
        for package, seconds in import_costs(["models", "--json"]):
            print(f"  {package:<28} {seconds * 1000:>6.1f}ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
