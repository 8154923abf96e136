"""Reviewing answers mid-assessment: a list to jump back into, kept apart so answering stays
about one question at a time."""

from __future__ import annotations

from flows.events import Kind, payload_command, payload_edit
from flows.i18n import t
from flows.replies import Choice
from flows.turn_base import TurnBase


class ReviewingMixin(TurnBase):
    """The review list and the ways out of it (edit one answer, continue, back)."""

    def edit_valid(self) -> bool:
        model = self.model()
        return (
            model is not None
            and self.event.assessment_id == self.conv.assessment_id
            and model.question(self.event.value or "") is not None
        )

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
                option = next(
                    (o for o in question.options if o.id == self.answers[question.id]), None
                )
                # an answer whose option a newer model file no longer has: ask it again
                answer = (
                    option.label.get(self.language)
                    if option
                    else t("review_unanswered", self.language)
                )
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

    def ask_current(self) -> None:
        question = self.question()
        if question is None or self.event.kind is Kind.CONTINUE:
            question = self.first_unanswered()
        self.ask(question)

    def say_not_understood_review(self) -> None:
        count = len(self.model().questions)
        self.say("not_understood_review", error=True, count=count, next=count + 1)
        self.show_review()

    def say_nothing_to_review(self) -> None:
        self.say("nothing_to_review")
