"""Pulse rounds for teams: the commands, the clock-driven round lifecycle, the team report.

Channel-free: Slack and Telegram each hand in a `TeamMessenger` (list members, check admins, send
a DM, post to the team) and call `command`, `join` and `tick`. Every decision is made against
SQLite with an explicit `now`, so a restart loses nothing and a round is opened exactly once:
the round row (unique per team and due time) is the claim, written before anything is sent.
APScheduler (see `PulseScheduler`) only decides *when* `tick` runs.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.charts import pulse_png
from bot.service import AssessmentService
from flows.events import Event, Kind, payload_model
from flows.i18n import t
from flows.pulse import (
    DEFAULT_MIN_RESPONSES,
    MIN_RESPONSES_FLOOR,
    PULSE_SUFFIX,
    PulseInputError,
    RoundReport,
    Schedule,
    aggregate,
    next_run,
    parse_schedule,
    pulse_models,
    report_text,
)
from flows.replies import Choice, Reply, Say
from flows.results import StoredResult
from flows.text import clean_text, one_line

log = logging.getLogger(__name__)
MAX_SEND_ATTEMPTS = 3
"""A member whose DM fails (blocked the bot, left) is tried this often, then left out."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


class TeamMessenger(Protocol):
    """What a channel does for the pulse; the pulse never sees a platform API."""

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

    def __post_init__(self) -> None:
        if self.min_responses < MIN_RESPONSES_FLOOR:
            raise ValueError(
                f"the minimum number of responses is {self.min_responses}; it is never accepted "
                f"below {MIN_RESPONSES_FLOOR}, or answers could be traced to people"
            )


@dataclass(frozen=True)
class TeamReport:
    round_id: int
    closed_at: str
    model_id: str
    report: RoundReport


