"""What an operator sees of a running bot: health and readiness for a load balancer
(health.py), Prometheus metrics (metrics.py), log lines as text or JSON with a request id
(logs.py), and the request id and timing of each HTTP request (requests.py).

This module itself imports nothing heavy: the terminal bot and `maturity-bot models` never load
prometheus_client or starlette; the service and the pulse import metrics.py only when they
count something.
"""

from __future__ import annotations

import os
import re

WORKER_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
"""What MATURITY_WORKER_NAME may be: it becomes a metric label and a field of every log line."""

_worker: str | None = None


def worker_name() -> str:
    """This process's name among the workers: MATURITY_WORKER_NAME, or the process id (read
    each time, so a forked worker does not report its parent's)."""
    return _worker or str(os.getpid())


def set_worker_name(name: str | None) -> None:
    global _worker
    _worker = name or None
