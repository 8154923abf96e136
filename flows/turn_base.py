"""What every part of a turn shares: the loaded state, the collected output and the way a
question is put, so each seam (choosing, answering, reviewing, ...) can stay about its own job.

The seams are mixins on `TurnBase`; `flows.engine.Turn` combines them, because the machine calls
its callbacks by name on that one model. A seam that needs another one builds on it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from flows.engine_data import Conversation, Effect, Inputs, OpenAssessment
from flows.events import Event, Kind, payload_answer, payload_command
from flows.i18n import t
from flows.model_schema import MaturityModel, Option, Question
from flows.replies import Ask, Choice, Reply, Say
from flows.scan import QuickScan
from flows.scoring import done_steps

if TYPE_CHECKING:
    from flows.engine import Engine


class TurnBase:
    """Holds one event's loaded data and collects its output; the seams build on it, and
    `flows.engine.Turn` (all seams together) is what the machine runs on."""

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

    @property
    def language(self) -> str:
        return self.conv.lang

    def say(
        self, key: str, choices: tuple[Choice, ...] = (), error: bool = False, **values: object
    ) -> None:
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

    def ask_next(self) -> None:
        self.ask(self.first_unanswered())

    def ask(self, question: Question) -> None:
        self.conv = replace(self.conv, question_id=question.id)
        model = self.model()
        lang = self.language
        aid = self.conv.assessment_id
        extra: tuple[Choice, ...] = ()
        if question.skippable:
            extra = (Choice(t("skip_button", lang), payload_command(Kind.SKIP)),)
        if self.exit_moment_applies():
            extra += (Choice(t("exit_moment_stop_button", lang), payload_command(Kind.FINISH_NOW)),)
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

    def exit_moment_applies(self) -> bool:
        """A step model whose first step is a go/no-go, answered in full and not done: the
        plan questions after it can wait until the organisation is ready."""
        model = self.model()
        if getattr(model, "kind", None) != "steps" or not model.phases[0].exit_moment:
            return False
        gate = [q for q in model.questions if q.step == model.phases[0].id]
        if not all(self.answers.get(q.id) is not None for q in gate):
            return False
        return model.phases[0].id not in done_steps(model, self.answers)

    def ask_again(self) -> None:
        """After a message that interrupts an assessment, show the open question again."""
        question = self.question()
        if self.conv.state == "asking" and question is not None:
            self.ask(question)
