"""Neutral events: what a user did, whatever the channel.

Adapters turn typed text with `from_text` and button presses with `from_payload` (both clean the
text first, see flows/text.py: the boundary where untrusted text enters); button payloads
are made by `payload_*` here too, so the format has one owner and stays within Telegram's 64-byte
callback limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flows.text import clean_text


class Kind(StrEnum):
    OPEN = "open"
    """The user opened the chat (console start, App Home): resume if something is unfinished."""
    START = "start"
    MENU = "menu"
    CHOOSE = "choose"
    BEGIN = "begin"
    ANSWER = "answer"
    TEXT = "text"
    BACK = "back"
    SKIP = "skip"
    STOP = "stop"
    RESUME = "resume"
    RESTART = "restart"
    REVIEW = "review"
    EDIT = "edit"
    CONTINUE = "continue"
    LANG = "lang"
    HELP = "help"
    RESULT = "result"
    HISTORY = "history"
    UNKNOWN_COMMAND = "unknown_command"
    STALE = "stale"
    SCAN = "scan"
    INITIATIVES = "initiatives"
    REMIND = "remind"
    """Remind me to redo a model: value "<model id> <months>" (or just "<months>")."""
    FINISH_NOW = "finish_now"
    """Stop at a failed go/no-go step (the exit moment) and see the advice, skipping the rest."""
    REPORT = "report"
    """Make a board report: the channel sends a sign-in link to the dashboard's report page
    (the engine only answers when a channel cannot, saying where the report is)."""


@dataclass(frozen=True)
class Event:
    kind: Kind
    value: str | None = None
    """Model id, option id, question id, language or free text, depending on the kind."""
    question_id: str | None = None
    assessment_id: str | None = None
    direct: bool = False
    """For CHOOSE: skip the intro confirmation (the user named the model in the command)."""

    @property
    def history_page(self) -> int | None:
        """For /history: the page asked for (1 without an argument); None when the argument
        is no page number."""
        return page_number(self.value) if self.kind is Kind.HISTORY else None

    @property
    def needs_initiatives(self) -> bool:
        return self.kind is Kind.INITIATIVES


# Commands and their Dutch aliases. Adapters with their own command names (Slack's
# `/maturity start`) map onto these words.
COMMANDS: dict[str, Kind] = {
    "start": Kind.START,
    "assess": Kind.START,
    "models": Kind.MENU,
    "modellen": Kind.MENU,
    "back": Kind.BACK,
    "terug": Kind.BACK,
    "skip": Kind.SKIP,
    "overslaan": Kind.SKIP,
    "stop": Kind.STOP,
    "pause": Kind.STOP,
    "pauze": Kind.STOP,
    "resume": Kind.RESUME,
    "hervat": Kind.RESUME,
    "verder": Kind.RESUME,
    "restart": Kind.RESTART,
    "opnieuw": Kind.RESTART,
    "review": Kind.REVIEW,
    "overzicht": Kind.REVIEW,
    "lang": Kind.LANG,
    "language": Kind.LANG,
    "taal": Kind.LANG,
    "scan": Kind.SCAN,
    "initiatives": Kind.INITIATIVES,
    "remind": Kind.REMIND,
    "herinner": Kind.REMIND,
    "initiatieven": Kind.INITIATIVES,
    "help": Kind.HELP,
    "hulp": Kind.HELP,
    "result": Kind.RESULT,
    "resultaat": Kind.RESULT,
    "history": Kind.HISTORY,
    "geschiedenis": Kind.HISTORY,
    "finish_now": Kind.FINISH_NOW,
    "advice": Kind.FINISH_NOW,
    "advies": Kind.FINISH_NOW,
    "report": Kind.REPORT,
    "rapport": Kind.REPORT,
    "bestuursrapport": Kind.REPORT,
}


def from_text(text: str) -> Event:
    """A typed line: `/command [argument]` or free text (an answer, a number, a model name).

    The one door typed text comes in by: cleaned here (flows.text), so no escape sequence,
    control or bidi character is stored, or echoed back in "unknown command" and the like."""
    stripped = clean_text(text).strip()
    if not stripped.startswith("/"):
        return Event(Kind.TEXT, stripped)
    word, _, rest = stripped[1:].partition(" ")
    word = word.split("@", 1)[0].lower()  # Telegram groups send /start@BotName
    argument = rest.strip() or None
    kind = COMMANDS.get(word)
    if kind is None:
        return Event(Kind.UNKNOWN_COMMAND, "/" + word)
    if kind is Kind.START and argument:
        return Event(Kind.CHOOSE, argument, direct=True)
    return Event(kind, argument)


def payload_answer(assessment_id: str, question_id: str, option_id: str) -> str:
    return f"a:{assessment_id}:{question_id}:{option_id}"


def payload_model(model_id: str) -> str:
    return f"m:{model_id}"


def payload_edit(assessment_id: str, question_id: str) -> str:
    return f"e:{assessment_id}:{question_id}"


def payload_remind(model_id: str, months: int) -> str:
    return f"r:{model_id}:{months}"


def payload_command(kind: Kind) -> str:
    return f"c:{kind.value}"


def payload_history(page: int) -> str:
    """The "older results" button: /history's page `page`."""
    return f"h:{page}"


MAX_PAGE_DIGITS = 6
"""A page number has at most this many digits: far past any history, and a forged one stays a
small integer (SQLite's OFFSET takes 64 bits)."""


def page_number(value: str | None) -> int | None:
    """A /history page: 1 when none is given, the number typed or pressed, None otherwise."""
    if value is None:
        return 1
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_PAGE_DIGITS:
        return None
    return int(text) if int(text) >= 1 else None


def from_payload(payload: str) -> Event:
    """A button press. Unknown or damaged payloads become STALE: the button is no longer valid.
    A payload is cleaned like typed text: a forged one may end up in an error message."""
    tag, _, rest = clean_text(payload).partition(":")
    parts = rest.split(":")
    if tag == "a" and len(parts) == 3 and all(parts):
        return Event(Kind.ANSWER, parts[2], question_id=parts[1], assessment_id=parts[0])
    if tag == "m" and rest:
        return Event(Kind.CHOOSE, rest)
    if tag == "e" and len(parts) == 2 and all(parts):
        return Event(Kind.EDIT, parts[1], assessment_id=parts[0])
    if tag == "r" and len(parts) == 2 and all(parts):
        return Event(Kind.REMIND, f"{parts[0]} {parts[1]}")
    if tag == "h" and page_number(rest or "x") is not None:
        return Event(Kind.HISTORY, str(page_number(rest)))
    if tag == "c":
        try:
            return Event(Kind(rest))
        except ValueError:
            pass
    return Event(Kind.STALE)
