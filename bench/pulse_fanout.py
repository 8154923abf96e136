"""Benchmark: one pulse round fanned out to a 1,000-member Slack channel, and the team report
over 100,000 stored answers.

Part 1 runs the real path (PulseService.tick -> SlackTeamMessenger -> paced WebClient) against
the fake Slack Web API from tests/fake_slack.py on 127.0.0.1, which enforces Slack's rate limits
(HTTP 429 with Retry-After beyond them), for two rounds: the first (every member's DM opened,
conversations.open is Tier 3, about 50 a minute) and the next week's from a new process (the DM
channels are stored, so a member costs one chat.postMessage: the invitation, the model's intro
and the first question are one message). Slack's real limits would make the first round of
1,000 members take about 20 minutes, so both the pacing and the fake's limits are scaled by
`--scale` (default 25). Printed per round: the calls (and per member), 429s, the members whose
invitation arrived with its question, the time, the rate-limit minimum and their ratio, then
the speed-up, and each round projected onto Slack's own limits for this team and for 1,000
members (goal: the next round at least 4x faster). A good run has every invitation delivered,
no 429, and a ratio close to 1.

Part 2 fills a temporary database directly (1,000 members x 18 rounds x 6 answers = 108,000
answers, with their assessments, results and invitations; 17 rounds closed, the last one due to
close), then times closing that round of 1,000 answers (the query, the aggregate, the stored
report, the chart, the post), the stored reports read back (`PulseService.reports`) and
`maturity-bot pulse report --format json`.

    python bench/pulse_fanout.py [--members 1000] [--scale 25] [--rounds 17]

Never run as a test; it stops by itself (a few minutes at most with the defaults).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import logging
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.charts import pulse_png  # noqa: E402
from bot.pulse.service import PulseService, PulseSettings, iso, report_json  # noqa: E402
from bot.service import AssessmentService  # noqa: E402
from bot.slack.app import SlackChannel  # noqa: E402
from bot.slack.pacing import PacedClient, Pacer, Pacing  # noqa: E402
from bot.slack.pulse import SlackTeamMessenger  # noqa: E402
from bot.slack.web_client import make_client  # noqa: E402
from bot.storage import Storage  # noqa: E402
from flows.model_loader import load_models, load_scan  # noqa: E402
from flows.pulse import (  # noqa: E402
    aggregate,
    pulse_chart,
    pulse_models,
)
from flows.results import StoredResult, stored_result  # noqa: E402
from flows.scoring import score  # noqa: E402
from tests.fake_slack import BOT_TOKEN, TEAM_ID, Call, FakeSlack  # noqa: E402

TEAM = "C0BENCH"
MODEL = "groeimodel"
START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)  # a Monday


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


# ---- part 1: the fan-out -------------------------------------------------------------------
SENDS = ("conversations.open", "chat.postMessage")
"""The calls a member costs in a round: their DM opened (first round only), the invitation."""


@dataclass
class Round:
    """What one round cost, read from the fake's record of the calls."""

    name: str
    seconds: float
    calls: list[Call]
    members: int

    @property
    def accepted(self) -> Counter:
        return Counter(c.method for c in self.calls if c.status == 200)

    @property
    def refused(self) -> Counter:
        return Counter(c.method for c in self.calls if c.status == 429)

    def per_member(self, method: str) -> float:
        return self.accepted[method] / self.members

    def reached(self) -> int:
        """Members whose invitation arrived with the first question's buttons in it."""
        return len(
            {
                c.response.get("channel")
                for c in self.calls
                if c.method == "chat.postMessage"
                and c.ok
                and str(c.params.get("text", "")).startswith("Pulse for")
                and any(b.get("block_id") == "answers" for b in c.blocks)
            }
        )

    def minimum(self, pacing: Pacing) -> float:
        return pacing.minimum_seconds(
            {m: n for m, n in self.accepted.items() if m in pacing.per_method}
        )


