"""The team pulse: its commands, and the service object the platforms and the scheduler hold.

Channel-free: each platform hands in a `TeamMessenger` (list members, check admins, send a DM,
post to the team) and calls `command`, `join` and `tick`. `command` answers with a typed result
(flows/pulse_commands.py) that the platform words; what a round does on the clock is in
rounds.py. Every decision is made against the database (bot/storage/pulses.py) with an explicit
`now`, so a restart loses nothing and each step happens once. Blocking work (the database, the
assessment service, drawing) runs in worker threads, never on the platform's event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.pulse.clock import iso, local_time, parse_iso, schedule_of, utcnow
from bot.pulse.rounds import RoundLifecycle, recheck_message
from bot.pulse.scheduler import LEASE_SECONDS, SchedulerLease, holder_id
from bot.service import AssessmentService
from bot.storage.pulses import ClosedRound, PulseRow, PulseStore
from flows.i18n import t
from flows.pulse import (
    DEFAULT_MIN_RESPONSES,
    MIN_RESPONSES_FLOOR,
    PULSE_SUFFIX,
    PulseInputError,
    next_run,
    parse_schedule,
    pulse_models,
    report_from_json,
    report_json,
)
from flows.pulse_commands import (
    BadSchedule,
    NoPulse,
    NotAdmin,
    Paused,
    PulseHelp,
    PulseResult,
    PulseStatus,
    Reports,
    Resumed,
    RoundRunning,
    RoundStarted,
    ScheduleUsage,
    Started,
    Stopped,
    UnknownModel,
    verb_of,
)
from flows.replies import Reply
from flows.text import clean_text, one_line

__all__ = [
    "PulseService",
    "PulseSettings",
    "TeamMessenger",
    "TeamReport",
    "iso",
    "recheck_message",
    "report_from_json",
    "report_json",
    "utcnow",
]

log = logging.getLogger(__name__)

TeamReport = ClosedRound
"""A closed round with its stored report (what `pulse report` exports)."""


class TeamMessenger(Protocol):
    """What a platform does for the pulse; the pulse never sees a platform API."""

    channel: str

    async def members(self, team: str) -> list[str] | None:
        """The team's human members, or None where the platform cannot list them (Telegram)."""

    async def is_admin(self, team: str, user: str, creator: str | None) -> bool: ...

    async def send_dm(self, member: str, replies: Sequence[Reply]) -> None: ...

    async def post_team(self, team: str, text: str, chart_png: bytes | None) -> None: ...


@dataclass(frozen=True)
class PulseSettings:
    min_responses: int = DEFAULT_MIN_RESPONSES
    deadline_hours: float = 48
    remind_after_hours: float = 24
    timezone: str = "Europe/Amsterdam"
    lease_seconds: float = 120
    """How long a claimed invitation is held before another tick may send it again (a process
    that died between claiming and delivering it leaves the claim behind)."""
    scheduler_lease_seconds: float = LEASE_SECONDS
    """How long the lease that makes one process the scheduler lasts unrenewed (scheduler.py)."""
    workspace_grace_days: int = 30
    """Days an uninstalled Slack workspace's data is kept before the tick purges it."""

    def __post_init__(self) -> None:
        if self.min_responses < MIN_RESPONSES_FLOOR:
            raise ValueError(
                f"the minimum number of responses is {self.min_responses}; it is never accepted "
                f"below {MIN_RESPONSES_FLOOR}, or answers could be traced to people"
            )


