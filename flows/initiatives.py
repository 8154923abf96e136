"""The Groundswell initiatives matrix: current initiatives × the organisation's goals.

From the BMM-based method (seed 003): list what already runs, tie each initiative to one
Groundswell objective (Li & Bernoff, 2008) and to an organisational goal, so every initiative has
a reason and a business case, and gaps show: initiatives without a goal, objectives nobody works on.
Pure logic: parsing the command, building the matrix, the texts. Storage and the PNG live in bot/.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flows.i18n import t
from flows.text import one_line

OBJECTIVES: tuple[str, ...] = ("listening", "talking", "energizing", "supporting", "embracing")
"""The Groundswell objectives, in the book's growth order."""

_OBJECTIVE_WORDS: dict[str, str] = {
    "listening": "listening",
    "luisteren": "listening",
    "talking": "talking",
    "praten": "talking",
    "energizing": "energizing",
    "energising": "energizing",
    "activeren": "energizing",
    "enthousiasmeren": "energizing",
    "supporting": "supporting",
    "ondersteunen": "supporting",
    "embracing": "embracing",
    "omarmen": "embracing",
}

MAX_NAME = 80


@dataclass(frozen=True)
class Initiative:
    id: int
    name: str
    channel: str
    objective: str
    goal: str | None


@dataclass(frozen=True)
class NewInitiative:
    name: str
    channel: str
    objective: str
    goal: str | None


class InitiativeInputError(ValueError):
    """The user's words do not make an initiative; `key` names the message that explains why."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def objective_name(objective: str, lang: str) -> str:
    return t(f"objective_{objective}", lang)


def parse_objective(text: str) -> str | None:
    cleaned = text.strip().lower()
    if cleaned.isascii() and cleaned.isdigit() and 1 <= int(cleaned) <= len(OBJECTIVES):
        return OBJECTIVES[int(cleaned) - 1]
    return _OBJECTIVE_WORDS.get(cleaned)


def parse_new(text: str) -> NewInitiative:
    """`name; channel; objective; goal` (goal may be left out: the matrix will flag it).

    Each field is one line (`one_line`): a name is shown in lists, the matrix and its chart."""
    parts = [one_line(part) for part in text.split(";")]
    if len(parts) < 3 or not all(parts[:3]):
        raise InitiativeInputError("initiative_add_usage")
    name, channel, objective_text = parts[:3]
    goal = parts[3] if len(parts) > 3 and parts[3] else None
    objective = parse_objective(objective_text)
    if objective is None:
        raise InitiativeInputError("initiative_bad_objective", value=objective_text)
    if len(name) > MAX_NAME or len(channel) > MAX_NAME or (goal and len(goal) > MAX_NAME):
        raise InitiativeInputError("initiative_too_long", limit=MAX_NAME)
    return NewInitiative(name, channel, objective, goal)


@dataclass(frozen=True)
class Matrix:
    goals: tuple[str | None, ...]
    """Column order: goals as first named, None (no goal) last."""
    cells: dict[tuple[str, str | None], tuple[str, ...]]
    """(objective, goal) -> initiative names."""
    without_goal: tuple[str, ...]
    empty_objectives: tuple[str, ...]


def build_matrix(initiatives: Sequence[Initiative]) -> Matrix:
    goals: list[str | None] = []
    cells: dict[tuple[str, str | None], list[str]] = {}
    for item in initiatives:
        goal = item.goal
        key_goal = next((g for g in goals if g and goal and g.lower() == goal.lower()), goal)
        if key_goal not in goals:
            goals.append(key_goal)
        cells.setdefault((item.objective, key_goal), []).append(item.name)
    goals.sort(key=lambda g: g is None)
    return Matrix(
        goals=tuple(goals),
        cells={key: tuple(names) for key, names in cells.items()},
        without_goal=tuple(i.name for i in initiatives if not i.goal),
        empty_objectives=tuple(
            o for o in OBJECTIVES if not any(item.objective == o for item in initiatives)
        ),
    )


def matrix_text(matrix: Matrix, lang: str) -> str:
    """The matrix as lines per objective (a chat has no room for a wide grid)."""
    lines = [t("matrix_header", lang)]
    no_goal = t("matrix_no_goal", lang)
    for objective in OBJECTIVES:
        entries = [
            f"{name} → {goal or no_goal}"
            for goal in matrix.goals
            for name in matrix.cells.get((objective, goal), ())
        ]
        label = objective_name(objective, lang)
        lines.append(f"{label}: {'; '.join(entries) if entries else '-'}")
    if matrix.without_goal:
        lines.append("")
        lines.append(t("matrix_flag_no_goal", lang, names=", ".join(matrix.without_goal)))
    if matrix.empty_objectives:
        names = ", ".join(objective_name(o, lang) for o in matrix.empty_objectives)
        lines.append(t("matrix_flag_empty", lang, names=names))
    return "\n".join(lines)


def list_text(initiatives: Sequence[Initiative], lang: str) -> str:
    if not initiatives:
        return t("initiatives_empty", lang)
    no_goal = t("matrix_no_goal", lang)
    lines = [t("initiatives_header", lang)]
    for number, item in enumerate(initiatives, 1):
        lines.append(
            t(
                "initiative_line",
                lang,
                number=number,
                name=item.name,
                channel=item.channel,
                objective=objective_name(item.objective, lang),
                goal=item.goal or no_goal,
            )
        )
    return "\n".join(lines)


def objective_labels(lang: str) -> tuple[str, ...]:
    return tuple(objective_name(o, lang) for o in OBJECTIVES)
