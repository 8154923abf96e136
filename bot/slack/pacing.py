"""Pacing the pulse's Web API calls under Slack's published rate limits, before they are made.

A round sends each member one message: the invitation, the model's intro and the first question
are one chat.postMessage (bot/slack/compose.py), into a DM channel opened (conversations.open)
only the first time and stored. So the first round of a team of 1,000 is about 2,000 Web API
calls, paced by conversations.open (Tier 3, about 50 a minute: some 20 minutes), and every later
round about 1,000, paced by chat.postMessage's workspace-wide cap (4 a second here: some 4
minutes). `Pacer` keeps them under Slack's limits; the WebClient's RateLimitErrorRetryHandler
still honours a 429's Retry-After if Slack disagrees. `Pacing.scaled` lets the fake Slack
enforce the same limits faster in tests and bench/pulse_fanout.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from slack_sdk import WebClient
from slack_sdk.web.slack_response import SlackResponse

from bot.slack.web_client import KeepAliveWebClient


@dataclass(frozen=True)
class Rate:
    """`per_second` calls on average, `burst` of them at once."""

    per_second: float
    burst: int = 1


def _slack_rates() -> dict[str, Rate]:
    # https://docs.slack.dev/apis/web-api/rate-limits, read conservatively: Tier 2 is "20+ per
    # minute", Tier 3 "50+", Tier 4 "100+"; chat.postMessage is 1 per second per channel with
    # short bursts, under a workspace-wide cap of "several hundred per minute".
    return {
        "chat.postMessage": Rate(4.0, 10),  # workspace-wide: 240 a minute
        "conversations.open": Rate(50 / 60, 10),  # Tier 3
        "users.list": Rate(20 / 60, 3),  # Tier 2
        "users.info": Rate(100 / 60, 10),  # Tier 4
        "conversations.members": Rate(100 / 60, 10),  # Tier 4
        "conversations.info": Rate(50 / 60, 10),  # Tier 3
        "files.getUploadURLExternal": Rate(20 / 60, 3),
        "files.completeUploadExternal": Rate(20 / 60, 3),
    }


@dataclass(frozen=True)
class Pacing:
    """The limits the pulse's Web API calls are paced under."""

    per_channel: Rate = Rate(1.0, 3)
    """chat.postMessage into one channel: a turn is one message; a burst leaves room for a
    reminder after an invitation, or a turn too long for one message."""
    per_method: Mapping[str, Rate] = field(default_factory=_slack_rates)

    def scaled(self, factor: float) -> Pacing:
        """Every rate times `factor`: for a fake Slack that enforces the same scaled limits, so
        a benchmark or test shows the pacing without waiting Slack's real minutes."""
        return replace(
            self,
            per_channel=Rate(self.per_channel.per_second * factor, self.per_channel.burst),
            per_method={
                m: Rate(r.per_second * factor, r.burst) for m, r in self.per_method.items()
            },
        )

    def minimum_seconds(self, calls: Mapping[str, int]) -> float:
        """The least time `calls` (method -> count) can take under these limits: the slowest
        method's count beyond its burst, at its rate (a lower bound: each method is paced on
        its own). What a fan-out is measured against: 1,000 members cost 1,000
        conversations.open and 1,000 chat.postMessage in a first round (19.8 minutes), 1,000
        chat.postMessage in a later one (4.1 minutes)."""
        slowest = 0.0
        for method, count in calls.items():
            rate = self.per_method.get(method)
            if rate is not None and count > rate.burst:
                slowest = max(slowest, (count - rate.burst) / rate.per_second)
        return slowest


class _Bucket:
    """GCRA (a token bucket kept as one timestamp): `tat` is when the bucket is empty again."""

    __slots__ = ("interval", "tolerance", "tat")

    def __init__(self, rate: Rate) -> None:
        self.interval = 1.0 / rate.per_second
        self.tolerance = (rate.burst - 1) * self.interval
        self.tat = 0.0

    def earliest(self, now: float) -> float:
        return max(now, self.tat - self.tolerance)

    def take(self, at: float) -> None:
        self.tat = max(self.tat, at) + self.interval


class Pacer:
    """Waits before each Web API call until every limit that applies lets it through.

    Thread-safe: each caller reserves its slot under a lock and sleeps outside it, so calls
    from several threads queue up in order instead of all waking at once and hitting a 429.
    """

    MAX_CHANNELS = 10_000
    """Per-channel buckets kept before the idle ones are dropped (memory stays bounded)."""

    def __init__(
        self,
        pacing: Pacing | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.pacing = pacing or Pacing()
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._methods = {m: _Bucket(r) for m, r in self.pacing.per_method.items()}
        self._channels: dict[str, _Bucket] = {}

    def wait(self, method: str, channel: str | None = None) -> float:
        """Block until `method` (into `channel`) may be called; returns the seconds waited."""
        with self._lock:
            now = self.clock()
            buckets = []
            if method in self._methods:
                buckets.append(self._methods[method])
            if method == "chat.postMessage" and channel:
                buckets.append(self._channel(channel, now))
            at = max((b.earliest(now) for b in buckets), default=now)
            for bucket in buckets:
                bucket.take(at)
        delay = at - now
        if delay > 0:
            self.sleep(delay)
        return delay

    def _channel(self, channel: str, now: float) -> _Bucket:
        bucket = self._channels.get(channel)
        if bucket is None:
            if len(self._channels) >= self.MAX_CHANNELS:
                self._channels = {c: b for c, b in self._channels.items() if b.tat > now}
            bucket = self._channels[channel] = _Bucket(self.pacing.per_channel)
        return bucket


class PacedClient(KeepAliveWebClient):
    """A WebClient whose every Web API call waits for the pacer first (files upload v2's
    steps included), over kept-alive connections of its own; rate-limit retries stay with the
    client's RateLimitErrorRetryHandler."""

    def __init__(self, *, pacer: Pacer, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pacer = pacer

    @classmethod
    def like(cls, client: WebClient, pacer: Pacer) -> PacedClient:
        """The same token, URL, timeout and retry handlers as `client`, paced."""
        return cls(
            pacer=pacer,
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            ssl=client.ssl,
            proxy=client.proxy,
            headers=dict(client.headers),
            retry_handlers=list(client.retry_handlers),
        )

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:  # type: ignore[override]
        args = kwargs.get("json") or kwargs.get("data") or kwargs.get("params") or {}
        self.pacer.wait(api_method, args.get("channel"))
        return super().api_call(api_method, **kwargs)
