"""`--workers N`: N identical bot processes behind one port (Slack `--http`, the Telegram
webhook), started by uvicorn's own multiprocess supervisor.

Why uvicorn's: it binds the port once in a parent process, starts N processes (spawned, not
forked: nothing of the parent's threads, pools or connections is inherited) that each build the
app with a factory (`module:function`) from the settings, restarts one that dies, and turns
SIGTERM or Ctrl-C into a graceful stop of each, whose lifespan shutdown finishes the work in
flight, stops the pulse and closes the database. The workers share nothing but the database:
a worker here is the same as one on another machine behind a load balancer, and exactly one of
them runs the pulse scheduler (bot/pulse/scheduler.py).

What a worker needs that its settings do not say (a `--db` given on the command line, the
webhook's URL and secret) travels from the parent in one environment variable,
MATURITY_WORKER_ARGS (JSON). Everything the parent can check is checked there, once, before any
worker starts (settings, tokens, the port). A worker that still cannot start (the database went
away in between) writes its one-line reason to a file the parent reads and exits with uvicorn's
STARTUP_FAILURE code, which stops the whole group rather than restarting it forever; the parent
then prints that line and exits with 2.

Each worker keeps its own /metrics (labelled with its worker name): behind one port a scrape
reaches whichever worker accepts it, so scrape each worker on a port of its own, or run one
process per port behind the load balancer, when every worker's figures matter.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from bot.errors import UsageError

if TYPE_CHECKING:
    from bot.service import AssessmentService
    from bot.settings import Settings

# Imported by every command's parser (through the platforms' options): what only starting or
# being a worker needs (json, socket, tempfile, logging, uvicorn) is imported there.

MAX_WORKERS = 32
"""More processes than cores adds no throughput, and each worker may hold 24 PostgreSQL
connections (bot/storage/postgres.py): 32 of them already need the server's max_connections
raised. A larger number is a typo."""
WORKER_ARGS = "MATURITY_WORKER_ARGS"
STARTUP_FAILURE = 3
"""uvicorn's exit code for a worker that failed before serving (uvicorn.config.STARTUP_FAILURE):
its supervisor stops every worker instead of restarting this one."""
_WHOLE = re.compile(r"[0-9]{1,6}")


def add_argument(parser: argparse.ArgumentParser, mode: str) -> None:
    """`--workers N`, checked by `workers_of` (a bad N is one line, exit 2, not argparse's
    usage text)."""
    parser.add_argument(
        "--workers",
        metavar="N",
        help=f"{mode}: serve one port with N processes (default 1; see README, Scaling out)",
    )


def workers_of(args: argparse.Namespace) -> int:
    """The number of processes `--workers` asks for (1 when not given)."""
    value = getattr(args, "workers", None)
    if value is None:
        return 1
    text = str(value).strip()
    if not _WHOLE.fullmatch(text) or not 1 <= int(text) <= MAX_WORKERS:
        raise UsageError(f"--workers must be a whole number from 1 to {MAX_WORKERS}, got {value!r}")
    return int(text)


def worker_label(name: str | None) -> str | None:
    """A worker's name in /metrics and the logs: MATURITY_WORKER_NAME is shared by the N
    processes of `--workers N`, so each adds its process id; without it the process id is
    the name anyway (bot/observability)."""
    return f"{name}:{os.getpid()}" if name else None


def check_port(host: str, port: int) -> None:
    """A port that cannot be bound stops the command with one line before any worker starts
    (uvicorn would exit with its own message and code 1)."""
    import socket

    if not 0 < port < 65536:
        raise UsageError(f"--port must be 1-65535, got {port}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None


def serve(factory: str, *, host: str, port: int, workers: int, arguments: dict[str, Any]) -> int:
    """Run `workers` processes of the app `factory` builds on `host:port` until SIGTERM or
    Ctrl-C; 0 after a clean stop. `arguments` reach each worker (`worker_arguments`)."""
    import json
    import logging
    import tempfile
    from pathlib import Path

    import uvicorn

    check_port(host, port)
    with tempfile.TemporaryDirectory(prefix="maturity-workers-") as folder:
        failures = Path(folder) / "failures"
        os.environ[WORKER_ARGS] = json.dumps({**arguments, "failures": str(failures)})
        logging.getLogger("bot.workers").info("starting %d workers on %s:%s", workers, host, port)
        try:
            uvicorn.run(
                factory,
                factory=True,
                host=host,
                port=port,
                workers=workers,
                lifespan="on",
                log_level="info",
                access_log=False,  # as in one process: a line per request costs CPU
                log_config=None,  # uvicorn's lines go through the bot's logging
            )
        finally:
            os.environ.pop(WORKER_ARGS, None)
        reasons = failures.read_text("utf-8").splitlines() if failures.exists() else []
    if reasons:
        raise UsageError(f"a worker did not start: {reasons[0]}")
    return 0


def worker_arguments() -> dict[str, Any]:
    """What the parent passed to this worker (see `serve`)."""
    import json

    text = os.environ.get(WORKER_ARGS)
    if not text:
        raise UsageError(f"{WORKER_ARGS} is not set: workers are started by `--workers N`")
    return json.loads(text)


def worker_settings() -> Settings:
    """The settings, or one line naming what is wrong: every command, even `models`, stops on
    a bad setting rather than printing a traceback or running on a value nobody meant."""
    from pydantic import ValidationError

    from bot.settings import describe as describe_settings
    from bot.settings import load_settings

    try:
        return load_settings()
    except ValidationError as exc:
        raise UsageError(describe_settings(exc)) from None


def worker_service(settings: Settings, db: str | None) -> AssessmentService:
    """The assessment service over the database, as every command opens it (a worker's schema
    is current: the parent opened it first, which migrates)."""
    from bot.service import AssessmentService
    from bot.storage import Storage
    from flows.model_loader import load_models, load_scan

    models = load_models(settings.maturity_models_dir)  # a broken model file stops us first
    scan = load_scan(models, settings.maturity_models_dir)
    return AssessmentService(Storage(db or settings.maturity_db), models, scan=scan)


def user_error(exc: BaseException) -> bool:
    """A problem the operator can fix, told as one line: a setting, an argument, a model file or
    the database. Each error is looked up where it would come from: a command that never loaded
    the storage cannot have raised its error, and loading it just to check would cost every
    command the start-up time the lazy imports save."""
    storage = sys.modules.get("bot.storage.errors")
    loader = sys.modules.get("flows.model_loader")
    fixable = (
        UsageError,
        *([storage.StorageError] if storage else []),
        *([loader.ModelFileError] if loader else []),
    )
    return isinstance(exc, fixable)


def describe(exc: BaseException) -> str:
    """One line for the operator: the message of an error they can fix (`user_error`), the
    kind of any other (its traceback is in the worker's log)."""
    if user_error(exc):
        return str(exc)
    return f"{type(exc).__name__} (see the worker's log)"


def failed(exc: BaseException, reason: str | None = None) -> None:
    """Tell the parent why this worker cannot start (see the module's docstring)."""
    import json
    import logging

    line = " ".join((reason or describe(exc)).split())
    logging.getLogger("bot.workers").error(
        "this worker cannot start: %s", line, exc_info=not isinstance(exc, UsageError)
    )
    path = json.loads(os.environ.get(WORKER_ARGS) or "{}").get("failures")
    if path:
        with contextlib.suppress(OSError), open(path, "a", encoding="utf-8") as file:
            file.write(line + "\n")


@contextlib.contextmanager
def starting() -> Iterator[None]:
    """Around a worker's factory: a failure is reported to the parent and ends the process with
    STARTUP_FAILURE (uvicorn restarts a worker that raised anything else, for ever)."""
    try:
        yield
    except Exception as exc:
        failed(exc)
        raise SystemExit(STARTUP_FAILURE) from None
