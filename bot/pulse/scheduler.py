"""When the pulse's `tick` runs: APScheduler's asyncio scheduler on the platform's event loop, and
a wake-up that closes a round as soon as its last member answered.

One tick at a time is the pulse service's own lock (a `pulse now` and a scheduled tick can meet);
this module only decides when. The first run is at start-up, so a round that fell due while the
bot was down runs then (once: the round row is the claim); after that every `interval` seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

log = logging.getLogger("bot.pulse")


class PulseScheduler:
    """Runs `tick` every `interval` seconds; a slow tick is not piled up (coalesced)."""

    def __init__(self, tick: Callable[[], Awaitable[None]], interval: float = 30) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self.tick = tick
        self.interval = interval
        self.scheduler = AsyncIOScheduler(timezone=UTC)

    async def _tick(self) -> None:
        try:
            await self.tick()
        except Exception:  # a bad tick must not stop the schedule; the next one retries
            log.exception("pulse tick failed")

    def start(self) -> None:
        """Call from inside the running event loop."""
        self.scheduler.add_job(
            self._tick,
            "interval",
            seconds=self.interval,
            next_run_time=datetime.now(UTC),
            coalesce=True,
            max_instances=1,
            id="pulse-tick",
        )
        self.scheduler.start()

    def pause(self) -> None:
        """No new ticks; a running one goes on (shutdown would cancel it at once)."""
        if self.scheduler.running:
            self.scheduler.pause()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)


def waker(
    loop: asyncio.AbstractEventLoop, work: Callable[[], Awaitable[None]]
) -> Callable[[], None]:
    """A function any thread may call to run `work` on `loop` soon, without waiting for it:
    how the thread that stored a round's last answer has the round closed right away."""

    async def guarded() -> None:
        try:
            await work()
        except Exception:
            log.exception("closing a completed pulse round failed")

    def wake() -> None:
        if not loop.is_closed():
            asyncio.run_coroutine_threadsafe(guarded(), loop)

    return wake
