"""Invitations survive a crash: the real `maturity-bot slack --http` process fans a round out to a
team against the fake Slack and is killed with SIGKILL at several points of the fan-out; after
each kill it is started again. Every member gets the invitation at least once (none skipped), and
only a member whose message was in flight at a kill can get it twice.

The kill points: (1) after a member's invitation was claimed, while the bot waits for Slack to
open the DM (nothing reached the member yet); (2) while Slack is taking the invitation itself
(Slack delivers it, the bot never hears so); (3) at an arbitrary moment after some deliveries.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from contextlib import closing
from pathlib import Path

import pytest

from bot.storage import Storage
from tests.fake_slack import BOT_TOKEN, FakeSlack
from tests.test_slack_pulse import TEAM, seed_due_pulse

LEASE = 1
"""MATURITY_PULSE_LEASE_SECONDS and MATURITY_PULSE_SCHEDULER_LEASE_SECONDS for the bot: a dead
process's claims, and its hold on the scheduler, run out after a second."""
TEAM_SIZE = 8
MEMBERS = [f"U{i}" for i in range(1, TEAM_SIZE + 1)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Bot:
    """The operator's command, started and killed as a service manager or a crash would."""

    def __init__(self, fake: FakeSlack, db: Path, workdir: Path) -> None:
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MATURITY_"))},
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": "crash-test-secret",
            "SLACK_API_URL": fake.api_url,
            "MATURITY_DB": str(db),
            "MATURITY_PULSE_LEASE_SECONDS": str(LEASE),
            "MATURITY_PULSE_SCHEDULER_LEASE_SECONDS": str(LEASE),
        }
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "bot", "slack", "--http", "--port", str(free_port())]
        self.process = subprocess.Popen(
            command,
            cwd=self.workdir,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def kill(self) -> None:
        assert self.process is not None and self.process.poll() is None, "the bot died by itself"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        time.sleep(LEASE + 0.2)  # the dead process's claims and scheduler lease run out

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def invitations(fake: FakeSlack) -> Counter[str]:
    """How many invitations each member's DM received, as Slack recorded them."""
    counts: Counter[str] = Counter()
    for call in fake.calls_to("chat.postMessage"):
        if call.ok and call.params.get("text", "").startswith("Pulse for #team-a"):
            counts[call.response["channel"].removeprefix("D")] += 1
    return counts


def wait_for_invitations(fake: FakeSlack, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while len(invitations(fake)) < count:
        assert time.monotonic() < deadline, f"only {dict(invitations(fake))} after {timeout} s"
        time.sleep(0.02)


@pytest.fixture
def fake():
    with FakeSlack() as server:
        for user in MEMBERS:
            server.add_user(user)
        server.add_channel(TEAM, MEMBERS, creator="U1")
        yield server


def test_no_member_is_skipped_when_the_bot_is_killed_during_a_fan_out(fake, tmp_path, models, scan):
    db = tmp_path / "bot.db"
    seed_due_pulse(db, models, scan, fake)
    bot = Bot(fake, db, tmp_path)
    in_flight: set[str] = set()
    try:
        # 1. the second member's DM is being opened: their invitation is claimed, nothing sent
        gate = fake.hold("conversations.open")
        bot.start()
        fake.wait_held("conversations.open", 2)
        bot.kill()
        gate.set()  # Slack answers a dead client: the member got nothing
        fake.hold("conversations.open").set()

        # 2. the fourth invitation is on its way: Slack takes it, the bot dies before it hears
        # (two go through first; the hold is set before the start, so none slips by unheld)
        held = fake.held["chat.postMessage"]
        gate = fake.hold("chat.postMessage", after=2)
        bot.start()
        fake.wait_held("chat.postMessage", held + 1)
        bot.kill()
        gate.set()
        fake.hold("chat.postMessage").set()
        in_flight |= set(MEMBERS) - set(invitations(fake))  # whoever it was, at most one

        # 3. anywhere after some more deliveries
        bot.start()
        wait_for_invitations(fake, min(TEAM_SIZE, len(invitations(fake)) + 1))
        bot.kill()

        bot.start()
        wait_for_invitations(fake, TEAM_SIZE)
        deadline = time.monotonic() + 60
        while undelivered(db):  # the bot's own record catches up (a re-send after point 2)
            assert time.monotonic() < deadline, "invitations left undelivered"
            time.sleep(0.05)
    finally:
        bot.stop()

    counts = invitations(fake)
    assert sorted(counts) == sorted(MEMBERS)  # nobody skipped
    assert max(counts.values()) <= 2
    twice = {member for member, count in counts.items() if count == 2}
    assert len(twice) <= 2  # only those in flight at a kill (points 2 and 3)
    storage = Storage(db)
    try:
        assert storage.db.execute("select count(*) from rounds").fetchone()[0] == 1
        assert storage.db.execute("select count(*) from round_invites").fetchone()[0] == TEAM_SIZE
    finally:
        storage.close()


def undelivered(db: Path) -> int:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        sql = "select count(*) from round_invites where sent_at is null"
        return conn.execute(sql).fetchone()[0]
