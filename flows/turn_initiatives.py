"""`/initiatives`: the user's Groundswell initiatives and their matrix, kept beside (not inside)
any assessment, so the assessment seams never see them."""

from __future__ import annotations

from flows.engine_data import AddInitiative, RemoveInitiative
from flows.i18n import t
from flows.initiatives import (
    OBJECTIVES,
    Initiative,
    InitiativeInputError,
    build_matrix,
    list_text,
    matrix_text,
    objective_labels,
    objective_name,
    parse_new,
)
from flows.replies import MatrixChart, Say
from flows.turn_base import TurnBase


class InitiativesMixin(TurnBase):
    """The `initiatives` event: add, list, remove, matrix."""

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


def matrix_reply(items: tuple[Initiative, ...], lang: str) -> Say:
    """The matrix as text and as a chart, so a channel that cannot draw still shows it all."""
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
