"""The conversation: one `transitions` machine for every user, fed one event at a time.

The engine is a pure function of (conversation, inputs, event): it returns the new conversation,
the replies and the effects to store. The caller (bot/service.py) loads the inputs, runs one event
and saves everything in one transaction, so the state lives in SQLite, a restart loses nothing and
memory does not grow with the number of users. The machine is built once
(`auto_transitions=False`); each event triggers it on a short-lived `Turn` model that holds the
loaded state; no callback does I/O.

This module is the entry point (other code imports from here) and holds the states, the
transition table and `Engine`. The rest is split by job: `engine_data` (the values going in and
out), `interpret` (what typed text means in each state), `turn_base` (a turn's state and shared
moves) and one `turn_*` module per seam of the conversation.
"""

from __future__ import annotations

from dataclasses import replace

from transitions import Machine

from flows.engine_data import (
    AbandonAssessment,
    AddInitiative,
    Conversation,
    CreateAssessment,
    Effect,
    FinishAssessment,
    Inputs,
    OpenAssessment,
    Outcome,
    RemoveInitiative,
    SaveAnswer,
    ScheduleRecheck,
    SetLanguage,
)
from flows.events import Event
from flows.interpret import interpret, match_model, match_option
from flows.model_schema import MaturityModel
from flows.scan import QuickScan
from flows.turn_answering import AnsweringMixin
from flows.turn_choosing import SECONDS_PER_QUESTION, ChoosingMixin
from flows.turn_commands import RECHECK_MONTHS, CommandsMixin
from flows.turn_initiatives import InitiativesMixin, matrix_reply
from flows.turn_results import ResultsMixin
from flows.turn_reviewing import ReviewingMixin

__all__ = [
    "ACTIVE",
    "RECHECK_MONTHS",
    "SECONDS_PER_QUESTION",
    "STATES",
    "TRANSITIONS",
    "AbandonAssessment",
    "AddInitiative",
    "Conversation",
    "CreateAssessment",
    "Effect",
    "Engine",
    "FinishAssessment",
    "Inputs",
    "OpenAssessment",
    "Outcome",
    "RemoveInitiative",
    "SaveAnswer",
    "ScheduleRecheck",
    "SetLanguage",
    "Turn",
    "interpret",
    "match_model",
    "match_option",
    "matrix_reply",
]

STATES = ["idle", "choosing_model", "intro", "asking", "reviewing", "result"]
ACTIVE = ["intro", "asking", "reviewing"]


class Turn(
    ChoosingMixin,
    AnsweringMixin,
    ReviewingMixin,
    ResultsMixin,
    CommandsMixin,
    InitiativesMixin,
):
    """The machine's model for one event: the seams in one class, because the machine looks
    the callbacks named in TRANSITIONS up by name on a single model. The state and the moves
    every seam shares (say, ask) are in `flows.turn_base.TurnBase`.
    """


def _t(
    trigger: str,
    source: str | list[str],
    dest: str | None = None,
    after: str | None = None,
    conditions: str | list[str] | None = None,
    unless: str | None = None,
    prepare: str | None = None,
) -> dict[str, object]:
    """Leaves unset options out, so each rule of the table fits on a line or two."""
    spec: dict[str, object] = {"trigger": trigger, "source": source, "dest": dest}
    for key, value in (
        ("after", after),
        ("conditions", conditions),
        ("unless", unless),
        ("prepare", prepare),
    ):
        if value is not None:
            spec[key] = value
    return spec