class PulseService(RoundLifecycle):
    def __init__(
        self,
        service: AssessmentService,
        settings: PulseSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.service = service
        self.store = PulseStore(service.storage)
        self.settings = settings or PulseSettings()
        self.clock = clock
        self.pulse_models = pulse_models(service.models)
        self.wake: Callable[[], None] | None = None
        """Set by the runtime: "close complete rounds soon", callable from any thread."""
        self.scope: Callable[[str, str | None], PulseSettings] | None = None
        """Set by a platform whose teams belong to workspaces with settings of their own
        (Slack): the settings of team `team` for member `user` (None: its pulse's creator)."""
        self._ticking = asyncio.Lock()
        service.engine.extra_models.update(self.pulse_models)
        service.on_finish.append(self._answered)

    @property
    def min_responses(self) -> int:
        """K: PulseSettings never holds one below the floor (it refuses to be made)."""
        return self.settings.min_responses

    def settings_for(self, team: str, user: str | None = None) -> PulseSettings:
        """The settings a team's pulse runs with: its workspace's K and time zone, where the
        platform has workspaces (`scope`), else the operator's."""
        return self.settings if self.scope is None else self.scope(team, user)

    def round_min_responses(self, team: str) -> int:
        """K for a round of `team` as it closes."""
        return self.settings_for(team).min_responses

    # ---- commands in the team's channel ----------------------------------------------------
    async def command(
        self,
        messenger: TeamMessenger,
        team: str,
        team_name: str,
        user: str,
        words: Sequence[str],
        lang: str,
    ) -> PulseResult:
        """`pulse start|status|pause|resume|stop|now|report ...` for `team`, as `user` asks."""
        words = [word for word in (clean_text(w) for w in words) if word]
        team_name = one_line(team_name)  # a group title anyone in it can edit
        verb = verb_of(words)
        channel = messenger.channel
        pulse = await asyncio.to_thread(self.store.pulse, channel, team)
        scoped = await asyncio.to_thread(self.settings_for, team, user)
        if verb is None:
            return PulseHelp(scoped.min_responses)
        if verb == "status":
            return await asyncio.to_thread(self._status, pulse)
        if not await messenger.is_admin(team, user, pulse.created_by if pulse else None):
            return NotAdmin()
        now = self.clock()
        if verb == "start":
            return await asyncio.to_thread(
                self._start, channel, team, team_name, user, words[1:], lang, now, scoped
            )
        if pulse is None:
            return NoPulse()
        if verb in ("pause", "stop"):
            status = {"pause": "paused", "stop": "stopped"}[verb]
            await asyncio.to_thread(self.store.set_status, pulse.team_id, status)
            return Paused() if verb == "pause" else Stopped()
        if verb == "resume":
            when = next_run(schedule_of(pulse), now)
            await asyncio.to_thread(self.store.set_status, pulse.team_id, "active", iso(when))
            return Resumed(local_time(when, pulse.timezone))
        if verb == "now":
            running = await asyncio.to_thread(self.store.open_round, pulse.team_id)
            if running is not None:
                deadline = parse_iso(running["deadline_at"])
                return RoundRunning(local_time(deadline, pulse.timezone))
            await asyncio.to_thread(self.store.set_status, pulse.team_id, "active", iso(now))
            await self.tick(messenger, now)
            return RoundStarted()
        closed = await asyncio.to_thread(self.store.closed_rounds, channel, team)
        if not closed:
            return NoPulse()
        model = self.service.models[pulse.model_id]
        return Reports(model, team_name, tuple(r.report for r in closed[-3:]))

    def _start(
        self,
        channel: str,
        team: str,
        team_name: str,
        user: str,
        args: list[str],
        lang: str,
        now: datetime,
        settings: PulseSettings | None = None,
    ) -> PulseResult:
        settings = settings or self.settings
        if not args:
            return ScheduleUsage()
        model_id = args[0].lower()
        if model_id + PULSE_SUFFIX not in self.pulse_models:
            ids = sorted(m.removesuffix(PULSE_SUFFIX) for m in self.pulse_models)
            return UnknownModel(args[0], tuple(ids))
        try:
            schedule = parse_schedule(args[1:] or ["weekly"], settings.timezone)
        except PulseInputError as problem:
            return BadSchedule(problem.key, tuple(problem.values.items()))
        when = next_run(schedule, now)
        values = {
            "model_id": model_id,
            "cadence": schedule.cadence,
            "weekday": schedule.weekday,
            "hour": schedule.hour,
            "minute": schedule.minute,
            "timezone": schedule.timezone,
            "next_run_at": iso(when),
            "lang": lang,
        }
        self.store.save_pulse(channel, team, team_name, user, values, iso(now))
        return Started(
            self.service.models[model_id].name,
            schedule,
            local_time(when, schedule.timezone),
            settings.min_responses,
        )

    def _status(self, pulse: PulseRow | None) -> PulseResult:
        if pulse is None:
            return NoPulse()
        return PulseStatus(
            self.service.models[pulse.model_id].name,
            schedule_of(pulse),
            pulse.status,
            local_time(parse_iso(pulse.next_run_at), pulse.timezone),
            self.store.member_count(pulse.team_id),
        )

    def join(self, channel: str, team: str, team_name: str, member: str, lang: str) -> str:
        """A member opts in (Telegram, where a bot cannot list a group's members)."""
        team_name = one_line(team_name)
        self.store.join(channel, team, team_name, member, iso(self.clock()))
        return t("pulse_joined", lang, team=team_name)

    def join_prompt(self, lang: str) -> str:
        return t("pulse_join_prompt", lang, k=self.min_responses)

    def scheduler_lease(self) -> SchedulerLease:
        """The lease this process's scheduler runs under (see bot/pulse/scheduler.py)."""
        return SchedulerLease(self.store, holder_id(), self.settings.scheduler_lease_seconds)

    async def idle(self) -> None:
        """Wait until no tick runs (a stopping bot lets a running tick finish its sends)."""
        async with self._ticking:
            pass

    # ---- reading ---------------------------------------------------------------------------
    def reports(self, channel: str, team: str) -> list[TeamReport]:
        return self.store.closed_rounds(channel, team)


def pulse_settings(settings) -> PulseSettings:
    """From bot.settings.Settings; a K below 3 stops start-up with the reason."""
    return PulseSettings(
        min_responses=settings.maturity_pulse_min_responses,
        deadline_hours=settings.maturity_pulse_deadline_hours,
        remind_after_hours=settings.maturity_pulse_remind_hours,
        timezone=settings.maturity_timezone,
        lease_seconds=settings.maturity_pulse_lease_seconds,
        scheduler_lease_seconds=settings.maturity_pulse_scheduler_lease_seconds,
        workspace_grace_days=settings.maturity_workspace_grace_days,
    )
