"""The event loop the Slack pulse runs on: one asyncio loop in a background thread.

Bolt's listeners run in worker threads and the WebClient is synchronous, but the pulse core is
async and APScheduler's asyncio scheduler needs a running loop. So one loop runs in a thread:
the scheduler's ticks run there, Bolt's threads hand commands to it with
`run_coroutine_threadsafe(...).result()`, and every Web API call leaves the loop through
`asyncio.to_thread` (bot/slack/pulse.py).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from bot.pulse.scheduler import PulseScheduler, waker
from bot.pulse.service import PulseService
from flows.pulse_commands import PulseResult

if TYPE_CHECKING:
    from bot.slack.pulse import SlackTeamMessenger

log = logging.getLogger("bot.slack.pulse")

T = TypeVar("T")


# ---- the loop ------------------------------------------------------------------------------
class PulseRuntime:
    """One asyncio loop in a background thread, running the pulse core for Slack.

    `start` starts the loop (and, unless `scheduled=False`, the core's PulseScheduler on it,
    which ticks only while this process holds the scheduler lease); `command` and `tick` are
    called from any thread and wait for the result (`pulse now` ticks in whichever process
    receives it: every step of a round is a claim); `stop` stops the scheduler, lets running
    work finish for up to `grace` seconds, gives the lease up, and closes the loop.
    """

    def __init__(
        self,
        pulse: PulseService,
        messenger: SlackTeamMessenger,
        *,
        interval: float = 30.0,
        scheduled: bool = True,
    ) -> None:
        self.pulse = pulse
        self.messenger = messenger
        self.interval = interval
        self.scheduled = scheduled
        self.scheduler: PulseScheduler | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._loop is not None and self._loop.is_running()

    def start(self) -> None:
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="pulse-loop", daemon=True)
        self._thread.start()
        ready.wait()
        # the thread that stores a round's last answer has the round closed at once
        self.pulse.wake = waker(loop, lambda: self.pulse.close_rounds(self.messenger))
        if self.scheduled:
            self.call(self._start_scheduler())
            log.info("pulse scheduler started (a tick every %s s)", self.interval)

    async def _start_scheduler(self) -> None:
        """The scheduler, under the lease that makes one process of all sharing the database
        run it (bot/pulse/scheduler.py); its first try is made before the app serves."""
        tick, lease = lambda: self.pulse.tick(self.messenger), self.pulse.scheduler_lease()
        self.scheduler = PulseScheduler(tick, self.interval, lease)
        await self.scheduler.renew()
        self.scheduler.start()

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the loop and wait for its result (from a thread that is not the loop)."""
        if not self.running:
            coro.close()
            raise RuntimeError("the pulse runtime is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def command(
        self, team: str, team_name: str, user: str, words: list[str], lang: str
    ) -> PulseResult:
        """`PulseService.command`, from any thread (`now` runs a tick: after any running one)."""
        return self.call(self.pulse.command(self.messenger, team, team_name, user, words, lang))

    def tick(self, now: datetime | None = None) -> None:
        """One tick at `now` (default: the pulse's clock), as the scheduler would run it."""
        self.call(self.pulse.tick(self.messenger, now))

    def stop(self, grace: float = 10.0) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self.pulse.wake = None
        if loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self._shutdown(grace), loop)
            try:
                future.result(timeout=grace + 30)
            finally:
                loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=grace + 30)
        if not thread.is_alive():
            loop.close()
        self._loop = self._thread = None
        log.info("pulse scheduler stopped")

    async def _shutdown(self, grace: float) -> None:
        """No new ticks; the running tick and commands get `grace` seconds to finish, then are
        cancelled between sends (a send in progress finishes in its thread; invitations not
        sent yet stay unsent in the database and go out at the next tick, here or in the
        process that takes the scheduler lease over)."""
        if self.scheduler is not None:
            self.scheduler.pause()
        current = asyncio.current_task()
        pending = {task for task in asyncio.all_tasks() if task is not current}
        if pending:
            _, pending = await asyncio.wait(pending, timeout=grace)
        if self.scheduler is not None:
            self.scheduler.shutdown()
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if self.scheduler is not None:
            await self.scheduler.release()  # another process takes over at its next try
        await asyncio.get_running_loop().shutdown_default_executor()


# ---- the command in a channel ----------------------------------------------------------------
