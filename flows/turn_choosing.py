"""Choosing a model and opening, pausing, resuming or restarting its assessment: the moves
around the questions, kept apart from answering them."""

from __future__ import annotations

import math
from dataclasses import replace

from flows.engine_data import AbandonAssessment, CreateAssessment
from flows.events import Kind, payload_command, payload_model
from flows.i18n import t
from flows.replies import Choice
from flows.scan import QuickScan
from flows.turn_base import TurnBase

SECONDS_PER_QUESTION = 20


class ChoosingMixin(TurnBase):
    """The menu, a model's intro, and starting or coming back to its assessment."""

    def model_unknown(self) -> bool:
        return self.engine.lookup(self.event.value) is None

    def has_progress(self) -> bool:
        found = self.inputs.open_assessments.get(self.event.value or "")
        return found is not None and bool(found.answers)

    def is_direct(self) -> bool:
        return self.event.direct

    def has_current_open(self) -> bool:
        if self.current_open() is not None:
            return True
        # after /stop the conversation still names the model it paused
        return bool(self.conv.model_id and self.conv.model_id in self.inputs.open_assessments)

    def has_model(self) -> bool:
        return self.model() is not None

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

    def say_nothing_to_resume(self) -> None:
        self.say("nothing_to_resume")

    def say_nothing_to_restart(self) -> None:
        self.say("nothing_to_restart")
