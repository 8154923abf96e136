"""Answering the current question (by button or typed text), skipping it or going back: the
one place that decides what counts as an answer and stores it."""

from __future__ import annotations

from flows.engine_data import SaveAnswer
from flows.events import Kind
from flows.i18n import t
from flows.interpret import match_option
from flows.replies import Answered
from flows.turn_results import ResultsMixin


class AnsweringMixin(ResultsMixin):
    """Guards and actions for the `answer`, `skip` and `back` events while asking; built on
    the results seam because the last answer finishes the assessment."""

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
        if self.exit_moment_reached():
            self.say("exit_moment_offer")  # the questions after it carry the stop button
        self.ask_next()

    def exit_moment_reached(self) -> bool:
        """The answer just stored completed a failed exit moment (said once, right then)."""
        question = self.question()
        model = self.model()
        return (
            question is not None
            and self.exit_moment_applies()
            and question.step == model.phases[0].id
        )

    def store_and_finish(self) -> None:
        self.store_answer()
        self.finish()

    def prepare_skip(self) -> None:
        self.pending = None

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
