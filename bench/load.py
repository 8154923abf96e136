"""Benchmark: the bot under load on both platforms, in one run.

1. Slack HTTP mode (bench/load_slack.py): the real `maturity-bot slack --http` as a subprocess,
   N signed concurrent users pressing answer buttons; answers/s, ack and reply p50/p99, the
   bot's CPU per answer, and the bare service's answers/s in the same run with the ratio.
2. Telegram polling (bench/load_telegram.py): the real `maturity-bot telegram` as a subprocess
   against a fake Bot API; updates/s, reply p50/p99, CPU per update, bare service and ratio.

    python bench/load.py [--users 1,10,50,200] [--seconds 8] [--only slack|telegram]

Each part can also be run alone with its own options. Never run as a test; a few minutes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load_slack  # noqa: E402
import load_telegram  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="1,10,50,200", help="comma-separated levels")
    parser.add_argument("--seconds", default="8", help="measured time per level")
    parser.add_argument("--only", choices=["slack", "telegram"])
    args = parser.parse_args(argv)
    common = ["--users", args.users, "--seconds", args.seconds]
    if args.only != "telegram":
        load_slack.main(common)
        print()
    if args.only != "slack":
        load_telegram.main(common)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
