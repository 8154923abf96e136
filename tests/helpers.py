"""Small helpers for driving the service the way a channel does."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

from flows.events import Event, Kind, from_payload, from_text
from flows.replies import Answered, Ask, ResultCard, Say


def unavailable(why: str) -> NoReturn:
    """A test's server or browser is missing: skipped, saying why, on a developer's machine;
    a failure in CI (CI set: .ci/run installs and starts everything, so nothing may skip)."""
    if os.environ.get("CI"):
        pytest.fail(f"CI needs it: {why}")
    pytest.skip(why)


class Chat:
    """One user talking to the service; keeps the replies of the last event."""

    def __init__(self, service, user="alice", channel="test", lang="en"):
        self.service = service
        self.user = user
        self.channel = channel
        self.lang = lang
        self.replies = ()

    def send(self, event: Event):
        self.replies = self.service.handle(
            self.channel, self.user, event, lang_hint=self.lang
        ).replies
        return self.replies

    def type(self, text: str):
        return self.send(from_text(text))

    def press(self, payload: str):
        return self.send(from_payload(payload))

    def start(self, model_id: str):
        return self.send(Event(Kind.CHOOSE, model_id, direct=True))

    @property
    def question(self) -> Ask | None:
        return next((r for r in reversed(self.replies) if isinstance(r, Ask)), None)

    @property
    def result(self) -> ResultCard | None:
        return next((r for r in self.replies if isinstance(r, ResultCard)), None)

    @property
    def answered(self) -> list[Answered]:
        return [r for r in self.replies if isinstance(r, Answered)]

    @property
    def errors(self) -> list[Say]:
        return [r for r in self.replies if isinstance(r, Say) and r.is_error]

    def texts(self) -> str:
        from flows.replies import plain_text

        return "\n".join(plain_text(r) for r in self.replies)


def stored_answers(storage) -> list[tuple]:
    return storage.db.execute(
        "select assessment_id, question_id, option_id from answers order by question_id"
    ).fetchall()


def one_error_line(capsys) -> str:
    """The one line a command printed on stderr for a user's or operator's mistake (no
    traceback)."""
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("maturity-bot: error: ")
    return lines[0]
