"""The conversation: one `transitions` machine for every user, fed one event at a time.

The engine is a pure function of (conversation, inputs, event): it returns the new conversation,
the replies and the effects to store. The caller (bot/service.py) loads the inputs, runs one event
and saves everything in one transaction, so the state lives in SQLite, a restart loses nothing and
memory does not grow with the number of users. The machine is built once
(`auto_transitions=False`); each event triggers it on a short-lived `Turn` model that holds the
loaded state; no callback does I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from transitions import Machine

from flows.events import (
    Event,
    Kind,
    payload_answer,
    payload_command,
    payload_edit,
    payload_model,
)
from flows.i18n import normalise_language, t
from flows.initiatives import (
    OBJECTIVES,
    Initiative,
    InitiativeInputError,
    NewInitiative,
    build_matrix,
    list_text,
    matrix_text,
    objective_labels,
    objective_name,
    parse_new,
)
from flows.model_schema import LANGUAGES, MaturityModel, Option, Question
from flows.pulse import PULSE_SUFFIX
from flows.replies import Answered, Ask, Choice, MatrixChart, Reply, Say
from flows.results import (
    PastResult,
    StoredResult,
    phase_name,
    result_card,
    scan_card,
    scan_result,
    stored_result,
)
from flows.scan import SCAN_ID, QuickScan, score_scan
from flows.scoring import NotEnoughAnswers, score

RECHECK_MONTHS = ("1", "3", "6")
STATES = ["idle", "choosing_model", "intro", "asking", "reviewing", "result"]
ACTIVE = ["intro", "asking", "reviewing"]
SECONDS_PER_QUESTION = 20


@dataclass(frozen=True)
class Conversation:
    """What is remembered about a user's conversation between events (one row in storage)."""

    state: str = "idle"
    lang: str = "en"
    model_id: str | None = None
    assessment_id: str | None = None
    question_id: str | None = None


@dataclass(frozen=True)
class OpenAssessment:
    id: str
    model_id: str
    answers: dict[str, str | None]
    """question id -> option id; None where the user skipped the question."""


@dataclass(frozen=True)
class Inputs:
    """What the service loads from storage for one event."""

    open_assessments: dict[str, OpenAssessment] = field(default_factory=dict)
    """Unfinished assessments by model id."""
    history: tuple[PastResult, ...] | None = None
    """Finished results, newest first; loaded only for events that need them."""
    new_assessment_id: str = "0"
    initiatives: tuple[Initiative, ...] = ()
    """The user's initiatives, oldest first; loaded only for /initiatives."""
    """An id to use if this event starts an assessment (ids are made by the caller)."""


# Effects: what the service writes, in order, in the event's transaction.
@dataclass(frozen=True)
class CreateAssessment:
    assessment_id: str
    model_id: str


@dataclass(frozen=True)
class SaveAnswer:
    assessment_id: str
    question_id: str
    option_id: str | None


@dataclass(frozen=True)
class FinishAssessment:
    assessment_id: str
    model_id: str
    result: StoredResult


@dataclass(frozen=True)
class AbandonAssessment:
    assessment_id: str


@dataclass(frozen=True)
class SetLanguage:
    lang: str


@dataclass(frozen=True)
class AddInitiative:
    initiative: NewInitiative


@dataclass(frozen=True)
class RemoveInitiative:
    initiative_id: int


@dataclass(frozen=True)
class ScheduleRecheck:
    model_id: str
    months: int


Effect = (
    CreateAssessment
    | SaveAnswer
    | FinishAssessment
    | AbandonAssessment
    | SetLanguage
    | AddInitiative
    | RemoveInitiative
    | ScheduleRecheck
)


@dataclass(frozen=True)
class Outcome:
    conversation: Conversation
    replies: tuple[Reply, ...]
    effects: tuple[Effect, ...]


