"""Reading what a user typed: the same words mean a model, a start, an answer or an edit
depending on the state, so the reading happens once, before the machine sees the event.
Pure functions, so the matching rules can be tested and reused (answers, reprompts) alone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flows.engine_data import Conversation
from flows.events import Event, Kind
from flows.i18n import t
from flows.model_schema import LANGUAGES, Option, Question
from flows.pulse import PULSE_SUFFIX
from flows.scan import SCAN_ID

if TYPE_CHECKING:
    from flows.engine import Engine


def interpret(engine: Engine, conversation: Conversation, event: Event) -> Event:
    """Free text means different things in different states: a model, a start, an answer."""
    if event.kind is Kind.SCAN:
        return Event(Kind.CHOOSE, SCAN_ID, direct=True)
    if event.kind is not Kind.TEXT:
        return event
    text = (event.value or "").strip()
    state = conversation.state
    lang = conversation.lang
    if state == "asking":
        return Event(Kind.ANSWER, text)
    if state == "choosing_model":
        found = match_model(engine, text, lang)
        return Event(Kind.CHOOSE, found or text)
    if state == "intro":
        lowered = text.lower()
        if lowered in ("1", t("begin_button", lang).lower(), "start", "begin", "ja", "yes", "ok"):
            return Event(Kind.BEGIN)
        if lowered == "2" or lowered == t("other_model_button", lang).lower():
            return Event(Kind.MENU)
        found = match_model(engine, text, lang)
        return Event(Kind.CHOOSE, found) if found else event
    if state == "reviewing":
        lowered = text.lower()
        model = engine.lookup(conversation.model_id)  # the quick scan too
        count = len(model.questions) if model else 0
        if lowered in (str(count + 1), "continue", "verder", t("continue_button", lang).lower()):
            return Event(Kind.CONTINUE)
        if model and _is_number(lowered) and 1 <= int(lowered) <= len(model.questions):
            question = model.questions[int(lowered) - 1]
            return Event(Kind.EDIT, question.id, assessment_id=conversation.assessment_id)
        return event
    return event


def _is_number(text: str) -> bool:
    """Plain ASCII digits only: '²' and '١' are digits to Python but not an option number."""
    return text.isascii() and text.isdigit()


def match_option(question: Question, text: str, lang: str) -> Option | str | None:
    """An option from a number, its label (either language) or a unique start of its label.

    Returns "ambiguous" when more than one option fits, None when none does.
    """
    cleaned = text.strip().rstrip(".").strip().lower()
    if not cleaned:
        return None
    if _is_number(cleaned):
        number = int(cleaned)
        return question.options[number - 1] if 1 <= number <= len(question.options) else None
    for attempt in (lang, *(code for code in LANGUAGES if code != lang)):
        exact = [o for o in question.options if o.label.get(attempt).lower() == cleaned]
        if len(exact) == 1:
            return exact[0]
    if len(cleaned) >= 3:
        starts = [
            o
            for o in question.options
            if any(o.label.get(code).lower().startswith(cleaned) for code in LANGUAGES)
        ]
        if len(starts) == 1:
            return starts[0]
        if len(starts) > 1:
            return "ambiguous"
    return None


def match_model(engine: Engine, text: str, lang: str) -> str | None:
    """A menu entry by its number, id, or a unique part of its name."""
    cleaned = text.strip().lower()
    menu = engine.menu()
    if _is_number(cleaned):
        number = int(cleaned)
        return menu[number - 1].id if 1 <= number <= len(menu) else None
    if engine.lookup(cleaned) is not None and not cleaned.endswith(PULSE_SUFFIX):
        return cleaned
    hits = [
        m.id
        for m in menu
        if len(cleaned) >= 3 and any(cleaned in m.name.get(code).lower() for code in LANGUAGES)
    ]
    return hits[0] if len(hits) == 1 else None