def fan_out(members: int, scale: float, models, scan, workdir: Path) -> None:
    pacing = Pacing()
    scaled = pacing.scaled(scale)
    with FakeSlack() as fake:
        users = [f"U{n:05d}" for n in range(members)]
        for user in users:
            fake.add_user(user)
        fake.add_user("UBOTX", is_bot=True)
        fake.add_channel(TEAM, [*users, "UBOTX"], creator=users[0])
        for method, rate in scaled.per_method.items():
            # one call of margin, like Slack's "50+ per minute": absorbs the network's jitter
            fake.limit(method, rate.per_second, rate.burst + 1)

        storage = Storage(workdir / "fanout.db")
        try:
            service = AssessmentService(storage, models, scan=scan)
            clock = Clock(START)
            pulse = PulseService(service, PulseSettings(), clock=clock)
            client = make_client(BOT_TOKEN, fake.api_url)

            def messenger() -> SlackTeamMessenger:
                """A new process's messenger: nothing cached in memory, its own pacer."""
                paced = PacedClient.like(client, Pacer(scaled))
                return SlackTeamMessenger(paced, service, SlackChannel(service))

            def timed_round(name: str, at: datetime) -> Round:
                clock.now = at
                mark = fake.mark()
                began = time.perf_counter()
                asyncio.run(pulse.tick(messenger(), at))
                seconds = time.perf_counter() - began
                return Round(name, seconds, fake.calls[mark : fake.mark()], members)

            words = ["start", MODEL, "weekly", "tue", "10:00"]
            asyncio.run(
                pulse.command(messenger(), TEAM, "#bench", f"{TEAM_ID}:{users[0]}", words, "en")
            )
            first = timed_round("first", START + timedelta(days=1))
            # the first round's reminder and close, then the next week's round from a new
            # process: the DM channels are stored, so only the invitations are sent
            for later in (timedelta(days=2, hours=1), timedelta(days=3, hours=1)):
                clock.now = START + later
                asyncio.run(pulse.tick(messenger(), clock.now))
            following = timed_round("next", START + timedelta(days=8))
        finally:
            storage.close()
    report(first, following, scaled, pacing, scale)


def report(first: Round, following: Round, scaled: Pacing, pacing: Pacing, scale: float) -> None:
    members = first.members
    rounds = (first, following)
    print(f"fan-out to {members} members (limits x{scale:g}, enforced by the fake Slack):")
    methods = sorted(set(first.accepted) | set(following.accepted))
    print(f"  {'Web API calls':<32} {'first round':>14} {'next round':>14}   limit (scaled)")
    for method in methods:
        rate = scaled.per_method.get(method)
        limit = f"{rate.per_second:.1f}/s, burst {rate.burst}" if rate else "not paced"
        counts = "".join(f"{r.accepted[method]:>14}" for r in rounds)
        print(f"  {method:<32} {counts}   {limit}")
    for method in SENDS:
        each = "".join(f"{r.per_member(method):>14.2f}" for r in rounds)
        print(f"  {method + ' per member':<32} {each}")
    refused = "".join(f"{sum(r.refused.values()):>14}" for r in rounds)
    print(f"  {'HTTP 429 answers':<32} {refused}")
    reached = "".join(f"{f'{r.reached()} of {members}':>14}" for r in rounds)
    print(f"  {'invitation with its question':<32} {reached}")
    times = "".join(f"{f'{r.seconds:.1f} s':>14}" for r in rounds)
    print(f"  {'time':<32} {times}")
    minima = "".join(f"{f'{r.minimum(scaled):.1f} s':>14}" for r in rounds)
    print(f"  {'rate-limit minimum':<32} {minima}")
    ratios = "".join(f"{r.seconds / max(r.minimum(scaled), 1e-9):>14.2f}" for r in rounds)
    print(f"  {'time / minimum':<32} {ratios}")
    print(f"  the next round took {following.seconds:.1f} s against {first.seconds:.1f} s: "
          f"{first.seconds / following.seconds:.1f}x faster")  # fmt: skip
    # at Slack's own limits the pacing, not the bot, sets the time: each round's calls per
    # member at Slack's real rates
    for size in sorted({members, 1000}):
        first_min, first_by = projection(first, pacing, size)
        next_min, next_by = projection(following, pacing, size)
        print(f"  at Slack's own limits, {size:,} members: first round at least "
              f"{first_min / 60:.1f} min ({first_by}), next round {next_min / 60:.1f} min "
              f"({next_by}): {first_min / max(next_min, 1e-9):.1f}x")  # fmt: skip