class Turn:
    """The machine's model for one event: holds the loaded data and collects the output."""

    def __init__(
        self, engine: Engine, conversation: Conversation, inputs: Inputs, event: Event
    ) -> None:
        self.engine = engine
        self.conv = conversation
        self.inputs = inputs
        self.event = event
        self.replies: list[Reply] = []
        self.effects: list[Effect] = []
        self.answers: dict[str, str | None] = {}
        self.pending: Option | None = None
        current = self.current_open()
        if current is not None:
            self.answers = dict(current.answers)

    # ---- helpers -------------------------------------------------------------------------
    @property
    def language(self) -> str:
        return self.conv.lang

    def say(self, key: str, choices: tuple[Choice, ...] = (), error: bool = False, **values):
        self.replies.append(Say(t(key, self.language, **values), choices, error))

    def model(self) -> MaturityModel | QuickScan | None:
        return self.engine.lookup(self.conv.model_id)

    def current_open(self) -> OpenAssessment | None:
        if self.conv.model_id is None:
            return None
        found = self.inputs.open_assessments.get(self.conv.model_id)
        if found is not None and found.id == self.conv.assessment_id:
            return found
        return None

    def question(self) -> Question | None:
        model = self.model()
        return model.question(self.conv.question_id or "") if model else None

    def first_unanswered(self) -> Question | None:
        model = self.model()
        return next((q for q in model.questions if q.id not in self.answers), None)

    def position(self, question: Question) -> int:
        return self.model().questions.index(question) + 1

    # ---- conditions ----------------------------------------------------------------------
    def model_unknown(self) -> bool:
        return self.engine.lookup(self.event.value) is None

    def has_progress(self) -> bool:
        found = self.inputs.open_assessments.get(self.event.value or "")
        return found is not None and bool(found.answers)

    def is_direct(self) -> bool:
        return self.event.direct

    def is_stale(self) -> bool:
        if self.event.question_id is None:  # typed, not a button: always about the current question
            return False
        return (
            self.event.assessment_id != self.conv.assessment_id
            or self.event.question_id != self.conv.question_id
        )

    def answer_valid(self) -> bool:
        return self.pending is not None

    def completes_with_pending(self) -> bool:
        """Whether answering the current question leaves none unanswered."""
        current = self.conv.question_id
        return all(q.id in self.answers or q.id == current for q in self.model().questions)

    def at_first_question(self) -> bool:
        question = self.question()
        return question is None or self.position(question) == 1

    def skippable(self) -> bool:
        question = self.question()
        return question is not None and question.skippable

    def has_current_open(self) -> bool:
        if self.current_open() is not None:
            return True
        # after /stop the conversation still names the model it paused
        return bool(self.conv.model_id and self.conv.model_id in self.inputs.open_assessments)

    def has_model(self) -> bool:
        return self.model() is not None

    def edit_valid(self) -> bool:
        model = self.model()
        return (
            model is not None
            and self.event.assessment_id == self.conv.assessment_id
            and model.question(self.event.value or "") is not None
        )

    # ---- preparing an answer -------------------------------------------------------------
    def parse_answer(self) -> None:
        """Turns the event into an option of the current question, or leaves `pending` empty."""
        self.pending = None
        question = self.question()
        if question is None or self.event.kind is not Kind.ANSWER:
            return
        if self.event.question_id is not None:  # a button: the option id is exact
            self.pending = next((o for o in question.options if o.id == self.event.value), None)
            return
        matched = match_option(question, self.event.value or "", self.language)
        if matched is not None and not isinstance(matched, str):
            self.pending = matched

    # ---- actions -------------------------------------------------------------------------
    def show_menu(self) -> None:
        """Maturity models first (where you stand), then implementation models (what to do),
        then the quick scan over all maturity models."""
        lang = self.language
        choices = []
        for model in self.engine.menu():
            if isinstance(model, QuickScan):
                line = t("scan_line", lang, count=len(model.questions))
            else:
                key = "step_model_line" if model.kind == "steps" else "model_line"
                line = t(
                    key,
                    lang,
                    name=model.name.get(lang),
                    author=model.author,
                    year=model.year,
                    count=len(model.questions),
                )
            choices.append(Choice(line, payload_model(model.id)))
        if self.event.kind in (Kind.START, Kind.OPEN) and self.conv.state == "idle":
            self.say("welcome")
        self.say("choose_model", tuple(choices))

    def say_model_unknown(self) -> None:
        if self.conv.state == "choosing_model":
            self.say("not_understood_model", error=True, count=len(self.engine.menu()))
            self.show_menu()
            return
        self.say(
            "model_unknown", error=True, value=self.event.value, ids=", ".join(self.engine.models)
        )

    def say_not_understood_intro(self) -> None:
        self.say("not_understood_intro", error=True)

    def say_not_understood_review(self) -> None:
        count = len(self.model().questions)
        self.say("not_understood_review", error=True, count=count, next=count + 1)
        self.show_review()

    def select_model(self) -> None:
        """Point the conversation at the chosen model (and its open assessment, if any)."""
        model_id = self.event.value
        found = self.inputs.open_assessments.get(model_id)
        self.conv = replace(
            self.conv,
            model_id=model_id,
            assessment_id=found.id if found else None,
            question_id=None,
        )
        self.answers = dict(found.answers) if found else {}

    def show_intro(self) -> None:
        self.select_model()
        self.say_intro()
        self.say(
            "intro_prompt",
            (
                Choice(t("begin_button", self.language), payload_command(Kind.BEGIN)),
                Choice(t("other_model_button", self.language), payload_command(Kind.MENU)),
            ),
        )

    def say_intro(self) -> None:
        model = self.model()
        count = len(model.questions)
        self.say(
            "intro",
            name=model.name.get(self.language),
            author=model.author,
            year=model.year,
            description=model.description.get(self.language),
            count=count,
            minutes=max(1, math.ceil(count * SECONDS_PER_QUESTION / 60)),
        )

    def begin_direct(self) -> None:
        self.select_model()
        self.say_intro()
        self.do_begin()

    def do_begin(self) -> None:
        """Start answering: reuse the open assessment of this model or create one."""
        if self.conv.assessment_id is None:
            self.create_assessment()
        self.ask_next()

    def create_assessment(self) -> None:
        new_id = self.inputs.new_assessment_id
        self.effects.append(CreateAssessment(new_id, self.conv.model_id))
        self.conv = replace(self.conv, assessment_id=new_id, question_id=None)
        self.answers = {}

    def do_resume(self) -> None:
        """Back to the question the user left (or, when starting the model anew, the first
        unanswered one)."""
        question = None
        if self.event.kind is Kind.CHOOSE:
            self.select_model()
        elif self.current_open() is None:  # the open assessment is not the one last shown
            found = self.inputs.open_assessments[self.conv.model_id]
            self.conv = replace(self.conv, assessment_id=found.id, question_id=None)
            self.answers = dict(found.answers)
        else:
            question = self.question()
        question = question or self.first_unanswered()
        model = self.model()
        self.say(
            "resumed",
            name=model.name.get(self.language),
            number=self.position(question),
            total=len(model.questions),
        )
        self.ask(question)

    def ask_next(self) -> None:
        self.ask(self.first_unanswered())

    def ask(self, question: Question) -> None:
        self.conv = replace(self.conv, question_id=question.id)
        model = self.model()
        lang = self.language
        aid = self.conv.assessment_id
        extra = ()
        if question.skippable:
            extra = (Choice(t("skip_button", lang), payload_command(Kind.SKIP)),)
        self.replies.append(
            Ask(
                assessment_id=aid,
                question_id=question.id,
                header=t(
                    "question_header",
                    lang,
                    number=self.position(question),
                    total=len(model.questions),
                ),
                text=question.text.get(lang),
                help=question.help.get(lang) if question.help else None,
                choices=tuple(
                    Choice(o.label.get(lang), payload_answer(aid, question.id, o.id))
                    for o in question.options
                ),
                extra_choices=extra,
            )
        )

    def ask_current(self) -> None:
        question = self.question()
        if question is None or self.event.kind is Kind.CONTINUE:
            question = self.first_unanswered()
        self.ask(question)

    def store_answer(self) -> None:
        question = self.question()
        option = self.pending
        self.answers[question.id] = option.id if option else None
        self.effects.append(
            SaveAnswer(self.conv.assessment_id, question.id, option.id if option else None)
        )
        answer = option.label.get(self.language) if option else t("review_skipped", self.language)
        self.replies.append(
            Answered(
                self.conv.assessment_id,
                question.id,
                t(
                    "answer_recorded",
                    self.language,
                    question=question.text.get(self.language),
                    answer=answer,
                ),
            )
        )

    def store_and_next(self) -> None:
        self.store_answer()
        self.ask_next()

    def store_and_finish(self) -> None:
        self.store_answer()
        self.finish()

    def prepare_skip(self) -> None:
        self.pending = None

    def finish(self) -> None:
        model = self.model()
        try:
            if isinstance(model, QuickScan):
                result = scan_result(
                    model, self.engine.models, score_scan(model, self.engine.models, self.answers)
                )
            else:
                result = stored_result(model, score(model, self.answers))
        except NotEnoughAnswers:
            self.say("all_skipped", error=True)
            return
        self.effects.append(FinishAssessment(self.conv.assessment_id, model.id, result))
        self.replies.append(self.card(model.id, result, self.conv.assessment_id))
        self.conv = replace(self.conv, question_id=None)

    def card(self, model_id: str, result: StoredResult, assessment_id: str) -> Reply:
        model = self.engine.lookup(model_id)
        if isinstance(model, QuickScan):
            return scan_card(model, self.engine.models, result, self.language, assessment_id)
        return result_card(model, result, self.language, assessment_id, self.engine.models)

    def reprompt(self) -> None:
        question = self.question()
        matched = match_option(question, self.event.value or "", self.language)
        key = "ambiguous_answer" if matched == "ambiguous" else "not_understood_answer"
        self.say(key, error=True, count=len(question.options))
        self.ask(question)

    def go_back(self) -> None:
        model = self.model()
        index = model.questions.index(self.question())
        self.ask(model.questions[index - 1])

    def say_stale(self) -> None:
        self.say("stale_button", error=True)
        self.ask_again()

    def say_at_first(self) -> None:
        self.say("at_first_question", error=True)
        self.ask(self.question())

    def say_cannot_skip(self) -> None:
        self.say("cannot_skip", error=True)
        self.ask(self.question())

    def pause(self) -> None:
        # the ids stay: /resume comes back to this very question
        self.say("paused")

    def do_restart(self) -> None:
        if self.conv.assessment_id is not None and self.current_open() is not None:
            self.effects.append(AbandonAssessment(self.conv.assessment_id))
        elif self.conv.model_id in self.inputs.open_assessments:
            stale = self.inputs.open_assessments[self.conv.model_id]
            self.effects.append(AbandonAssessment(stale.id))
        self.create_assessment()
        self.say("restarted", name=self.model().name.get(self.language))
        self.ask_next()

    def show_review(self) -> None:
        """Every question with its answer as a choice; the last choice continues."""
        model = self.model()
        choices = []
        for question in model.questions:
            if question.id not in self.answers:
                answer = t("review_unanswered", self.language)
            elif self.answers[question.id] is None:
                answer = t("review_skipped", self.language)
            else:
                option = next(o for o in question.options if o.id == self.answers[question.id])
                answer = option.label.get(self.language)
            label = t(
                "review_line",
                self.language,
                question=question.text.get(self.language),
                answer=answer,
            )
            choices.append(Choice(label, payload_edit(self.conv.assessment_id, question.id)))
        choices.append(Choice(t("continue_button", self.language), payload_command(Kind.CONTINUE)))
        self.say("review_header", tuple(choices), name=model.name.get(self.language))

    def jump_to(self) -> None:
        self.ask(self.model().question(self.event.value))

    def say_help(self) -> None:
        self.say("help")
        question = self.question()
        if self.conv.state == "asking" and question is not None:
            model = self.model()
            self.say(
                "help_current",
                name=model.name.get(self.language),
                number=self.position(question),
                total=len(model.questions),
            )
        self.ask_again()

    def set_language(self) -> None:
        value = (self.event.value or "").strip().lower()
        if not value:
            self.say("language_choose")
            return
        if value[:2] not in LANGUAGES or len(value) not in (2, 5):
            self.say("language_unknown", error=True, value=self.event.value)
            return
        lang = normalise_language(value)
        self.conv = replace(self.conv, lang=lang)
        self.effects.append(SetLanguage(lang))
        self.say("language_set")
        self.ask_again()

    def show_result(self) -> None:
        history = self.inputs.history or ()
        preferred = [r for r in history if r.model_id == self.conv.model_id] or list(history)
        shown = next((r for r in preferred if self.engine.lookup(r.model_id)), None)
        if shown is None:
            self.say("no_result")
            return
        self.replies.append(self.card(shown.model_id, shown.result, shown.assessment_id))

    def show_history(self) -> None:
        lines = []
        for past in self.inputs.history or ():
            model = self.engine.lookup(past.model_id)
            if model is None:
                continue
            lines.append(
                t(
                    "history_line",
                    self.language,
                    date=past.finished_at[:10],
                    model=model.name.get(self.language),
                    phase=phase_name(model, past.result.phase_id, self.language),
                )
            )
        if not lines:
            self.say("history_empty")
            return
        self.replies.append(Say(t("history_header", self.language) + "\n" + "\n".join(lines)))

    def handle_initiatives(self) -> None:
        """`/initiatives add|list|remove|matrix`: the Groundswell matrix, beside any assessment."""
        word, _, rest = (self.event.value or "").strip().partition(" ")
        word = word.lower()
        items = self.inputs.initiatives
        lang = self.language
        if word in ("add", "toevoegen"):
            try:
                new = parse_new(rest)
            except InitiativeInputError as problem:
                self.say(problem.key, error=True, **problem.values)
            else:
                self.effects.append(AddInitiative(new))
                key = "initiative_added" if new.goal else "initiative_added_no_goal"
                self.say(key, name=new.name, objective=objective_name(new.objective, lang))
        elif word in ("list", "lijst"):
            self.replies.append(Say(list_text(items, lang)))
        elif word in ("remove", "verwijder", "delete"):
            number = rest.strip()
            if number.isascii() and number.isdigit() and 1 <= int(number) <= len(items):
                gone = items[int(number) - 1]
                self.effects.append(RemoveInitiative(gone.id))
                self.say("initiative_removed", name=gone.name)
            else:
                self.say("initiative_bad_number", error=True, count=len(items))
        elif word == "matrix":
            if not items:
                self.say("initiatives_empty")
            else:
                self.replies.append(matrix_reply(items, lang))
        else:
            self.say("initiatives_help")
        self.ask_again()

    def schedule_recheck(self) -> None:
        """`/remind [model] 1|3|6`: a DM in that many months to redo the assessment."""
        words = (self.event.value or "").split()
        months = words[-1] if words else ""
        model_id = words[0] if len(words) > 1 else self.conv.model_id
        model = self.engine.models.get(model_id or "")
        if months not in RECHECK_MONTHS or model is None:
            self.say("recheck_usage", error=True)
        else:
            self.effects.append(ScheduleRecheck(model.id, int(months)))
            self.say("recheck_set", model=model.name.get(self.language), months=months)
        self.ask_again()

    def say_unknown_command(self) -> None:
        self.say("unknown_command", error=True, command=self.event.value)
        self.ask_again()

    def ask_again(self) -> None:
        """After a message that interrupts an assessment, show the open question again."""
        question = self.question()
        if self.conv.state == "asking" and question is not None:
            self.ask(question)

    def say_nothing_to_do(self) -> None:
        self.say("nothing_to_do")

    def say_nothing_to_resume(self) -> None:
        self.say("nothing_to_resume")

    def say_nothing_to_restart(self) -> None:
        self.say("nothing_to_restart")

    def say_nothing_to_review(self) -> None:
        self.say("nothing_to_review")

    def say_back_after_result(self) -> None:
        self.say("back_after_result")


def _t(trigger: str, source, dest=None, after=None, conditions=None, unless=None, prepare=None):
    spec = {"trigger": trigger, "source": source, "dest": dest}
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


def matrix_reply(items: tuple[Initiative, ...], lang: str) -> Say:
    matrix = build_matrix(items)
    no_goal = t("matrix_no_goal", lang)
    chart = MatrixChart(
        title=t("matrix_chart_title", lang),
        rows=objective_labels(lang),
        columns=tuple(goal or no_goal for goal in matrix.goals),
        cells=tuple(
            tuple(matrix.cells.get((objective, goal), ()) for goal in matrix.goals)
            for objective in OBJECTIVES
        ),
        key=f"matrix-{len(items)}-{abs(hash(tuple(i.id for i in items))) % 10**8}",
    )
    return Say(matrix_text(matrix, lang), chart=chart)


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
