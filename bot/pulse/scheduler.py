"""When the pulse's `tick` runs: APScheduler's asyncio scheduler on the platform's event loop, in
one process at a time, and a wake-up that closes a round as soon as its last member answered.

One tick at a time is the pulse service's own lock (a `pulse now` and a scheduled tick can meet);
this module only decides when, and where. The first run is at start-up, so a round that fell due
while the bot was down runs then (once: the round row is the claim); after that every `interval`
seconds.

Where: however many processes share the database (`--workers N`, several machines), one runs
the scheduler: each tries to take or renew the lease "pulse-scheduler" in the database
(bot/storage/leases.py) every `SchedulerLease.renew_every` seconds, and only the holder ticks.
The lease is renewed by a job of its own, so a tick that takes minutes (a large team's first
round) does not let it lapse. A holder that stops gives it up at once; one that dies holds it
until it runs out, and another process takes it at its next try. A worker that gains the lease
ticks at once: it may be taking over a round a dead holder left half done. Nothing breaks if two
processes ever tick together (a holder that lost the lease mid-tick finishes that tick): every
step of a round is a claim in the database; the lease keeps the work, and the Slack and Telegram
pacing of a round's messages, in one place.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

log = logging.getLogger("bot.pulse")

LEASE_NAME = "pulse-scheduler"
LEASE_SECONDS = 45.0
"""How long the scheduler lease lasts without a renewal: at most this long after its holder
died, no process runs the schedule. It is renewed every third of it (15 s), so two renewals in a
row may fail (a database failover, a stalled disk) before the holder loses it, and the other
processes try as often, so one takes over within 45 + 15 = 60 s of the holder's death: the
minute the README promises. MATURITY_PULSE_SCHEDULER_LEASE_SECONDS changes it (1-45)."""
RENEWALS_PER_LEASE = 3


class LeaseStore(Protocol):
    """The pulse store's lease methods (bot/storage/leases.py)."""

    def try_lease(self, name: str, holder: str, seconds: float) -> bool: ...
    def release_lease(self, name: str, holder: str) -> None: ...


def holder_id() -> str:
    """This process among all that share the database: host and process id (unique even when
    `--workers N` gives N processes one MATURITY_WORKER_NAME), led by that name when it is set."""
    from bot.observability import worker_name

    pid = str(os.getpid())
    where = f"{socket.gethostname()}:{pid}"
    name = worker_name()
    return where if name == pid else f"{name}@{where}"


@dataclass(frozen=True)
class SchedulerLease:
    """Which lease, held by whom, for how long."""

    store: LeaseStore
    holder: str
    seconds: float = LEASE_SECONDS
    name: str = LEASE_NAME

    @property
    def renew_every(self) -> float:
        return self.seconds / RENEWALS_PER_LEASE


class PulseScheduler:
    """Runs `tick` every `interval` seconds; a slow tick is not piled up (coalesced). With a
    `lease`, only while this process holds it (see the module's docstring)."""

    def __init__(
        self,
        tick: Callable[[], Awaitable[None]],
        interval: float = 30,
        lease: SchedulerLease | None = None,
    ) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self.tick = tick
        self.interval = interval
        self.lease = lease
        self.holding = False
        """Whether this process held the lease at its last try."""
        self.scheduler = AsyncIOScheduler(timezone=UTC)

    @property
    def leading(self) -> bool:
        """Whether this process runs the schedule now: started, and holding the lease when
        there is one (what /readyz reports)."""
        return self.scheduler.running and (self.lease is None or self.holding)

    async def _tick(self) -> None:
        if self.lease is not None and not self.holding:
            return
        try:
            await self.tick()
        except Exception:  # a bad tick must not stop the schedule; the next one retries
            log.exception("pulse tick failed")

    async def renew(self) -> bool:
        """Take or renew the lease (the lease job; also once before `start`, so that the first
        answer to "do I run the schedule" is known before the process serves anything). A
        database that does not answer counts as not holding it: the lease runs out there too."""
        lease = self.lease
        if lease is None:
            return True
        try:
            held = await asyncio.to_thread(
                lease.store.try_lease, lease.name, lease.holder, lease.seconds
            )
        except Exception as exc:
            log.warning("could not renew the pulse scheduler lease: %s", type(exc).__name__)
            held = False
        if held and not self.holding:
            log.info("this process runs the pulse scheduler now (%s)", lease.holder)
            if self.scheduler.running:  # taking over: tick at once, a round may be half done
                self.scheduler.modify_job("pulse-tick", next_run_time=datetime.now(UTC))
        elif self.holding and not held:
            log.warning("this process no longer runs the pulse scheduler (its lease was lost)")
        self.holding = held
        return held

    def start(self) -> None:
        """Call from inside the running event loop (after `await renew()` when leased)."""
        now = datetime.now(UTC)
        self.scheduler.add_job(
            self._tick,
            "interval",
            seconds=self.interval,
            next_run_time=now,
            coalesce=True,
            max_instances=1,
            id="pulse-tick",
        )
        if self.lease is not None:
            self.scheduler.add_job(
                self.renew,
                "interval",
                seconds=self.lease.renew_every,
                # renewed just before start: the next renewal one period from now
                next_run_time=now + timedelta(seconds=self.lease.renew_every)
                if self.holding
                else now,
                coalesce=True,
                max_instances=1,
                id="pulse-lease",
            )
        self.scheduler.start()

    def pause(self) -> None:
        """No new ticks; a running one goes on (shutdown would cancel it at once)."""
        if self.scheduler.running:
            self.scheduler.pause()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def release(self) -> None:
        """Give the lease up (after the last tick ended), so another process takes over at its
        next try instead of when the lease runs out."""
        lease, self.holding = self.lease, False
        if lease is None:
            return
        try:
            await asyncio.to_thread(lease.store.release_lease, lease.name, lease.holder)
        except Exception as exc:  # it runs out by itself
            log.warning("could not give the pulse scheduler lease up: %s", type(exc).__name__)


def waker(
    loop: asyncio.AbstractEventLoop, work: Callable[[], Awaitable[None]]
) -> Callable[[], None]:
    """A function any thread may call to run `work` on `loop` soon, without waiting for it:
    how the thread that stored a round's last answer has the round closed right away. It runs
    in whichever process stored that answer, scheduler or not: closing is a claim in the
    database (one process wins it and posts the report), so no report waits for the holder's
    next tick."""

    async def guarded() -> None:
        try:
            await work()
        except Exception:
            log.exception("closing a completed pulse round failed")

    def wake() -> None:
        if not loop.is_closed():
            asyncio.run_coroutine_threadsafe(guarded(), loop)

    return wake
