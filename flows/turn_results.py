"""Finishing an assessment and showing results: where answers become a stored result and a
card, for a maturity model and for the quick scan alike."""

from __future__ import annotations

from dataclasses import replace

from flows.engine_data import FinishAssessment
from flows.i18n import t
from flows.replies import Reply, Say
from flows.results import StoredResult, phase_name, result_card, stored_result
from flows.scan import QuickScan, score_scan
from flows.scan_results import scan_card, scan_result
from flows.scoring import NotEnoughAnswers, score
from flows.step_results import step_card
from flows.turn_base import TurnBase


class ResultsMixin(TurnBase):
    """Scoring a finished assessment, `/result` and `/history`."""

    def finish(self) -> None:
        model = self.model()
        try:
            if isinstance(model, QuickScan):
                result = scan_result(
                    model, self.engine.models, score_scan(model, self.engine.models, self.answers)
                )
            else:
                result = stored_result(model, score(model, self.answers), self.answers)
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
        if model.kind == "steps":
            return step_card(model, result, self.language, assessment_id)
        return result_card(model, result, self.language, assessment_id, self.engine.models)

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

    def say_back_after_result(self) -> None:
        self.say("back_after_result")
