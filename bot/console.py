"""The terminal channel: numbered options on stdout, one answer or command per stdin line.

It is the reference adapter (like errbot's text backend): the smallest possible translation from
a line of text to a neutral event and from neutral replies to text. It works the same with a
person at a terminal and with piped input, so assessments can be scripted.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.channel import OutputChannel
from bot.pulse.service import iso, recheck_message
from bot.service import AssessmentService
from bot.storage import StorageError, StorageWriteError
from bot.web.chat_texts import chat_text
from bot.web.signin import sign_in_link
from bot.web.viewer import Viewer
from flows.events import Event, Kind, from_payload, from_text
from flows.i18n import t
from flows.replies import Reply, Say, plain_text

if TYPE_CHECKING:
    from bot.settings import Settings

CHANNEL = "console"


class ConsoleChannel(OutputChannel):
    """One user at one terminal. Only `send_text` is its own: every reply takes the channel
    interface's plain-text fallback (numbered options, a chart's PNG path)."""

    def __init__(
        self,
        service: AssessmentService,
        user: str,
        chart_dir: Path,
        out: TextIO | None = None,
        lang: str | None = None,
        new_user_lang: str | None = None,
        web_settings: Settings | None = None,
    ) -> None:
        self.service = service
        self.user = user
        self.chart_dir = chart_dir
        self.out = out or sys.stdout  # looked up now: a default would keep the import's stream
        self.lang = lang
        """Asked for on the command line: it replaces the stored choice."""
        self.new_user_lang = lang or new_user_lang
        """The locale's language: only a user's first contact takes it."""
        self.web_settings = web_settings
        """With MATURITY_WEB_URL: /report prints a sign-in link to the board report."""

    def send(self, event: Event) -> tuple[Reply, ...]:
        if event.kind is Kind.REPORT and self.print_report_link():
            return ()
        handled = self.service.handle(CHANNEL, self.user, event, lang_hint=self.new_user_lang)
        self.deliver(handled.replies, event=event)
        return handled.replies

    def print_report_link(self) -> bool:
        """The board report with the dashboard set up: a single-use sign-in link that opens
        this user's report (whoever runs the terminal is this user). False without a dashboard:
        the engine then says where the report is and how to set it up."""
        settings = self.web_settings
        if settings is None or not settings.maturity_web_url:
            return False
        lang = self.service.language(CHANNEL, self.user) or self.new_user_lang or "en"
        viewer = Viewer(CHANNEL, self.user, lang, None, False)
        try:
            link = sign_in_link(self.service.storage, settings, viewer, target="report")
        except StorageError:
            link = None
        if link is None:
            return self.send_text(chat_text("dashboard_failed", lang))
        return self.send_text(chat_text("report_link", lang, link=link))

    def send_message(self, say: Say) -> bool:
        """A terminal has no buttons: a choice its number cannot reach (the history's older
        page, which the text already names as a command) is left out of the numbered list."""
        typed = tuple(c for c in say.choices if from_payload(c.payload).kind is not Kind.HISTORY)
        return self.send_text(plain_text(replace(say, choices=typed)))

    def send_text(self, text: str) -> bool:
        self.out.write(text + "\n\n")
        self.out.flush()
        return True

    def show_due_rechecks(self) -> None:
        """A terminal cannot be messaged later: reminders that fell due show at the next start."""
        now = datetime.now(UTC)
        try:
            due = self.service.due_rechecks(CHANNEL, iso(now), self.user)
        except StorageWriteError:
            return  # not claimed, so not lost: they show at a start that can record them
        for _, model_id, created in due:
            message = recheck_message(self.service, CHANNEL, self.user, model_id, created, now)
            if message is not None:
                self.deliver([message])

    def run(self, lines: TextIO, model_id: str | None = None, interactive: bool = False) -> int:
        """Feed `lines` to the bot until end of input or /quit; returns the exit code."""
        if self.lang:
            try:
                self.service.set_language(CHANNEL, self.user, self.lang)
            except StorageWriteError:  # a full disk: say so, in the language asked for
                self.deliver([Say(t("not_saved", self.lang), is_error=True)])
        self.show_due_rechecks()
        if model_id:
            self.send(Event(Kind.CHOOSE, model_id, direct=True))
        else:
            self.send(Event(Kind.OPEN))
        while True:
            if interactive:
                self.out.write("> ")
                self.out.flush()
            line = lines.readline()
            if not line:
                return 0
            text = line.strip()
            if not text:
                continue
            if text.lower() in ("/quit", "/exit"):
                return 0
            self.send(from_text(text))