def projection(run: Round, pacing: Pacing, members: int) -> tuple[float, str]:
    """The least time `run`'s calls per member take for `members` at `pacing`'s rates, and the
    method that sets it."""
    calls = {m: round(run.per_member(m) * members) for m in run.accepted if m in pacing.per_method}
    slowest = max(calls, key=lambda m: pacing.minimum_seconds({m: calls[m]}))
    return pacing.minimum_seconds(calls), slowest


# ---- part 2: the team report over many stored answers ---------------------------------------
def fill(storage: Storage, models, members: int, rounds: int, seed: int) -> int:
    """Members, closed rounds and their answers written straight into the schema."""
    rng = random.Random(seed)
    model = pulse_models(models)[MODEL + "_pulse"]
    base = models[MODEL]
    db = storage.db
    stamp = iso(START)
    answers = 0
    with storage.transaction():
        db.execute(
            "insert into teams (channel, external_id, name, created_by, created_at) "
            "values ('slack', ?, '#bench', 'bench', ?)",
            (TEAM, stamp),
        )
        team_id = db.execute("select id from teams").fetchone()[0]
        db.execute(
            "insert into pulses (team_id, model_id, cadence, weekday, hour, minute, timezone, "
            "status, next_run_at, lang, created_by, created_at) values "
            "(?, ?, 'weekly', 1, 10, 0, 'Europe/Amsterdam', 'active', ?, 'en', 'bench', ?)",
            (team_id, MODEL, iso(START + timedelta(days=3650)), stamp),
        )
        db.conn.executemany(
            "insert into users (channel, external_id, lang, created_at) "
            "values ('slack', ?, 'en', ?)",
            [(f"{TEAM_ID}:U{n:05d}", stamp) for n in range(members)],
        )
        user_ids = [row[0] for row in db.execute("select id from users order by id")]
        previous = None
        for number in range(rounds + 1):
            due = START + timedelta(weeks=number)
            db.execute(
                "insert into rounds (team_id, model_id, due_at, opened_at, remind_at, "
                "deadline_at, reminded, status) values (?, ?, ?, ?, ?, ?, 1, 'open')",
                (team_id, MODEL, iso(due), iso(due), iso(due + timedelta(hours=24)),
                 iso(due + timedelta(hours=48))),
            )  # fmt: skip
            round_id = db.execute("select max(id) from rounds").fetchone()[0]
            level = min(len(model.phases) - 1, number * len(model.phases) // (rounds + 1))
            results = []
            for n, user_id in enumerate(user_ids):
                assessment = f"b{number:03d}-{n:05d}"
                chosen = {
                    q.id: q.options[
                        max(0, min(len(q.options) - 1, level + rng.choice((-1, 0, 0, 1))))
                    ].id
                    for q in model.questions
                }
                result = stored_result(model, score(model, chosen), chosen)
                results.append(result)
                at = iso(due + timedelta(minutes=n % 600))
                db.execute(
                    "insert into assessments (id, user_id, model_id, status, started_at, "
                    "finished_at) values (?, ?, ?, 'finished', ?, ?)",
                    (assessment, user_id, model.id, at, at),
                )
                db.conn.executemany(
                    "insert into answers (assessment_id, question_id, option_id, answered_at) "
                    "values (?, ?, ?, ?)",
                    [(assessment, q, o, at) for q, o in chosen.items()],
                )
                answers += len(chosen)
                db.execute(
                    "insert into results (assessment_id, user_id, model_id, phase_id, "
                    "pillar_levels, detail, created_at) values (?, ?, ?, ?, ?, ?, ?)",
                    (assessment, user_id, model.id, result.phase_id,
                     json.dumps(result.pillar_levels), json.dumps(result.to_json()), at),
                )  # fmt: skip
                db.execute(
                    "insert into round_invites (round_id, member, assessment_id, sent_at, "
                    "answered_at) values (?, ?, ?, ?, ?)",
                    (round_id, f"{TEAM_ID}:U{n:05d}", assessment, iso(due), at),
                )
            if number == rounds:
                break  # the last round stays open: the benchmark closes it
            report = aggregate(base, results, members, 5, previous)
            previous = report.median_index
            db.execute(
                "update rounds set status = 'closed', closed_at = ?, median_index = ?, "
                "report = ? where id = ?",
                (iso(due + timedelta(hours=48)), report.median_index,
                 json.dumps(report_json(report)), round_id),
            )  # fmt: skip
    return answers


def report_queries(members: int, rounds: int, models, scan, workdir: Path) -> None:
    path = workdir / "report.db"
    storage = Storage(path)
    began = time.perf_counter()
    answers = fill(storage, models, members, rounds, seed=7)
    print(
        f"\nteam report over {answers:,} stored answers ({members} members x {rounds + 1} rounds; "
        f"filled in {time.perf_counter() - began:.1f} s):"
    )
    try:
        service = AssessmentService(storage, models, scan=scan)
        due = START + timedelta(weeks=rounds, hours=49)
        pulse = PulseService(service, PulseSettings(), clock=Clock(due))
        warm = pulse.reports("slack", TEAM)[-1]
        # matplotlib's first figure is slow
        pulse_png(pulse_chart(models[MODEL], warm.report, [], "en"))
        with FakeSlack() as fake:
            client = make_client(BOT_TOKEN, fake.api_url)
            messenger = SlackTeamMessenger(client, service, SlackChannel(service))
            began = time.perf_counter()
            asyncio.run(pulse.tick(messenger, due))
            closing = time.perf_counter() - began
            [post] = fake.calls_to("chat.postMessage")
        reports = pulse.reports("slack", TEAM)
        assert len(reports) == rounds + 1 and f"{members} of {members}" in post.params["text"]
        last = reports[-1]
        began = time.perf_counter()
        with storage.reading() as db:  # the query a round's report is built on
            rows = db.execute(
                "select x.detail from round_invites i join results x "
                "on x.assessment_id = i.assessment_id "
                "where i.round_id = ? and i.answered_at is not null",
                (last.round_id,),
            ).fetchall()
        results = [StoredResult.from_json(json.loads(detail)) for (detail,) in rows]
        aggregate(models[MODEL], results, members, 5)
        query = time.perf_counter() - began
        trend = [(r.closed_at[:10], r.report.median_index) for r in reports]
        began = time.perf_counter()
        pulse_png(pulse_chart(models[MODEL], last.report, trend, "en"))
        chart = time.perf_counter() - began
        print(f"  closing a round of {members} answers (query, aggregate, store, chart, post): "
              f"{closing * 1000:.0f} ms")  # fmt: skip
        print(f"    of which the query and aggregate {query * 1000:.0f} ms, "
              f"a chart alone {chart * 1000:.0f} ms")  # fmt: skip
        began = time.perf_counter()
        for _ in range(20):
            pulse.reports("slack", TEAM)
        each = (time.perf_counter() - began) / 20
        print(f"  reading the team's {rounds + 1} stored reports: {each * 1000:.1f} ms")
    finally:
        storage.close()

    from bot.cli import main

    began = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = main(["pulse", "report", "--team", TEAM, "--format", "json", "--db", str(path)])
    assert code == 0 and len(json.loads(out.getvalue())) == rounds + 1
    print(f"  maturity-bot pulse report --format json (start-up included): "
          f"{(time.perf_counter() - began) * 1000:.0f} ms")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--scale", type=float, default=25.0, help="Slack's limits times this")
    parser.add_argument("--rounds", type=int, default=17, help="closed rounds before the last")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    models = load_models()
    scan = load_scan(models)
    with tempfile.TemporaryDirectory() as workdir:
        fan_out(args.members, args.scale, models, scan, Path(workdir))
        report_queries(args.members, args.rounds, models, scan, Path(workdir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