class PulseService:
    def __init__(
        self,
        service: AssessmentService,
        settings: PulseSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.service = service
        self.storage = service.storage
        self.settings = settings or PulseSettings()
        self.clock = clock
        self.pulse_models = pulse_models(service.models)
        self._ticking = asyncio.Lock()
        service.engine.extra_models.update(self.pulse_models)

    # ---- commands in the team's channel ----------------------------------------------------
    async def command(
        self,
        messenger: TeamMessenger,
        team: str,
        team_name: str,
        user: str,
        words: Sequence[str],
        lang: str,
    ) -> str:
        """`pulse start|status|pause|resume|stop|now|report ...`; returns the reply for the team."""
        words = [word for word in (clean_text(w) for w in words) if word]
        team_name = one_line(team_name)  # a group title anyone in it can edit
        verb = words[0].lower() if words else "help"
        args = list(words[1:])
        k = max(self.settings.min_responses, MIN_RESPONSES_FLOOR)
        pulse = self._pulse(messenger.channel, team)
        if verb in ("status",):
            return self._status_text(pulse, lang)
        if verb not in ("start", "pause", "resume", "stop", "now", "report", "export"):
            return t("pulse_help", lang, k=k)
        creator = pulse["created_by"] if pulse else None
        if not await messenger.is_admin(team, user, creator):
            return t("pulse_not_admin", lang)
        now = self.clock()
        if verb == "start":
            return self._start(messenger.channel, team, team_name, user, args, lang, now)
        if pulse is None:
            return t("pulse_none", lang)
        if verb == "pause":
            self._set_status(pulse["team_id"], "paused")
            return t("pulse_paused", lang)
        if verb == "stop":
            self._set_status(pulse["team_id"], "stopped")
            return t("pulse_stopped", lang)
        if verb == "resume":
            when = next_run(self._schedule(pulse), now)
            with self.storage.transaction() as db:
                db.execute(
                    "update pulses set status = 'active', next_run_at = ? where team_id = ?",
                    (iso(when), pulse["team_id"]),
                )
            return t("pulse_resumed", lang, when=self._local(when, pulse))
        if verb == "now":
            open_round = self._open_round(pulse["team_id"])
            if open_round is not None:
                deadline = parse_iso(open_round["deadline_at"])
                return t("pulse_round_open", lang, when=self._local(deadline, pulse))
            with self.storage.transaction() as db:
                db.execute(
                    "update pulses set status = 'active', next_run_at = ? where team_id = ?",
                    (iso(now), pulse["team_id"]),
                )
            await self.tick(messenger, now)
            return t("pulse_now", lang)
        reports = self.reports(messenger.channel, team)
        if not reports:
            return t("pulse_none", lang)
        model = self.service.models[pulse["model_id"]]
        return "\n\n".join(report_text(model, team_name, r.report, lang) for r in reports[-3:])

    def _start(
        self,
        channel: str,
        team: str,
        team_name: str,
        user: str,
        args: list[str],
        lang: str,
        now: datetime,
    ) -> str:
        ids = sorted(m.removesuffix(PULSE_SUFFIX) for m in self.pulse_models)
        if not args:
            return t("pulse_schedule_usage", lang)
        model_id = args[0].lower()
        if model_id + PULSE_SUFFIX not in self.pulse_models:
            return t("pulse_bad_model", lang, value=args[0], ids=", ".join(ids))
        try:
            schedule = parse_schedule(args[1:] or ["weekly"], self.settings.timezone)
        except PulseInputError as problem:
            return t(problem.key, lang, **problem.values)
        when = next_run(schedule, now)
        with self.storage.transaction() as db:
            team_id = self._team_id(db, channel, team, team_name, user)
            db.execute(
                "insert into pulses (team_id, model_id, cadence, weekday, hour, minute, timezone, "
                "status, next_run_at, lang, created_by, created_at) values "
                "(?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?) on conflict(team_id) do update set "
                "model_id = excluded.model_id, cadence = excluded.cadence, "
                "weekday = excluded.weekday, hour = excluded.hour, minute = excluded.minute, "
                "timezone = excluded.timezone, status = 'active', "
                "next_run_at = excluded.next_run_at, lang = excluded.lang",
                (
                    team_id,
                    model_id,
                    schedule.cadence,
                    schedule.weekday,
                    schedule.hour,
                    schedule.minute,
                    schedule.timezone,
                    iso(when),
                    lang,
                    user,
                    iso(now),
                ),
            )
        model = self.service.models[model_id]
        return t(
            "pulse_started",
            lang,
            model=model.name.get(lang),
            schedule=schedule.describe(lang),
            when=self._local(when, {"timezone": schedule.timezone}),
            k=max(self.settings.min_responses, MIN_RESPONSES_FLOOR),
        )

    def join(self, channel: str, team: str, team_name: str, member: str, lang: str) -> str:
        """A member opts in (Telegram, where a bot cannot list a group's members)."""
        team_name = one_line(team_name)
        with self.storage.transaction() as db:
            team_id = self._team_id(db, channel, team, team_name, None)
            db.execute(
                "insert or ignore into team_members (team_id, member, joined_at) values (?, ?, ?)",
                (team_id, member, iso(self.clock())),
            )
        return t("pulse_joined", lang, team=team_name)

    def join_prompt(self, lang: str) -> str:
        return t("pulse_join_prompt", lang, k=max(self.settings.min_responses, MIN_RESPONSES_FLOOR))

    # ---- the clock ---------------------------------------------------------------------------
    async def tick(self, messenger: TeamMessenger, now: datetime | None = None) -> None:
        """Open due rounds, send what is unsent, remind, close: each step claimed in SQLite.

        Ticks of one process run one at a time (`pulse now` and the scheduler can meet); the
        claims in SQLite keep two processes from doing the same step twice."""
        async with self._ticking:
            now = now or self.clock()
            for pulse in self._due_pulses(messenger.channel, now):
                await self._open(messenger, pulse, now)
            await self._send_pending(messenger)
            await self._remind(messenger, now)
            await self._close(messenger, now)
            await self._rechecks(messenger, now)

    async def _rechecks(self, messenger: TeamMessenger, now: datetime) -> None:
        """Personal "redo this in N months" reminders that fell due (claimed before sending)."""
        channel = messenger.channel
        for member, model_id, created in self.storage.claim_due_rechecks(channel, iso(now)):
            message = recheck_message(self.service, channel, member, model_id, created, now)
            if message is not None:
                await self._deliver(messenger, member, (message,))

    async def _open(self, messenger: TeamMessenger, pulse: dict, now: datetime) -> None:
        listed = await messenger.members(pulse["external_id"])
        members = listed if listed is not None else self._joined(pulse["team_id"])
        due = parse_iso(pulse["next_run_at"])
        schedule = self._schedule(pulse)
        following = next_run(schedule, now, previous=due)
        settings = self.settings
        with self.storage.transaction() as db:
            claimed = db.execute(
                "insert or ignore into rounds (team_id, model_id, due_at, opened_at, remind_at, "
                "deadline_at, reminded, status) values (?, ?, ?, ?, ?, ?, 0, 'open')",
                (
                    pulse["team_id"],
                    pulse["model_id"],
                    pulse["next_run_at"],
                    iso(now),
                    iso(now + timedelta(hours=settings.remind_after_hours)),
                    iso(now + timedelta(hours=settings.deadline_hours)),
                ),
            )
            db.execute(
                "update pulses set next_run_at = ? where team_id = ? and next_run_at = ?",
                (iso(following), pulse["team_id"], pulse["next_run_at"]),
            )
            if claimed.rowcount != 1:
                return  # another tick (or the run before a restart) opened this round already
            round_id = claimed.lastrowid
            for member in members:
                db.execute(
                    "insert or ignore into round_invites (round_id, member) values (?, ?)",
                    (round_id, member),
                )

    async def _send_pending(self, messenger: TeamMessenger) -> None:
        rows = self._read(
            "select i.round_id, i.member, r.model_id, r.deadline_at, t.name, t.external_id, "
            "p.timezone from round_invites i join rounds r on r.id = i.round_id "
            "join teams t on t.id = r.team_id left join pulses p on p.team_id = t.id "
            "where r.status = 'open' and i.sent_at is null and t.channel = ?",
            (messenger.channel,),
        ).fetchall()
        for round_id, member, model_id, deadline, team_name, _, timezone in rows:
            with self.storage.transaction() as db:
                # the claim: whoever marks the invitation first sends it (ticks may overlap,
                # in one process or two)
                claimed = db.execute(
                    "update round_invites set sent_at = ?, send_attempts = send_attempts + 1 "
                    "where round_id = ? and member = ? and sent_at is null",
                    (iso(self.clock()), round_id, member),
                )
            if claimed.rowcount != 1:
                continue
            pulse_id = model_id + PULSE_SUFFIX
            handled = self.service.handle(
                messenger.channel, member, Event(Kind.CHOOSE, pulse_id, direct=True)
            )
            lang = handled.user.lang
            model = self.pulse_models[pulse_id]
            assessment_id = self._open_assessment(handled.user.id, pulse_id)
            with self.storage.transaction() as db:
                db.execute(
                    "update round_invites set assessment_id = ? where round_id = ? and member = ?",
                    (assessment_id, round_id, member),
                )
            invite = t(
                "pulse_invite",
                lang,
                team=team_name or "",
                count=len(model.questions),
                model=model.name.get(lang),
                when=self._local(parse_iso(deadline), {"timezone": timezone}),
            )
            if not await self._deliver(messenger, member, (Say(invite), *handled.replies)):
                with self.storage.transaction() as db:
                    # unsent: a later tick tries again, a few times at most
                    db.execute(
                        "update round_invites set sent_at = null where round_id = ? and "
                        "member = ? and send_attempts < ?",
                        (round_id, member, MAX_SEND_ATTEMPTS),
                    )

    async def _remind(self, messenger: TeamMessenger, now: datetime) -> None:
        due = self._read(
            "select r.id, r.model_id, r.deadline_at, t.name, p.timezone from rounds r "
            "join teams t on t.id = r.team_id left join pulses p on p.team_id = t.id "
            "where r.status = 'open' and r.reminded = 0 and r.remind_at <= ? and t.channel = ?",
            (iso(now), messenger.channel),
        ).fetchall()
        for round_id, model_id, deadline, team_name, timezone in due:
            with self.storage.transaction() as db:
                claimed = db.execute(
                    "update rounds set reminded = 1 where id = ? and reminded = 0", (round_id,)
                )
                if claimed.rowcount != 1:
                    continue
                waiting = db.execute(
                    "select member from round_invites where round_id = ? and sent_at is not null "
                    "and answered_at is null",
                    (round_id,),
                ).fetchall()
                db.execute(
                    "update round_invites set reminded_at = ? where round_id = ? and "
                    "sent_at is not null and answered_at is null",
                    (iso(now), round_id),
                )
            for (member,) in waiting:
                handled = self.service.handle(
                    messenger.channel,
                    member,
                    Event(Kind.CHOOSE, model_id + PULSE_SUFFIX, direct=True),
                )
                text = t(
                    "pulse_reminder",
                    handled.user.lang,
                    team=team_name or "",
                    when=self._local(parse_iso(deadline), {"timezone": timezone}),
                )
                await self._deliver(messenger, member, (Say(text), *handled.replies))

    async def _close(self, messenger: TeamMessenger, now: datetime) -> None:
        candidates = self._read(
            "select r.id, r.team_id, r.model_id, t.external_id, t.name, "
            "coalesce(p.lang, 'en') from rounds r join teams t on t.id = r.team_id "
            "left join pulses p on p.team_id = t.id where r.status = 'open' and t.channel = ? "
            "and (r.deadline_at <= ? or not exists (select 1 from round_invites i "
            "where i.round_id = r.id and i.answered_at is null))",
            (messenger.channel, iso(now)),
        ).fetchall()
        for round_id, team_id, model_id, external_id, team_name, lang in candidates:
            model = self.service.models[model_id]
            with self.storage.transaction() as db:
                invited = db.execute(
                    "select count(*) from round_invites where round_id = ?", (round_id,)
                ).fetchone()[0]
                results = [
                    StoredResult.from_json(json.loads(detail))
                    for (detail,) in db.execute(
                        "select x.detail from round_invites i join results x "
                        "on x.assessment_id = i.assessment_id "
                        "where i.round_id = ? and i.answered_at is not null",
                        (round_id,),
                    ).fetchall()
                ]
                previous = db.execute(
                    "select median_index from rounds where team_id = ? and status = 'closed' "
                    "and median_index is not null order by closed_at desc, id desc limit 1",
                    (team_id,),
                ).fetchone()
                report = aggregate(
                    model,
                    results,
                    invited,
                    self.settings.min_responses,
                    previous[0] if previous else None,
                )
                claimed = db.execute(
                    "update rounds set status = 'closed', closed_at = ?, median_index = ?, "
                    "report = ? where id = ? and status = 'open'",
                    (iso(now), report.median_index, json.dumps(report_json(report)), round_id),
                )
                if claimed.rowcount != 1:
                    continue
            chart = None
            if not report.withheld:
                trend = self._trend(team_id)
                chart = pulse_png(model, report, trend, lang)
            text = report_text(model, team_name or "", report, lang)
            try:
                await messenger.post_team(external_id, text, chart)
            except Exception:  # the report is stored; `pulse report` shows it again
                log.exception("posting the pulse report of round %s failed", round_id)

    # ---- reading ---------------------------------------------------------------------------
    def reports(self, channel: str, team: str) -> list[TeamReport]:
        rows = self._read(
            "select r.id, r.closed_at, r.model_id, r.report from rounds r join teams t "
            "on t.id = r.team_id where t.channel = ? and t.external_id = ? and "
            "r.status = 'closed' order by r.closed_at, r.id",
            (channel, team),
        ).fetchall()
        return [
            TeamReport(rid, closed, model_id, report_from_json(json.loads(data)))
            for rid, closed, model_id, data in rows
        ]

    def _trend(self, team_id: int) -> list[tuple[str, int]]:
        rows = self._read(
            "select closed_at, median_index from rounds where team_id = ? and status = 'closed' "
            "and median_index is not null order by closed_at, id",
            (team_id,),
        ).fetchall()
        return [(closed[:10], median) for closed, median in rows]

    def _status_text(self, pulse: dict | None, lang: str) -> str:
        if pulse is None:
            return t("pulse_none", lang)
        model = self.service.models[pulse["model_id"]]
        members = self._member_count(pulse["team_id"])
        return t(
            "pulse_status",
            lang,
            model=model.name.get(lang),
            schedule=self._schedule(pulse).describe(lang),
            state=t(f"pulse_state_{pulse['status']}", lang),
            when=self._local(parse_iso(pulse["next_run_at"]), pulse),
            members=members,
        )

    def _member_count(self, team_id: int) -> int:
        """Those who joined (Telegram, where people opt in), or else those invited to the
        latest round (Slack, where the channel's people are the members when a round opens)."""
        joined = self._read(
            "select count(*) from team_members where team_id = ?", (team_id,)
        ).fetchone()[0]
        if joined:
            return joined
        return self._read(
            "select count(*) from round_invites where round_id = (select id from rounds "
            "where team_id = ? order by opened_at desc, id desc limit 1)",
            (team_id,),
        ).fetchone()[0]

    # ---- helpers ---------------------------------------------------------------------------
    def _read(self, sql: str, params: tuple = ()) -> Rows:
        """A query run to completion under the storage lock (channels write from other threads)."""
        with self.storage.reading() as db:
            cursor = db.execute(sql, params)
            return Rows(cursor.fetchall(), cursor.description)

    async def _deliver(
        self, messenger: TeamMessenger, member: str, replies: Sequence[Reply]
    ) -> bool:
        try:
            await messenger.send_dm(member, replies)
        except Exception:  # one unreachable member must not stop the round for the others
            log.exception("sending a pulse message to a member failed")
            return False
        return True

    def _pulse(self, channel: str, team: str) -> dict | None:
        row = self._read(
            "select p.*, t.external_id, t.name as team_name from pulses p join teams t "
            "on t.id = p.team_id where t.channel = ? and t.external_id = ?",
            (channel, team),
        )
        return _as_dict(row)

    def _due_pulses(self, channel: str, now: datetime) -> list[dict]:
        cursor = self._read(
            "select p.*, t.external_id, t.name as team_name from pulses p join teams t "
            "on t.id = p.team_id where t.channel = ? and p.status = 'active' "
            "and p.next_run_at <= ?",
            (channel, iso(now)),
        )
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _open_round(self, team_id: int) -> dict | None:
        cursor = self._read(
            "select * from rounds where team_id = ? and status = 'open'", (team_id,)
        )
        return _as_dict(cursor)

    def _joined(self, team_id: int) -> list[str]:
        rows = self._read(
            "select member from team_members where team_id = ? order by joined_at", (team_id,)
        ).fetchall()
        return [member for (member,) in rows]

    def _open_assessment(self, user_id: int, model_id: str) -> str | None:
        row = self._read(
            "select id from assessments where user_id = ? and model_id = ? and status = 'open' "
            "order by started_at desc limit 1",
            (user_id, model_id),
        ).fetchone()
        return row[0] if row else None

    def _set_status(self, team_id: int, status: str) -> None:
        with self.storage.transaction() as db:
            db.execute("update pulses set status = ? where team_id = ?", (status, team_id))

    @staticmethod
    def _team_id(db, channel: str, team: str, name: str | None, creator: str | None) -> int:
        db.execute(
            "insert into teams (channel, external_id, name, created_by, created_at) "
            "values (?, ?, ?, ?, ?) on conflict(channel, external_id) do update set "
            "name = coalesce(excluded.name, teams.name)",
            (channel, team, name, creator, iso(utcnow())),
        )
        return db.execute(
            "select id from teams where channel = ? and external_id = ?", (channel, team)
        ).fetchone()[0]

    @staticmethod
    def _schedule(pulse: dict) -> Schedule:
        return Schedule(
            pulse["cadence"], pulse["weekday"], pulse["hour"], pulse["minute"], pulse["timezone"]
        )

    @staticmethod
    def _local(moment: datetime, pulse: dict) -> str:
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(pulse.get("timezone") or "UTC")
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


@dataclass
class Rows:
    """Fetched rows with the cursor's description, so reading ends before the lock is let go."""

    rows: list[tuple]
    description: tuple

    def fetchall(self) -> list[tuple]:
        return self.rows

    def fetchone(self) -> tuple | None:
        return self.rows[0] if self.rows else None


def recheck_message(
    service: AssessmentService,
    channel: str,
    member: str,
    model_id: str,
    created: str,
    now: datetime,
) -> Say | None:
    """ "Time to measure again", with a button that starts the model."""
    model = service.models.get(model_id)
    if model is None:
        return None
    lang = service.language(channel, member) or "en"
    months = max(1, round((now - parse_iso(created)).days / 30))
    text = t("recheck_due", lang, model=model.name.get(lang), months=months)
    return Say(text, (Choice(t("begin_button", lang), payload_model(model_id)),))


def _as_dict(cursor) -> dict | None:
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([c[0] for c in cursor.description], row, strict=True))


