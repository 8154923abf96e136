"""Pulse rounds with the clock under control, through a collecting messenger (a channel double)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.pulse.service import PulseService, PulseSettings
from bot.service import AssessmentService
from bot.storage import Storage
from flows.events import from_payload
from flows.pulse import next_run, parse_schedule
from flows.pulse_commands import pulse_text
from flows.replies import Ask, ResultCard, Say

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday


class Messenger:
    """Records what the pulse sends, like the fake platform servers do for the channel tests."""

    channel = "test"

    def __init__(self, members, admins=("lead",)):
        self.team_members = list(members)
        self.admins = set(admins)
        self.dms: dict[str, list] = {}
        self.posts: list[tuple[str, str, bytes | None]] = []

    async def members(self, team):
        return list(self.team_members)

    async def is_admin(self, team, user, creator):
        return user in self.admins

    async def send_dm(self, member, replies):
        self.dms.setdefault(member, []).append(list(replies))

    async def post_team(self, team, text, chart_png):
        self.posts.append((team, text, chart_png))


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def run(coro):
    return asyncio.run(coro)


def said(coro) -> str:
    """A pulse command's typed result, in the core's English words."""
    return pulse_text(run(coro), "en")


@pytest.fixture
def world(tmp_path, models, scan):
    clock = Clock(T0)
    storage = Storage(tmp_path / "pulse.db")
    service = AssessmentService(storage, models, scan=scan)
    pulse = PulseService(service, PulseSettings(min_responses=5), clock=clock)
    yield clock, service, pulse, tmp_path
    storage.close()


def answer_all(service, messenger, member, choice=0):
    """The member answers their pulse DM by pressing buttons, as in a chat."""
    replies = messenger.dms[member][-1]
    while True:
        ask = next((r for r in reversed(replies) if isinstance(r, Ask)), None)
        if ask is None:
            return next(r for r in replies if isinstance(r, ResultCard))
        replies = service.handle("test", member, from_payload(ask.choices[choice].payload)).replies


def test_schedule_parsing_and_next_slot():
    weekly = parse_schedule(["weekly", "tue", "10:00"], "Europe/Amsterdam")
    assert next_run(weekly, T0) == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    monthly = parse_schedule(["maandelijks", "ma", "09:00"], "Europe/Amsterdam")
    assert next_run(monthly, T0) == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    biweekly = parse_schedule(["biweekly"], "Europe/Amsterdam")
    previous = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert next_run(biweekly, T0, previous=previous) == previous + timedelta(days=14)


def test_non_admin_cannot_start_or_export(world):
    clock, service, pulse, _ = world
    team = Messenger([f"m{i}" for i in range(6)])
    reply = said(pulse.command(team, "C1", "Team", "m1", ["start", "groeimodel", "weekly"], "en"))
    assert "Only an admin" in reply
    assert service.storage.db.execute("select count(*) from pulses").fetchone()[0] == 0
    run(pulse.command(team, "C1", "Team", "lead", ["start", "groeimodel", "weekly"], "en"))
    assert "Only an admin" in said(pulse.command(team, "C1", "Team", "m1", ["report"], "en"))


def test_typed_pulse_words_and_team_names_are_cleaned(world):
    clock, service, pulse, _ = world
    team = Messenger([f"m{i}" for i in range(6)])
    words = ["start\x1b[31m", "groeimodel\u202e", "\x00", "weekly"]
    reply = said(pulse.command(team, "C1", "Team\u202e\x1b]0;evil\x07 A", "lead", words, "en"))
    assert "Pulse started" in reply
    name = service.storage.db.execute("select name from teams").fetchone()[0]
    assert name == "Team A"


def full_round(world, answering: int, members: int = 6):
    clock, service, pulse, _ = world
    team = Messenger([f"m{i}" for i in range(members)])
    started = said(
        pulse.command(
            team, "C1", "Team A", "lead", ["start", "groeimodel", "weekly", "tue", "10:00"], "en"
        )
    )
    assert "Pulse started" in started
    run(pulse.tick(team))  # before the due time: nothing happens
    assert team.dms == {}
    clock.now = datetime(2026, 11, 24, 9, 0, 30, tzinfo=UTC)
    run(pulse.tick(team))
    assert sorted(team.dms) == [f"m{i}" for i in range(members)]
    for i in range(answering):
        answer_all(service, team, f"m{i}", choice=1)
    clock.now += timedelta(hours=25)
    run(pulse.tick(team))
    reminded = {m for m, batches in team.dms.items() if len(batches) == 2}
    assert reminded == {f"m{i}" for i in range(answering, members)}
    assert team.posts == []
    clock.now += timedelta(hours=24)
    run(pulse.tick(team))
    return team, service, pulse


def test_withheld_below_k_shows_only_the_count(world, models):
    team, service, pulse = full_round(world, answering=4)
    assert len(team.posts) == 1
    _, text, chart = team.posts[0]
    assert "4 of 6 members answered" in text
    assert "from 5 answers on" in text
    assert chart is None
    for phase in models["groeimodel"].phases:
        assert phase.name.en not in text
    stored = pulse.reports("test", "C1")[0].report
    assert stored.withheld and stored.distribution == () and stored.median_index is None


def test_report_with_median_distribution_and_chart(world, models):
    team, service, pulse = full_round(world, answering=5)
    _, text, chart = team.posts[0]
    model = models["groeimodel"]
    assert "5 of 6 members answered (83%)" in text
    assert f"(median): {model.phases[1].name.en}" in text
    assert f"{model.phases[1].name.en}: 5" in text
    assert chart.startswith(b"\x89PNG")
    report = pulse.reports("test", "C1")[0].report
    assert report.distribution == (0, 5, 0, 0)
    assert len(report.top_actions) == 3


def test_round_closes_early_when_everyone_answered(world):
    clock, service, pulse, _ = world
    team = Messenger([f"m{i}" for i in range(5)])
    run(pulse.command(team, "C1", "T", "lead", ["start", "bmm", "weekly", "mon", "14:00"], "en"))
    clock.now = T0 + timedelta(hours=1, seconds=5)
    run(pulse.tick(team))
    for i in range(5):
        answer_all(service, team, f"m{i}", choice=-1)
    run(pulse.tick(team))
    assert len(team.posts) == 1 and "Average level per pillar" in team.posts[0][1]


def test_restart_between_scheduling_and_due_time_runs_the_round_once(world, models, scan):
    clock, service, pulse, tmp_path = world
    team = Messenger([f"m{i}" for i in range(6)])
    run(pulse.command(team, "C1", "T", "lead", ["start", "groeimodel", "weekly", "tue"], "en"))
    service.storage.close()
    # the bot was down over the due time; two processes come back and tick
    clock.now = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    for _ in range(2):
        again = AssessmentService(Storage(tmp_path / "pulse.db"), models, scan=scan)
        revived = PulseService(again, PulseSettings(min_responses=5), clock=clock)
        run(revived.tick(team))
        run(revived.tick(team))
    rounds = again.storage.db.execute("select count(*) from rounds").fetchone()[0]
    assert rounds == 1
    assert all(len(batches) == 1 for batches in team.dms.values()) and len(team.dms) == 6
    due = again.storage.db.execute("select next_run_at from pulses").fetchone()[0]
    assert due.startswith("2026-12-01")


def test_k_is_never_below_three():
    with pytest.raises(ValueError, match="never accepted below 3"):
        PulseSettings(min_responses=2)


def test_pulse_sets_reach_first_and_last_phase(models):
    from flows.pulse import pulse_models
    from flows.scoring import score

    for model in pulse_models(models).values():
        assert 4 <= len(model.questions) <= 6, model.id
        least = {q.id: q.options[0].id for q in model.questions}
        most = {q.id: q.options[-1].id for q in model.questions}
        assert score(model, least).phase_index == 0
        assert score(model, most).phase_index == len(model.phases) - 1
        if model.kind == "pillars":
            assert {q.pillar for q in model.questions} == {p.id for p in model.pillars}


def test_pulse_dm_text_is_anonymous_and_bilingual(world):
    clock, service, pulse, _ = world
    team = Messenger(["m0"])
    service.set_language("test", "m0", "nl")
    run(pulse.command(team, "C1", "Team", "lead", ["start", "groeimodel", "weekly"], "nl"))
    clock.now = T0 + timedelta(days=8)
    run(pulse.tick(team))
    first = team.dms["m0"][0][0]
    assert isinstance(first, Say) and "anoniem" in first.text


def test_personal_recheck_reminder_survives_a_restart(world, models, scan):
    clock, service, pulse, tmp_path = world
    from tests.helpers import Chat

    chat = Chat(service, user="solo", channel="test")
    chat.start("groeimodel")
    for _ in models["groeimodel"].questions:
        chat.type("1")
    remind = next(c for c in chat.result.follow_up if c.payload.endswith(":3"))
    chat.press(remind.payload)
    assert "in 3 month(s)" in chat.texts()
    service.storage.close()
    again = AssessmentService(Storage(tmp_path / "pulse.db"), models, scan=scan)
    revived = PulseService(again, PulseSettings(), clock=clock)
    team = Messenger([])
    run(revived.tick(team, now=datetime.now(UTC) + timedelta(days=80)))
    assert "solo" not in team.dms
    run(revived.tick(team, now=datetime.now(UTC) + timedelta(days=91)))
    run(revived.tick(team, now=datetime.now(UTC) + timedelta(days=92)))
    assert len(team.dms["solo"]) == 1
    message = team.dms["solo"][0][0]
    assert "redo" in message.text or "Time for a new measurement" in message.text
    assert message.choices[0].payload == "m:groeimodel"


def test_pulse_report_exports_aggregates_only(world, capsys, tmp_path):
    team, service, pulse = full_round(world, answering=5)
    from bot.cli import main

    db = str(world[3] / "pulse.db")
    base = ["pulse", "report", "--team", "C1", "--channel", "test", "--db", db]
    assert main([*base, "--format", "json"]) == 0
    rows = __import__("json").loads(capsys.readouterr().out)
    assert rows[0]["answered"] == 5 and rows[0]["invited"] == 6
    assert rows[0]["distribution"] == [0, 5, 0, 0]
    assert main([*base, "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert "answered" in out.splitlines()[0]
    for member in ("m0", "m1", "m5"):
        assert member not in out
    png = tmp_path / "p.png"
    assert main([*base, "--format", "png", "--out", str(png)]) == 0
    assert png.read_bytes().startswith(b"\x89PNG")


def test_scheduler_runs_a_round_that_fell_due_while_down(world):
    clock, service, pulse, _ = world
    team = Messenger([f"m{i}" for i in range(3)])
    run(pulse.command(team, "C1", "T", "lead", ["start", "groeimodel", "weekly"], "en"))
    with service.storage.transaction() as db:
        db.execute("update pulses set next_run_at = '2000-01-01T00:00:00+00:00'")
    clock.now = datetime.now(UTC)
    from bot.pulse.scheduler import PulseScheduler

    async def scenario():
        scheduler = PulseScheduler(lambda: pulse.tick(team), interval=3600)
        scheduler.start()
        for _ in range(200):
            if len(team.dms) == 3:
                break
            await asyncio.sleep(0.05)
        scheduler.shutdown()

    run(scenario())
    assert len(team.dms) == 3
    assert service.storage.db.execute("select count(*) from rounds").fetchone()[0] == 1


def test_console_shows_a_due_recheck_at_the_next_start(world, models):
    import io

    from bot.console import ConsoleChannel

    clock, service, pulse, tmp_path = world
    user = service.storage.user("console", "ann", "en")
    with service.storage.transaction():
        service.storage.add_recheck(user, "altimeter", "2000-01-01T00:00:00+00:00")
    out = io.StringIO()
    ConsoleChannel(service, "ann", tmp_path, out=out).run(io.StringIO(""))
    assert "Time for a new measurement" in out.getvalue()
    assert models["altimeter"].name.en in out.getvalue()
    again = io.StringIO()
    ConsoleChannel(service, "ann", tmp_path, out=again).run(io.StringIO(""))
    assert "Time for a new measurement" not in again.getvalue()


class FlakyMessenger(Messenger):
    """A member whose first DM fails (network, blocked for a while)."""

    def __init__(self, members, failing):
        super().__init__(members)
        self.failing = set(failing)

    async def send_dm(self, member, replies):
        if member in self.failing:
            self.failing.discard(member)
            raise ConnectionError("unreachable")
        await super().send_dm(member, replies)


def test_overlapping_ticks_send_each_invitation_once_and_failed_ones_again(world):
    clock, service, pulse, _ = world
    team = FlakyMessenger([f"m{i}" for i in range(4)], failing={"m2"})
    run(pulse.command(team, "C1", "T", "lead", ["start", "groeimodel", "weekly", "tue"], "en"))
    clock.now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

    async def overlapping():
        await asyncio.gather(pulse.tick(team), pulse.tick(team), pulse.tick(team))

    run(pulse.tick(team))
    assert sorted(team.dms) == ["m0", "m1", "m3"]  # m2's send failed
    run(overlapping())  # the failed invitation goes out again, once, however ticks overlap
    run(pulse.tick(team))
    assert sorted(team.dms) == ["m0", "m1", "m2", "m3"]
    assert all(len(batches) == 1 for batches in team.dms.values())


def test_commands_answer_with_typed_results(world):
    from flows import pulse_commands as pc

    clock, service, pulse, _ = world
    team = Messenger([f"m{i}" for i in range(6)])

    def command(user, *words):
        return run(pulse.command(team, "C1", "Team", user, list(words), "en"))

    assert command("m1", "dance") == pc.PulseHelp(5)
    assert command("m1", "status") == pc.NoPulse()
    assert command("m1", "start", "groeimodel") == pc.NotAdmin()
    assert command("lead", "start") == pc.ScheduleUsage()
    assert isinstance(command("lead", "start", "nope"), pc.UnknownModel)
    assert isinstance(command("lead", "start", "groeimodel", "hourly"), pc.BadSchedule)
    started = command("lead", "start", "groeimodel", "weekly", "tue", "10:00")
    assert isinstance(started, pc.Started) and started.schedule.weekday == 1
    assert started.first_round == "2026-11-24 10:00" and started.min_responses == 5
    status = command("m1", "status")
    assert isinstance(status, pc.PulseStatus) and status.state == "active"
    assert command("lead", "pause") == pc.Paused()
    assert isinstance(command("lead", "resume"), pc.Resumed)
    assert command("lead", "now") == pc.RoundStarted()
    assert isinstance(command("lead", "now"), pc.RoundRunning)
    assert command("lead", "export") == pc.NoPulse()  # no closed round yet: nothing to report
    assert command("lead", "stop") == pc.Stopped()
    for result in (started, status, pc.NotAdmin(), pc.PulseHelp(5)):
        for lang in ("nl", "en"):
            assert pc.pulse_text(result, lang)  # every result has words in both languages