TRANSITIONS = [
    _t("help", "*", after="say_help"),
    _t("lang", "*", after="set_language"),
    _t("history", "*", after="show_history"),
    _t("result", "*", after="show_result"),
    _t("unknown_command", "*", after="say_unknown_command"),
    _t("initiatives", "*", after="handle_initiatives"),
    _t("remind", "*", after="schedule_recheck"),
    _t("report", "*", after="say_report"),
    _t("stale", "*", after="say_stale"),
    _t("open", "*", "asking", conditions="has_current_open", after="do_resume"),
    _t("open", "*", "choosing_model", after="show_menu"),
    _t("start", "*", "choosing_model", after="show_menu"),
    _t("menu", "*", "choosing_model", after="show_menu"),
    # choosing a model: unknown -> error; unfinished -> resume; named in the command -> go
    _t("choose", "*", conditions="model_unknown", after="say_model_unknown"),
    _t("choose", "*", "asking", conditions="has_progress", after="do_resume"),
    _t("choose", "*", "asking", conditions="is_direct", after="begin_direct"),
    _t("choose", "*", "intro", after="show_intro"),
    _t("begin", "intro", "asking", after="do_begin"),
    _t("begin", "*", after="say_nothing_to_do"),
    # answering
    _t("answer", "asking", conditions="is_stale", after="say_stale"),
    _t(
        "answer",
        "asking",
        "result",
        prepare="parse_answer",
        conditions=["answer_valid", "completes_with_pending"],
        after="store_and_finish",
    ),
    _t(
        "answer",
        "asking",
        prepare="parse_answer",
        conditions="answer_valid",
        after="store_and_next",
    ),
    _t("answer", "asking", after="reprompt"),
    _t("answer", "*", after="say_stale"),
    _t("skip", "asking", unless="skippable", after="say_cannot_skip"),
    _t(
        "skip",
        "asking",
        "result",
        prepare="prepare_skip",
        conditions="completes_with_pending",
        after="store_and_finish",
    ),
    _t("skip", "asking", prepare="prepare_skip", after="store_and_next"),
    _t("skip", "*", after="say_nothing_to_do"),
    _t("back", "asking", conditions="at_first_question", after="say_at_first"),
    _t("back", "asking", after="go_back"),
    _t("back", "reviewing", "asking", after="ask_current"),
    _t("back", "result", after="say_back_after_result"),
    _t("back", "*", after="say_nothing_to_do"),
    # a failed go/no-go step (the exit moment): the advice now, without the plan questions
    _t("finish_now", "asking", "result", conditions="exit_moment_applies", after="finish"),
    _t("finish_now", "*", after="say_nothing_to_do"),
    # pausing and coming back
    _t("stop", ACTIVE, "idle", after="pause"),
    _t("stop", "*", after="say_nothing_to_do"),
    _t("resume", "*", "asking", conditions="has_current_open", after="do_resume"),
    _t("resume", "*", after="say_nothing_to_resume"),
    _t("restart", "*", "asking", conditions="has_model", after="do_restart"),
    _t("restart", "*", after="say_nothing_to_restart"),
    # reviewing answers
    _t("review", "asking", "reviewing", after="show_review"),
    _t("review", "*", after="say_nothing_to_review"),
    _t("edit", "reviewing", "asking", conditions="edit_valid", after="jump_to"),
    _t("edit", "*", after="say_stale"),
    _t("continue", "reviewing", "asking", after="ask_current"),
    _t("continue", "*", after="say_nothing_to_do"),
    _t("text", "intro", after="say_not_understood_intro"),
    _t("text", "reviewing", after="say_not_understood_review"),
    _t("text", "*", after="say_nothing_to_do"),
]


class Engine:
    """Runs events against the shared machine. Build one per process."""

    def __init__(self, models: dict[str, MaturityModel], scan: QuickScan | None = None) -> None:
        self.models = models
        self.scan = scan
        self.extra_models: dict[str, MaturityModel] = {}
        """Models that can be run but are not offered in the menu (pulse variants)."""
        self.machine = Machine(
            model=None,
            states=STATES,
            transitions=TRANSITIONS,
            initial="idle",
            auto_transitions=False,
        )

    def menu(self) -> list[MaturityModel | QuickScan]:
        """What a user can choose, in menu order (pulse variants are not offered)."""
        models = list(self.models.values())
        ordered: list[MaturityModel | QuickScan] = [m for m in models if m.kind != "steps"]
        ordered += [m for m in models if m.kind == "steps"]
        if self.scan is not None:
            ordered.append(self.scan)
        return ordered

    def lookup(self, model_id: str | None) -> MaturityModel | QuickScan | None:
        """A model by id; the quick scan answers to its own id."""
        if self.scan is not None and model_id == self.scan.id:
            return self.scan
        return self.models.get(model_id or "") or self.extra_models.get(model_id or "")

    def handle(self, conversation: Conversation, inputs: Inputs, event: Event) -> Outcome:
        state = conversation.state if conversation.state in STATES else "idle"
        if state != conversation.state or (
            state in ACTIVE + ["result"] and self.lookup(conversation.model_id) is None
        ):
            # a model file was removed, or the state is unknown: start clean rather than crash
            conversation = Conversation(lang=conversation.lang)
            state = "idle"
        event = interpret(self, conversation, event)
        turn = Turn(self, conversation, inputs, event)
        # Event.trigger(model) runs the transition for a model that is not registered with the
        # machine: no add_model/remove_model (which bind ~50 methods per call and keep strong
        # references), the machine stays a shared, read-only definition.
        turn.state = state
        self.machine.events[event.kind.value].trigger(turn)
        conv = replace(turn.conv, state=turn.state)
        return Outcome(conv, tuple(turn.replies), tuple(turn.effects))
