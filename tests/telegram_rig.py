"""The Telegram bot under test: service over a SQLite file + the real PTB Application, run by
`bot.telegram.serve` in a thread with its own event loop, talking to a FakeTelegram.

Tests play the user through the fake (type, press) and read what the user sees (the fake's
chats) and what is stored (the database). `restart()` is a new process as far as the bot can
tell: a new storage connection, service and Application over the same database file.

The pulse runs on the rig's clock (`clock`, default the real one) and, unless a test gives a
`pulse_interval`, without its scheduler: `tick(now)` runs one tick on the bot's event loop and
returns when everything it sent has arrived.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.pulse.service import PulseService, PulseSettings, utcnow
from bot.service import AssessmentService
from bot.storage import Storage
from bot.telegram.app import (
    CONCURRENCY,
    RetryingRateLimiter,
    WebhookConfig,
    build_application,
    serve,
)
from bot.telegram.pulse import TelegramPulse
from tests.fake_telegram import TOKEN, FakeTelegram, Msg, TgUser

ROOT = Path(__file__).resolve().parent.parent


def start_command(
    fake: FakeTelegram, cwd: Path, *args: str, db: Path | None = None, **settings: str
) -> subprocess.Popen:
    """The real `maturity-bot telegram [args]` against `fake`, as a subprocess in `cwd` with
    only the settings given here (none from the developer's environment): its database is `db`
    (default `cwd/bot.db`); stdout and stderr are pipes of text."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MATURITY_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_BASE_URL=fake.base_url,
        MATURITY_DB=str(db or cwd / "bot.db"),
        PYTHONPATH=str(ROOT),
        **settings,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "telegram", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop_command(process: subprocess.Popen) -> tuple[str, str]:
    """Stop a `start_command` process as a service manager does (SIGTERM), killed when it has
    not ended within 20 s: its (stdout, stderr)."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()


def is_question(message: Msg) -> bool:
    """A question message: its buttons carry answer payloads."""
    return any(key.get("callback_data", "").startswith("a:") for key in message.buttons)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Any, timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


class Rig:
    def __init__(
        self,
        fake: FakeTelegram,
        db_path: Path,
        models: dict,
        *,
        webhook: WebhookConfig | None = None,
        scan: Any = None,
        pulse_settings: PulseSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
        pulse_interval: float | None = None,
        pace: float = 0,
        limits: dict[str, float] | None = None,
        concurrency: int = CONCURRENCY,
        web_settings: Any = None,
    ) -> None:
        """`pace` (seconds between two pulse messages into one chat) and `limits` (the rate
        limiter's flood limits, e.g. overall_max_rate) are off by default: the tests check what
        is sent, not how long it takes; a benchmark sets Telegram's. `concurrency`: updates
        handled at once (MATURITY_TELEGRAM_CONCURRENCY; default, the bot's). `web_settings`:
        the dashboard's (MATURITY_WEB_URL: /dashboard's links, the pages in the webhook server)."""
        self.fake = fake
        self.db_path = db_path
        self.models = models
        self.scan = scan
        self.webhook = webhook
        self.pulse_settings = pulse_settings
        self.clock = clock
        self.pulse_interval = pulse_interval
        self.pace = pace
        self.limits = {"overall_max_rate": 0, "group_max_rate": 0, **(limits or {})}
        self.concurrency = concurrency
        self.web_settings = web_settings
        self._thread: threading.Thread | None = None
        self.start()

    # ---- the bot process -------------------------------------------------------------------
    def start(self) -> None:
        self.storage = Storage(self.db_path)
        self.service = AssessmentService(self.storage, self.models, scan=self.scan)
        self.pulse = PulseService(self.service, self.pulse_settings, clock=self.clock)
        self.telegram_pulse = TelegramPulse(
            self.pulse, interval=self.pulse_interval, pace=self.pace
        )
        self.app = build_application(
            self.service,
            TOKEN,
            base_url=self.fake.base_url,
            base_file_url=self.fake.base_file_url,
            # short backoff: the tests check that retries happen, not how long they wait
            rate_limiter=RetryingRateLimiter(network_retries=2, backoff=0.01, **self.limits),
            pulse=self.telegram_pulse,
            concurrency=self.concurrency,
            web_settings=self.web_settings,
        )
        self.loop = asyncio.new_event_loop()
        self.stop_event = asyncio.Event()
        self.error: BaseException | None = None

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            try:
                self.loop.run_until_complete(
                    serve(self.app, self.stop_event, webhook=self.webhook, poll_timeout=1)
                )
            except BaseException as exc:  # re-raised in stop()
                self.error = exc
            finally:
                self.loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        # running: polling has started, or the webhook server listens (updates sent before
        # the first getUpdates wait for it, as at Telegram)
        wait_until(lambda: self.app.running or self.error is not None, what="the application")
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        if self._thread is None:
            return
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self._thread.join(timeout=15)
        assert not self._thread.is_alive(), "the bot did not stop"
        self._thread = None
        self.storage.close()
        if self.error is not None:
            raise self.error

    def restart(self) -> None:
        self.stop()
        self.start()

    def tick(self, now: datetime | None = None, timeout: float = 30) -> None:
        """One pulse tick at `now` (default: the rig's clock) on the bot's loop, like the
        scheduler's; returns when all it sent has been answered by the fake."""
        done = asyncio.run_coroutine_threadsafe(self.telegram_pulse.tick(now), self.loop)
        done.result(timeout)

    # ---- what the user does ------------------------------------------------------------------
    def say(self, user: TgUser, text: str, **kwargs: Any) -> int:
        mark = self.fake.mark()
        self.fake.send(user, text, **kwargs)
        return mark

    def press(
        self,
        user: TgUser,
        message: Msg,
        text: str | None = None,
        index: int = 0,
        *,
        data: str | None = None,
    ) -> int:
        mark = self.fake.mark()
        self.fake.press(user, message, text=text, index=index, data=data)
        return mark

    def question(self, user: TgUser, after: int = 0) -> Msg:
        """The next question message the bot sends the user (from call index `after` on)."""
        return self.fake.wait_message(user.id, is_question, after=after)

    def message(self, user: TgUser, contains: str, after: int = 0) -> Msg:
        return self.fake.wait_message(user.id, lambda m: contains in m.shown(), after=after)

    def answer_all(
        self,
        user: TgUser,
        model_id: str,
        index: int = 0,
        first: Msg | None = None,
        start: int = 1,
    ) -> int:
        """Press button `index` on every question of the model from number `start` on (`first`
        is that question's message); returns the mark before the last press (the result
        follows it)."""
        message = first or self.question(user)
        total = len(self.models[model_id].questions)
        mark = 0
        for number in range(start, total + 1):
            mark = self.press(user, message, index=index)
            if number < total:
                message = self.question(user, after=mark)
        return mark

    # ---- what is stored ----------------------------------------------------------------------
    def rows(self, sql: str, *params: Any) -> list[tuple]:
        return self.storage.db.execute(sql, params).fetchall()

    def answers(self, user: TgUser) -> dict[str, str | None]:
        """question id -> option id of the user's newest assessment."""
        rows = self.rows(
            "select x.question_id, x.option_id from answers x join assessments a "
            "on a.id = x.assessment_id join users u on u.id = a.user_id "
            "where u.channel = 'telegram' and u.external_id = ? "
            "and a.id = (select id from assessments where user_id = u.id "
            "order by rowid desc limit 1)",
            str(user.id),
        )
        return dict(rows)
