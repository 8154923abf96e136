"""Benchmark: /history and the Slack Home tab for users with a short and a long history.

For each history length, a user's results are stored in a real database file, then timed
through the whole service (load, engine, reply): `/history` (the newest page), its last page,
and the Home tab's work (each model's latest result, the newest page, the view and its digest,
and the check against the digest published last). Beside them, the old way for comparison:
reading every result (what /history and the Home tab did before issue 12). Printed as p50 in
milliseconds and as a ratio to the shortest history: a paged read should stay near 1x.

    python bench/history.py [--sizes 20,550,5000] [--repeat 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.service import AssessmentService  # noqa: E402
from bot.slack.home import home_view, view_digest  # noqa: E402
from bot.storage import Storage  # noqa: E402
from flows.events import Event, Kind  # noqa: E402
from flows.model_loader import load_models  # noqa: E402
from tests.history_seed import seed_results  # noqa: E402

CHANNEL = "bench"


def p50_ms(work: Callable[[], object], repeat: int) -> float:
    work()  # warm: caches, the first page of the file
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def measure(size: int, repeat: int, directory: Path, models: dict) -> dict[str, float]:
    storage = Storage(directory / f"history-{size}.db")
    service = AssessmentService(storage, models)
    user = f"user{size}"
    seed_results(storage, CHANNEL, user, models, size)
    last_page = str(-(-size // 20))

    def home() -> bool:
        data = service.home(CHANNEL, user)
        view = home_view(models, data.latest, data.recent, "en")
        return service.claim_home_view(CHANNEL, user, view_digest(view))

    home()  # published once: from now on the view is unchanged
    figures = {
        "/history": p50_ms(lambda: service.handle(CHANNEL, user, Event(Kind.HISTORY)), repeat),
        "/history last page": p50_ms(
            lambda: service.handle(CHANNEL, user, Event(Kind.HISTORY, last_page)), repeat
        ),
        "Home tab (unchanged)": p50_ms(home, repeat),
        "every result (before)": p50_ms(lambda: service.history(CHANNEL, user), repeat),
    }
    storage.close()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="20,550,5000", help="history lengths, comma separated")
    parser.add_argument("--repeat", type=int, default=200, help="timed runs per figure")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    models = load_models()
    with tempfile.TemporaryDirectory() as folder:
        results = {size: measure(size, args.repeat, Path(folder), models) for size in sizes}
    names = list(results[sizes[0]])
    print(f"{'results':>8}  " + "  ".join(f"{name:>24}" for name in names))
    for size in sizes:
        cells = []
        for name in names:
            value, base = results[size][name], results[sizes[0]][name]
            cells.append(f"{value:8.3f} ms ({value / base:5.1f}x)".rjust(24))
        print(f"{size:>8}  " + "  ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
