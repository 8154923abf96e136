"""Several workers, one database, one pulse scheduler (issue 13), with real processes: the real
`maturity-bot slack --http` (and `telegram --webhook`) as subprocesses against the fake platform
servers, on a real PostgreSQL server (tests/postgres_server.py) and on SQLite.

- a whole Slack assessment whose requests alternate between two worker processes: every answer
  stored once, the result shown, and each worker stored some of the answers;
- a pulse round with two workers: one runs the scheduler (its /readyz says so, it holds the
  lease), the round happens once and every member is invited once; the members answer through
  both workers, and the last answer closes the round with one report, whichever worker got it;
- the scheduler's worker killed with SIGKILL in the middle of a round: the other takes the
  lease over once it runs out and finishes the round, nobody skipped, nobody invited twice;
- `--workers 2` on one port, on SQLite (WAL) for Slack and through the Telegram webhook;
- `--workers` checked (one line, exit 2), refused for Telegram polling and Slack Socket Mode.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.cli import main
from bot.storage import Storage
from bot.storage.pulses import PulseStore
from tests.fake_slack import BOT_TOKEN, TEAM_ID, FakeSlack, Message, SlackSender
from tests.test_pulse_crash import MEMBERS, invitations
from tests.test_slack_pulse import TEAM, free_port, seed_due_pulse

SECRET = "workers-signing-secret"
ROOT = Path(__file__).resolve().parent.parent
LEASE_NAME = "pulse-scheduler"
MODEL = "groeimodel"


class Worker:
    """One `maturity-bot slack --http` command, started, asked and stopped (or killed) as an
    operator, a load balancer or a crash would."""

    def __init__(self, fake: FakeSlack, db: str, workdir: Path, **env: str) -> None:
        self.port = free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MATURITY_"))},
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "MATURITY_DB": db,
            "PYTHONPATH": str(ROOT),
            **env,
        }
        self.workdir = workdir
        self.fake = fake
        self.process: subprocess.Popen[str] | None = None
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=10)
        self.send = SlackSender(f"http://127.0.0.1:{self.port}/slack/events", SECRET, fake)
        self.output = ""

    def start(self, *args: str) -> Worker:
        command = [sys.executable, "-m", "bot", "slack", "--http", "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*command, *args],
            cwd=self.workdir,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        return self

    def wait_ready(self) -> Worker:
        deadline = time.monotonic() + 60
        while True:
            assert self.process is not None and self.process.poll() is None, self.stop()
            try:
                if self.http.get("/readyz").status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the worker did not become ready"
            time.sleep(0.05)

    def ready(self) -> dict[str, str]:
        return self.http.get("/readyz").json()

    def kill(self) -> None:
        assert self.process is not None and self.process.poll() is None, "it died by itself"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.output = self.process.stderr.read() if self.process.stderr else ""

    def stop(self) -> str:
        """SIGTERM, as a service manager stops it; its log."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.output = self.process.communicate(timeout=60)[1]
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.output = self.process.communicate()[1]
        self.http.close()
        self.send.close()
        return self.output


@pytest.fixture
def fake():
    with FakeSlack() as server:
        for user in MEMBERS:
            server.add_user(user)
        server.add_channel(TEAM, MEMBERS, creator="U1")
        yield server


def rows(target: str, sql: str, *params: Any) -> list[tuple]:
    storage = Storage(target)
    try:
        with storage.reading():
            return [tuple(row) for row in storage.execute(sql, params).fetchall()]
    finally:
        storage.close()


