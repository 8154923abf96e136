"""The bot's Prometheus metrics, defined once per process, each with a `worker` label
(MATURITY_WORKER_NAME or the process id), so the series of several workers behind one load
balancer stay apart even when they are scraped through one address.

Why our own registry rather than prometheus_client's global one: what /metrics shows is exactly
what is defined here (plus the process's CPU, memory and open files), whatever other libraries
register. Counting is cheap (a lock and an addition) and happens whether or not anything
scrapes: Socket Mode and the terminal count too, they just do not serve /metrics.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)

from bot.observability import worker_name

REFUSAL_REASONS = ("too_large", "unsigned", "bad_payload", "replay", "busy")
"""Why a request was refused, by class: over the body limit; no valid signature or secret
(a bad or old timestamp included); a body that is not a request we read; a Slack signature
applied before; the work pool full (the user is told the bot is busy)."""

disable_created_metrics()  # a `_created` gauge per series doubles the text for nothing we use
REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)

ANSWERS = Counter(
    "maturity_answers_stored",
    "Answers committed to the database (a skipped question counts as an answer).",
    ["worker", "channel"],
    registry=REGISTRY,
)
ACK_SECONDS = Histogram(
    "maturity_ack_seconds",
    "From a platform request's arrival to the start of our 2xx response (Slack wants < 3 s).",
    ["worker", "channel"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10),
    registry=REGISTRY,
)
REPLY_SECONDS = Histogram(
    "maturity_reply_seconds",
    "From a platform request's arrival to the end of its work (stored, replies sent).",
    ["worker", "channel"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
REFUSED = Counter(
    "maturity_requests_refused",
    "Requests refused, by reason: " + ", ".join(REFUSAL_REASONS) + ".",
    ["worker", "channel", "reason"],
    registry=REGISTRY,
)
PULSE_SENT = Counter(
    "maturity_pulse_messages_sent",
    "Pulse messages (invitations, reminders, re-checks) the platform accepted.",
    ["worker", "channel"],
    registry=REGISTRY,
)
PULSE_FAILED = Counter(
    "maturity_pulse_messages_failed",
    "Pulse messages the platform did not accept (tried again at a later tick while allowed).",
    ["worker", "channel"],
    registry=REGISTRY,
)


def answers_stored(channel: str, count: int = 1) -> None:
    if count > 0:
        ANSWERS.labels(worker_name(), channel).inc(count)


def acked(channel: str, seconds: float) -> None:
    ACK_SECONDS.labels(worker_name(), channel).observe(seconds)


def replied(channel: str, seconds: float) -> None:
    REPLY_SECONDS.labels(worker_name(), channel).observe(seconds)


def refused(channel: str, reason: str) -> None:
    """One refused request; `reason` is one of REFUSAL_REASONS (anything else is a bug)."""
    if reason not in REFUSAL_REASONS:
        raise ValueError(f"unknown refusal reason {reason!r}")
    REFUSED.labels(worker_name(), channel, reason).inc()


def pulse_message(channel: str, *, sent: bool) -> None:
    (PULSE_SENT if sent else PULSE_FAILED).labels(worker_name(), channel).inc()


def exposition() -> tuple[bytes, str]:
    """The text /metrics answers, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