def report_json(report: RoundReport) -> dict:
    return {
        "invited": report.invited,
        "answered": report.answered,
        "min_responses": report.min_responses,
        "withheld": report.withheld,
        "distribution": list(report.distribution),
        "median_index": report.median_index,
        "pillar_averages": [list(p) for p in report.pillar_averages],
        "change": report.change,
        "top_actions": [a.model_dump() for a in report.top_actions],
    }


def report_from_json(data: dict) -> RoundReport:
    from flows.model_schema import Text

    return RoundReport(
        invited=data["invited"],
        answered=data["answered"],
        min_responses=data["min_responses"],
        withheld=data["withheld"],
        distribution=tuple(data.get("distribution") or ()),
        median_index=data.get("median_index"),
        pillar_averages=tuple((p, v) for p, v in data.get("pillar_averages") or ()),
        change=data.get("change"),
        top_actions=tuple(Text(**a) for a in data.get("top_actions") or ()),
    )


def pulse_settings(settings) -> PulseSettings:
    """From bot.settings.Settings; a K below 3 stops start-up with the reason."""
    return PulseSettings(
        min_responses=settings.maturity_pulse_min_responses,
        deadline_hours=settings.maturity_pulse_deadline_hours,
        remind_after_hours=settings.maturity_pulse_remind_hours,
        timezone=settings.maturity_timezone,
    )


class PulseScheduler:
    """Runs `PulseService.tick` on APScheduler's asyncio scheduler.

    The first run is at start-up, so a round that fell due while the bot was down runs then
    (once: the round row is the claim); after that every `interval` seconds. Rounds therefore
    open within `interval` of their time; coalescing keeps a slow tick from piling up.
    """

    def __init__(self, pulse: PulseService, messenger: TeamMessenger, interval: float = 30) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self.pulse = pulse
        self.messenger = messenger
        self.interval = interval
        self.scheduler = AsyncIOScheduler(timezone=UTC)

    async def _tick(self) -> None:
        try:
            await self.pulse.tick(self.messenger)
        except Exception:  # a bad tick must not stop the schedule; the next one retries
            log.exception("pulse tick failed")

    def start(self) -> None:
        """Call from inside the running event loop."""
        self.scheduler.add_job(
            self._tick,
            "interval",
            seconds=self.interval,
            next_run_time=utcnow(),
            coalesce=True,
            max_instances=1,
            id="pulse-tick",
        )
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