def wait_until(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(0.05)


# ---- a complete assessment across two workers ------------------------------------------------
def is_question(call) -> bool:
    return any(b.get("block_id") == "answers" for b in call.blocks)


def is_result(call) -> bool:
    return bool(call.blocks) and call.blocks[0].get("type") == "header"


def press_first_answer(sender: SlackSender, user: str, message: Message) -> httpx.Response:
    answers = next(b for b in message.blocks if b.get("block_id") == "answers")
    element = answers["elements"][0]
    action = {"action_id": element["action_id"], "block_id": "answers", "type": element["type"]}
    if element["type"] == "static_select":
        action["selected_option"] = element["options"][0]
    else:
        action["value"], action["text"] = element["value"], element["text"]
    return sender.action(user, action, message=message)


def take_assessment(fake: FakeSlack, senders: list[Callable[[], SlackSender]], questions: int):
    """`/maturity start` and every answer, each request through the next of `senders` in turn
    (a load balancer's round robin); returns the result's chat.postMessage."""
    user = "U77"
    turn = 0

    def next_sender() -> SlackSender:
        nonlocal turn
        turn += 1
        return senders[(turn - 1) % len(senders)]()

    mark = fake.mark()
    assert next_sender().command(f"start {MODEL}", user).status_code == 200
    for _ in range(questions):
        call = fake.wait_for(
            "chat.postMessage",
            lambda c: is_question(c) and c.response.get("channel") == f"D{user}",
            after=mark,
            timeout=30,
        )
        mark = fake.mark()
        assert press_first_answer(next_sender(), user, fake.posted(call)).status_code == 200
    return fake.wait_for("chat.postMessage", is_result, after=mark, timeout=30)


def stored_answers(target: str, user: str) -> list[tuple]:
    return rows(
        target,
        "select x.question_id from answers x join assessments a on a.id = x.assessment_id "
        "join users u on u.id = a.user_id where u.external_id = ?",
        f"{TEAM_ID}:{user}",
    )


def answers_stored_by(worker: Worker) -> float:
    from tests.test_observability import metric

    return metric(worker.http.get("/metrics").text, "maturity_answers_stored_total")


def test_an_assessment_alternating_between_two_workers_on_postgresql(
    fake, tmp_path, postgres_url, models
):
    questions = len(models[MODEL].questions)
    first = Worker(fake, postgres_url, tmp_path, MATURITY_WORKER_NAME="w1").start()
    second = Worker(fake, postgres_url, tmp_path, MATURITY_WORKER_NAME="w2").start()
    try:
        first.wait_ready(), second.wait_ready()
        result = take_assessment(fake, [lambda: first.send, lambda: second.send], questions)
        assert models[MODEL].phases[0].name.en in result.text_of_blocks()  # the first options
        # each worker took half the requests, and stored the answers it was sent
        assert answers_stored_by(first) == questions // 2
        assert answers_stored_by(second) == questions - questions // 2
    finally:
        first.stop(), second.stop()
    answered = stored_answers(postgres_url, "U77")
    assert len(answered) == questions == len(set(answered))  # every answer once
    assert rows(postgres_url, "select count(*) from results") == [(1,)]


# ---- one scheduler among two workers ---------------------------------------------------------
def scheduler_of(*workers: Worker) -> list[Worker]:
    return [w for w in workers if w.ready().get("scheduler") == "running"]


def invited_once(target: str, fake: FakeSlack) -> None:
    counts = invitations(fake)
    assert counts == Counter({member: 1 for member in MEMBERS})  # nobody skipped or twice
    assert rows(target, "select count(*) from rounds") == [(1,)]
    assert rows(target, "select count(*) from round_invites where sent_at is not null") == [
        (len(MEMBERS),)
    ]


def lease_holder(target: str) -> str | None:
    storage = Storage(target)
    try:
        return PulseStore(storage).lease_holder(LEASE_NAME)
    finally:
        storage.close()


def test_two_workers_run_one_scheduler_and_the_round_once_on_postgresql(
    fake, tmp_path, postgres_url, models, scan
):
    seed_due_pulse(postgres_url, models, scan, fake)
    one = Worker(fake, postgres_url, tmp_path, MATURITY_WORKER_NAME="w1").start()
    two = Worker(fake, postgres_url, tmp_path, MATURITY_WORKER_NAME="w2").start()
    try:
        one.wait_ready(), two.wait_ready()
        wait_until(lambda: len(invitations(fake)) == len(MEMBERS), "every member's invitation")
        [running] = scheduler_of(one, two)  # exactly one runs it, and both are ready
        holder = lease_holder(postgres_url)
        assert holder is not None and holder.startswith(running.ready()["worker"] + "@")
        wait_until(lambda: all_sent(postgres_url), "the invitations recorded as sent")
        # everyone answers, presses alternating between the workers: the last answer closes
        # the round in whichever worker stored it (a claim), and the team gets one report
        mark = fake.mark()
        answer_the_pulse(fake, [one.send, two.send])
        report = fake.wait_for("chat.postMessage", is_report, after=mark, timeout=30)
        team = len(MEMBERS)
        assert f"{team} of {team} members answered (100%)" in report.params["text"]
    finally:
        logs = [one.stop(), two.stop()]
    invited_once(postgres_url, fake)
    assert len([c for c in fake.calls_to("chat.postMessage") if is_report(c)]) == 1
    assert rows(postgres_url, "select status from rounds") == [("closed",)]
    took = [log.count("runs the pulse scheduler now") for log in logs]
    assert sorted(took) == [0, 1]
    assert all("Traceback" not in log for log in logs)
    assert lease_holder(postgres_url) is None  # the holder gave it up when it stopped


def all_sent(target: str) -> bool:
    return rows(target, "select count(*) from round_invites where sent_at is null") == [(0,)]


def is_report(call) -> bool:
    return call.response.get("channel") == TEAM and "members answered" in call.params["text"]


def answer_the_pulse(fake: FakeSlack, senders: list[SlackSender]) -> None:
    """Every member presses the first answer of every pulse question (from the invitation on),
    each press sent by the next of `senders`."""
    presses = 0
    for member in MEMBERS:
        dm = f"D{member}"
        call = fake.wait_for(
            "chat.postMessage", lambda c, dm=dm: is_question(c) and c.response["channel"] == dm
        )
        while is_question(call):
            mark = fake.mark()
            sender = senders[presses % len(senders)]
            presses += 1
            assert press_first_answer(sender, member, fake.posted(call)).status_code == 200
            call = fake.wait_for(
                "chat.postMessage",
                lambda c, dm=dm: c.response["channel"] == dm and (is_question(c) or is_result(c)),
                after=mark,
                timeout=30,
            )


def test_the_other_worker_takes_over_a_killed_schedulers_round(
    fake, tmp_path, postgres_url, models, scan
):
    """The scheduler's worker is killed while it opens the first member's DM (the invitation
    claimed, nothing delivered). Short leases (2 s for the scheduler, 1 s for an invitation)
    keep the test quick; the defaults are 45 s and 120 s."""
    seed_due_pulse(postgres_url, models, scan, fake)
    leases = {
        "MATURITY_PULSE_SCHEDULER_LEASE_SECONDS": "2",
        "MATURITY_PULSE_LEASE_SECONDS": "1",
    }
    gate = fake.hold("conversations.open")  # the first DM being opened waits here
    workers = [
        Worker(fake, postgres_url, tmp_path, MATURITY_WORKER_NAME=name, **leases).start()
        for name in ("w1", "w2")
    ]
    try:
        fake.wait_held("conversations.open", 1, timeout=60)
        for worker in workers:
            worker.wait_ready()
        [holder] = scheduler_of(*workers)
        [other] = [w for w in workers if w is not holder]
        holder.kill()  # mid-round: one invitation claimed, none delivered
        gate.set()  # Slack answers a dead client
        fake.hold("conversations.open").set()  # and no longer waits
        wait_until(lambda: len(invitations(fake)) == len(MEMBERS), "the round's invitations")
        assert other.ready()["scheduler"] == "running"
        assert lease_holder(postgres_url).startswith(other.ready()["worker"] + "@")
        wait_until(lambda: all_sent(postgres_url), "the invitations recorded as sent")
    finally:
        gate.set()
        logs = {worker: worker.stop() for worker in workers}
    invited_once(postgres_url, fake)
    assert "runs the pulse scheduler now" in logs[other]  # it took over


# ---- --workers N on one port ------------------------------------------------------------------
def workers_seen(port: int, timeout: float = 60) -> dict[str, str]:
    """Each worker's /readyz scheduler field, by worker name, over new connections (the
    kernel hands each to whichever worker accepts first) until two answered."""
    seen: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while len(seen) < 2 and time.monotonic() < deadline:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            try:
                ready = http.get("/readyz").json()
            except httpx.TransportError:
                time.sleep(0.05)
                continue
        seen[ready["worker"]] = ready["scheduler"]
    return seen


def test_slack_workers_2_share_one_port_on_sqlite(fake, tmp_path, models):
    db = str(tmp_path / "bot.db")
    questions = len(models[MODEL].questions)
    parent = Worker(fake, db, tmp_path, MATURITY_WORKER_NAME="w").start("--workers", "2")
    senders: list[SlackSender] = []

    def new_connection() -> SlackSender:  # a new connection: either worker may take it
        sender = SlackSender(f"http://127.0.0.1:{parent.port}/slack/events", SECRET, fake)
        senders.append(sender)
        return sender

    try:
        parent.wait_ready()
        seen = workers_seen(parent.port)
        assert len(seen) == 2 and all(name.startswith("w:") for name in seen)
        assert sorted(seen.values()) == ["not running", "running"]
        take_assessment(fake, [new_connection], questions)
    finally:
        for sender in senders:
            sender.close()
        log = parent.stop()
    assert parent.process.returncode == 0, log
    assert "Traceback" not in log and SECRET not in log and BOT_TOKEN not in log
    assert log.count("Application startup complete") == 2
    answered = stored_answers(db, "U77")
    assert len(answered) == questions == len(set(answered))
    assert rows(db, "select count(*) from results") == [(1,)]


def telegram_command(fake, tmp_path: Path, port: int, *args: str) -> subprocess.Popen[str]:
    from tests.telegram_rig import start_command

    url = f"http://127.0.0.1:{port}/tg/hook"
    return start_command(fake, tmp_path, "--webhook", url, "--port", str(port), *args)


def test_telegram_webhook_workers_2_share_one_port_and_one_secret(tmp_path):
    from flows.i18n import t
    from tests.fake_telegram import TOKEN, FakeTelegram, TgUser, post_webhook

    port = free_port()
    with FakeTelegram() as fake:
        process = telegram_command(fake, tmp_path, port, "--workers", "2")
        try:
            fake.wait_for("setWebhook", count=2, timeout=60)  # each worker, the same URL
            hooks = fake.calls_to("setWebhook")
            secret = fake.webhook["secret_token"]
            assert {c.params.get("secret_token") for c in hooks} == {secret}
            seen = workers_seen(port)
            assert sorted(seen.values()) == ["not running", "running"]
            first_line = t("help", "en").split("\n")[0]
            for number in range(4):  # new connections: either worker may take each
                user = TgUser(4000 + number)
                mark = fake.mark()
                update = fake.send(user, "/help", deliver=False)
                assert post_webhook(f"http://127.0.0.1:{port}/tg/hook", update, secret).is_success
                fake.wait_message(user.id, lambda m: first_line in m.text, after=mark)
        finally:
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "Traceback" not in err and TOKEN.split(":")[1] not in out + err
    assert secret not in out + err


def test_a_worker_that_cannot_start_stops_them_all_with_one_line(tmp_path):
    from tests.fake_telegram import FakeTelegram

    with FakeTelegram() as fake:
        fake.fail("setWebhook", 400, description="Bad Request: bad webhook", times=10)
        process = telegram_command(fake, tmp_path, free_port(), "--workers", "2")
        _, err = process.communicate(timeout=90)
    assert process.returncode == 2
    last = err.strip().splitlines()[-1]
    assert last.startswith("maturity-bot: error: a worker did not start: ")
    assert "the Bot API answered BadRequest: Bad webhook" in last


# ---- the scheduler lease, in one process ---------------------------------------------------------
def test_only_the_lease_holder_ticks_and_a_released_lease_is_taken_at_once(tmp_path):
    """Two schedulers over one database, as two workers would run them: the holder ticks, the
    other does not; when the holder stops and gives the lease up, the other takes it at its
    next try (a third of the lease) and ticks at once, without waiting for its interval."""
    import asyncio

    from bot.pulse.scheduler import PulseScheduler, SchedulerLease

    db = tmp_path / "lease.db"
    stores = [Storage(db), Storage(db)]
    ticks = {"a": 0, "b": 0}

    def scheduler(name: str, storage: Storage) -> PulseScheduler:
        async def tick() -> None:
            ticks[name] += 1

        lease = SchedulerLease(PulseStore(storage), name, seconds=1.5)
        return PulseScheduler(tick, interval=3600, lease=lease)

    async def until(check: Callable[[], bool]) -> None:
        for _ in range(200):
            if check():
                return
            await asyncio.sleep(0.05)
        raise AssertionError("it did not happen within 10 s")

    async def scenario() -> None:
        a, b = scheduler("a", stores[0]), scheduler("b", stores[1])
        assert await a.renew() and not await b.renew()
        a.start(), b.start()
        await until(lambda: ticks["a"] == 1)
        await asyncio.sleep(0.6)  # b has tried again meanwhile, in vain
        assert (a.leading, b.leading, ticks["b"]) == (True, False, 0)
        a.shutdown()
        await a.release()
        await until(lambda: ticks["b"] == 1)  # at once, though its interval is an hour
        assert b.leading and not a.leading
        assert PulseStore(stores[0]).lease_holder("pulse-scheduler") == "b"
        b.shutdown()
        await b.release()

    try:
        asyncio.run(scenario())
    finally:
        for storage in stores:
            storage.close()
    assert ticks == {"a": 1, "b": 1}


# ---- --workers checked, and refused where one process is the rule ------------------------------
@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith(("SLACK_", "TELEGRAM_", "MATURITY_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-A0FAKE-1-fake")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456789:" + "A" * 35)
    return monkeypatch


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["slack", "--http", "--workers", "0"], "--workers must be a whole number from 1 to 32"),
        (["slack", "--http", "--workers", "two"], "got 'two'"),
        (["slack", "--http", "--workers", "33"], "from 1 to 32"),
        (["slack", "--http", "--workers", "-1"], "from 1 to 32"),
        (["telegram", "--webhook", "https://x.org/h", "--workers", "1.5"], "got '1.5'"),
        (["slack", "--workers", "2"], "--workers needs --http"),
        (["telegram", "--workers", "2"], "--workers needs --webhook: Telegram gives"),
    ],
)
def test_bad_or_refused_workers_stop_with_one_line(clean_env, capsys, tmp_path, args, named):
    assert main([*args, "--db", str(tmp_path / "bot.db")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("maturity-bot: error: ") and err.count("\n") == 1
    assert named in err
    assert not (tmp_path / "bot.db").exists()  # refused before a database file is made


@pytest.mark.parametrize("value", ["0", "46", "nan"])
def test_the_scheduler_lease_setting_is_checked(clean_env, capsys, tmp_path, value):
    clean_env.setenv("MATURITY_PULSE_SCHEDULER_LEASE_SECONDS", value)
    assert main(["slack", "--http", "--db", str(tmp_path / "bot.db")]) == 2
    err = capsys.readouterr().err
    assert "MATURITY_PULSE_SCHEDULER_LEASE_SECONDS must be a number of seconds from 1 to 45" in err
