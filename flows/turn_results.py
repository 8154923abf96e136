"""Finishing an assessment and showing results: where answers become a stored result and a
card, for a maturity model and for the quick scan alike."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from flows.engine_data import HISTORY_PAGE_SIZE, FinishAssessment
from flows.events import Kind, payload_command, payload_history
from flows.i18n import t
from flows.replies import Choice, Reply, Say
from flows.results import PastResult, StoredResult, phase_name, result_card, stored_result
from flows.scan import QuickScan, score_scan
from flows.scan_results import scan_card, scan_result
from flows.scoring import NotEnoughAnswers, score
from flows.step_results import step_card
from flows.turn_base import TurnBase

if TYPE_CHECKING:
    from flows.engine import Engine


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
        """The result card, offering a board report after its own follow-ups."""
        model = self.engine.lookup(model_id)
        if isinstance(model, QuickScan):
            card = scan_card(model, self.engine.models, result, self.language, assessment_id)
        elif model.kind == "steps":
            card = step_card(model, result, self.language, assessment_id)
        else:
            card = result_card(model, result, self.language, assessment_id, self.engine.models)
        offer = Choice(t("report_button", self.language), payload_command(Kind.REPORT))
        return replace(card, follow_up=(*card.follow_up, offer))

    def say_report(self) -> None:
        """`/report`, when the channel did not send a link itself (it has no dashboard)."""
        self.say("report_no_web")
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
        """One page of results (the newest by default), and how to see the older ones: typed
        (`/history 2`, said in the text, for every channel) and as a button."""
        page = self.inputs.history_page
        if page is None:
            self.say("history_bad_page", error=True, size=HISTORY_PAGE_SIZE)
            return
        if page.total == 0:
            self.say("history_empty")
            return
        if not page.results:
            last = -(-page.total // page.size)
            self.say("history_no_page", error=True, last_page=last)
            return
        lines = history_lines(self.engine, page.results, self.language)
        if page.number == 1 and not page.has_more:
            header = t("history_header", self.language)
        else:
            header = t(
                "history_page_header",
                self.language,
                first=page.first,
                last=page.first + len(page.results) - 1,
                total=page.total,
            )
        text = "\n".join([header, *lines])
        choices: tuple[Choice, ...] = ()
        if page.has_more:
            text += "\n\n" + t("history_more", self.language, page=page.number + 1)
            label = t("history_older_button", self.language)
            choices = (Choice(label, payload_history(page.number + 1)),)
        self.replies.append(Say(text, choices))

    def say_back_after_result(self) -> None:
        self.say("back_after_result")


def history_lines(engine: Engine, results: Iterable[PastResult], lang: str) -> list[str]:
    """One line per result ("date: model: phase"); results of a model no longer loaded are
    left out."""
    lines = []
    for past in results:
        model = engine.lookup(past.model_id)
        if model is None:
            continue
        lines.append(
            t(
                "history_line",
                lang,
                date=past.finished_at[:10],
                model=model.name.get(lang),
                phase=phase_name(model, past.result.phase_id, lang),
            )
        )
    return lines
