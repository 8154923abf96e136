"""The quick scan: a few questions on what the maturity models share, placed on every model.

The crosswalk (model_data/_scan.yaml) maps each answer onto a phase of each maturity model; each
model then scores the mapped answers with its own rule (staircase, or weakest pillar where the
crosswalk names pillars). It is content as data, validated like the models, and references the
models it maps onto, so a renamed phase id fails at start-up rather than in a conversation.

The diagnosis is relative to the organisation itself. An answer's *position* is where it sits on
the four models' scales (0 = every model's first phase, 1 = every model's last), averaged; the
organisation's *overall position* is the average over its answers. The next step goes to the
answer that lags furthest behind that overall position (a basic step for an answer low on the
scales, an advanced one for an answer past the middle or for an organisation at the top); when
no answer lags, to the step that fits the overall position. Where two models disagree, the scan
names the answer that holds the less advanced model back and that the two models rate furthest
apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, model_validator

from flows.model_schema import (
    ID_PATTERN,
    OPTION_ID_PATTERN,
    MaturityModel,
    Text,
)
from flows.scoring import NotEnoughAnswers, staircase

SCAN_ID = "scan"

LAG_AT = 0.15
"""An answer lags when its position is at least this far below the organisation's overall
position: about half a rung of the five-option questions (answers on the same rung differ by
less, because each question maps onto the models a little differently)."""

ADVANCED_FROM = 0.5
"""A lagging answer at or past the middle of the models' scales gets its question's advanced
step (below it, the basic step, unless the organisation is at the top)."""

DISAGREE_AT = 1 / 3
"""Relative positions (0 = first phase, 1 = last) this far apart count as disagreeing: one
phase of a four-phase model."""

EPSILON = 1e-9


class ScanOption(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=OPTION_ID_PATTERN)
    label: Text
    maps: dict[str, str]
    """Model id -> phase (or level) id this answer stands for in that model."""


class StepPointer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    step: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.model, self.step)


class QuestionSteps(BaseModel):
    """The implementation steps for when this question's answer lags behind the others."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    basic: StepPointer
    """A beginner's step: put the basics of this dimension in place (for an answer low on the
    scales, in an organisation that is not at the top)."""
    advanced: StepPointer
    """Take this dimension further (for an answer past the middle of the scales, and for every
    lagging answer of an organisation at the top). Never one of the scan's beginner's steps."""


class PositionStep(StepPointer):
    """The step for an organisation none of whose answers lags: by its overall position."""

    at_least: float = Field(ge=0, lt=1)
    """This step applies from this overall position up to the next entry's."""
    position: Text
    """How the reason line describes this overall position ("you are at the top: ...")."""


class ScanQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    dimension: Text
    """Short name of the shared dimension ("measurement"), used when explaining the result."""
    text: Text
    help: Text | None = None
    skippable: bool = False
    pillars: dict[str, str] = Field(default_factory=dict)
    """Pillar model id -> the pillar this question speaks to."""
    next_step: QuestionSteps
    """The implementation steps to take when this dimension lags behind the others."""
    options: list[ScanOption] = Field(min_length=2, max_length=8)


class QuickScan(BaseModel):
    """Quacks like a MaturityModel where the conversation needs it (id, names, questions)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = SCAN_ID
    kind: str = "scan"
    name: Text
    author: str
    year: int
    source: str
    description: Text
    models: list[str] = Field(min_length=2)
    """The maturity models the scan places you on, in table order."""
    notes: dict[str, Text]
    """Per model: what it weighs most, shown when the models disagree."""
    overall_steps: list[PositionStep] = Field(min_length=2)
    """When no answer lags: the step by overall position, lowest position first (the first entry
    from 0; the last entry is "the top", where only advanced steps are given)."""
    questions: list[ScanQuestion] = Field(min_length=4, max_length=12)

    @model_validator(mode="after")
    def _ids(self) -> QuickScan:
        seen: set[str] = set()
        for question in self.questions:
            if question.id in seen:
                raise ValueError(f"questions: duplicate id '{question.id}'")
            seen.add(question.id)
        return self

    @model_validator(mode="after")
    def _positions(self) -> QuickScan:
        starts = [entry.at_least for entry in self.overall_steps]
        if starts[0] != 0:
            raise ValueError("overall_steps: the first entry must start at at_least: 0")
        if any(b <= a for a, b in zip(starts, starts[1:], strict=False)):
            raise ValueError("overall_steps: at_least must rise from entry to entry")
        return self

    def question(self, question_id: str) -> ScanQuestion | None:
        return next((q for q in self.questions if q.id == question_id), None)

    @property
    def top_from(self) -> float:
        """The overall position from which an organisation counts as at the top."""
        return self.overall_steps[-1].at_least

    def beginner_steps(self) -> set[tuple[str, str]]:
        """Every step the scan gives as a beginner's step."""
        return {q.next_step.basic.key for q in self.questions} | {self.overall_steps[0].key}

    def overall_step(self, position: float) -> PositionStep:
        return [e for e in self.overall_steps if e.at_least <= position + EPSILON][-1]


def _check_step(
    pointer: StepPointer, where: str, models: Mapping[str, MaturityModel]
) -> list[tuple[str, str]]:
    target = models.get(pointer.model)
    if target is None or target.kind != "steps":
        return [(f"{where}.model", f"'{pointer.model}' is not a step model")]
    if pointer.step not in {p.id for p in target.phases}:
        return [(f"{where}.step", f"no step '{pointer.step}'")]
    return []


def check_crosswalk(scan: QuickScan, models: Mapping[str, MaturityModel]) -> list[tuple[str, str]]:
    """(field, problem) for every reference the crosswalk gets wrong; empty when sound."""
    problems: list[tuple[str, str]] = []
    for model_id in scan.models:
        model = models.get(model_id)
        if model is None or model.kind not in ("stages", "pillars"):
            problems.append(("models", f"'{model_id}' is not a maturity model"))
        elif model_id not in scan.notes:
            problems.append((f"notes.{model_id}", "missing"))
    if problems:
        return problems
    problems += _check_steps(scan, models)
    for qi, question in enumerate(scan.questions):
        where = f"questions[{qi}] ({question.id})"
        for model_id, pillar in question.pillars.items():
            model = models.get(model_id)
            if model is None or model.pillar(pillar) is None:
                problems.append((f"{where}.pillars.{model_id}", f"unknown pillar '{pillar}'"))
        for model_id in scan.models:
            model = models[model_id]
            if model.kind == "pillars" and model_id not in question.pillars:
                problems.append((f"{where}.pillars.{model_id}", "missing"))
            ranks = []
            for oi, option in enumerate(question.options):
                phase = option.maps.get(model_id)
                if phase is None or phase not in {p.id for p in model.phases}:
                    problems.append(
                        (
                            f"{where}.options[{oi}] ({option.id}).maps.{model_id}",
                            f"missing or unknown phase '{phase}'",
                        )
                    )
                    continue
                ranks.append(model.phase_index(phase))
            if ranks != sorted(ranks):
                problems.append((f"{where}.options", f"must rise in {model_id}'s phases"))
    if problems:
        return problems
    for model_id in scan.models:
        model = models[model_id]
        least = place(scan, model, {q.id: q.options[0].id for q in scan.questions})
        most = place(scan, model, {q.id: q.options[-1].id for q in scan.questions})
        if least != 0 or most != len(model.phases) - 1:
            problems.append(
                ("questions", f"all-least/all-most answers must give {model_id}'s first/last phase")
            )
    return problems


def _check_steps(scan: QuickScan, models: Mapping[str, MaturityModel]) -> list[tuple[str, str]]:
    """Every step exists; the result can always tell which rule chose its step; and no step the
    scan gives as a beginner's step can be given at the top."""
    problems: list[tuple[str, str]] = []
    question_steps: set[tuple[str, str]] = set()
    for qi, question in enumerate(scan.questions):
        where = f"questions[{qi}] ({question.id}).next_step"
        problems += _check_step(question.next_step.basic, f"{where}.basic", models)
        problems += _check_step(question.next_step.advanced, f"{where}.advanced", models)
        question_steps |= {question.next_step.basic.key, question.next_step.advanced.key}
    seen: set[tuple[str, str]] = set()
    for ei, entry in enumerate(scan.overall_steps):
        where = f"overall_steps[{ei}]"
        problems += _check_step(entry, where, models)
        if entry.key in seen or entry.key in question_steps:
            problems.append((where, "must differ from every other step the scan names"))
        seen.add(entry.key)
    beginner = scan.beginner_steps()
    for qi, question in enumerate(scan.questions):
        if question.next_step.advanced.key in beginner:
            problems.append(
                (
                    f"questions[{qi}] ({question.id}).next_step.advanced",
                    "is also a beginner's step (a basic step or the first overall step)",
                )
            )
    if scan.overall_steps[-1].key in beginner:
        problems.append((f"overall_steps[{len(scan.overall_steps) - 1}]", "is a beginner's step"))
    return problems


def place(scan: QuickScan, model: MaturityModel, answers: Mapping[str, str | None]) -> int:
    """The phase index the answers map to in `model`, by that model's own rule."""
    levels = _levels(scan, model, answers)
    count = len(model.phases)
    threshold = model.scoring.threshold
    if model.kind == "pillars":
        if not levels:
            raise NotEnoughAnswers("no answers to score")
        return min(_pillar_levels(model, levels).values())
    return staircase([level for _, level in levels], count, threshold)


def _chosen(scan: QuickScan, answers: Mapping[str, str | None]) -> dict[str, ScanOption]:
    """Question id -> the chosen option, for the answered questions, in scan order."""
    chosen = {}
    for question in scan.questions:
        option = next((o for o in question.options if o.id == answers.get(question.id)), None)
        if option is not None:
            chosen[question.id] = option
    return chosen


def _levels(
    scan: QuickScan, model: MaturityModel, answers: Mapping[str, str | None]
) -> list[tuple[ScanQuestion, int]]:
    chosen = _chosen(scan, answers)
    return [
        (q, model.phase_index(chosen[q.id].maps[model.id]))
        for q in scan.questions
        if q.id in chosen
    ]


def _pillar_levels(model: MaturityModel, levels: list[tuple[ScanQuestion, int]]) -> dict[str, int]:
    per_pillar: dict[str, list[int]] = {}
    for question, level in levels:
        per_pillar.setdefault(question.pillars[model.id], []).append(level)
    return {
        pillar: staircase(values, len(model.phases), model.scoring.threshold)
        for pillar, values in per_pillar.items()
    }


def relative(model: MaturityModel, index: int) -> float:
    """A phase index as a position on the model's scale: 0 = first phase, 1 = last."""
    return index / (len(model.phases) - 1)


def answer_position(
    scan: QuickScan, models: Mapping[str, MaturityModel], option: ScanOption
) -> float:
    """Where an answer sits on the four models' scales, averaged (0 = first phases, 1 = last)."""
    return sum(
        relative(models[m], models[m].phase_index(option.maps[m])) for m in scan.models
    ) / len(scan.models)


@dataclass(frozen=True)
class ScanScore:
    placements: dict[str, int]
    """Model id -> phase index."""
    answers: dict[str, str]
    """Question id -> chosen option id, for the answered questions."""
    overall: float
    """The organisation's overall position: the average of its answers' positions."""
    lagging: str | None
    """The question whose answer lags furthest behind the overall position, if any lags."""
    next_step: tuple[str, str]
    """(step model id, step id): the lagging question's step, or the overall position's."""
    disagreement: tuple[str, str, str] | None
    """(most advanced model, least advanced model, question id of the answer that makes the
    difference) or None."""


def score_scan(
    scan: QuickScan, models: Mapping[str, MaturityModel], answers: Mapping[str, str | None]
) -> ScanScore:
    placements = {m: place(scan, models[m], answers) for m in scan.models}
    chosen = _chosen(scan, answers)
    positions = {q: answer_position(scan, models, o) for q, o in chosen.items()}
    overall = sum(positions.values()) / len(positions)
    at_top = overall >= scan.top_from - EPSILON or all(
        index == len(models[m].phases) - 1 for m, index in placements.items()
    )
    # the answer lagging furthest behind the organisation's own overall position (first on a tie)
    lagging = max(positions, key=lambda q: round(overall - positions[q], 9))
    if overall - positions[lagging] >= LAG_AT - EPSILON:
        steps = scan.question(lagging).next_step
        advanced = at_top or positions[lagging] >= ADVANCED_FROM - EPSILON
        next_step = (steps.advanced if advanced else steps.basic).key
    else:
        lagging = None
        next_step = scan.overall_step(overall).key
    return ScanScore(
        placements=placements,
        answers={q: o.id for q, o in chosen.items()},
        overall=overall,
        lagging=lagging,
        next_step=next_step,
        disagreement=_disagreement(scan, models, answers, placements),
    )


def _disagreement(
    scan: QuickScan,
    models: Mapping[str, MaturityModel],
    answers: Mapping[str, str | None],
    placements: Mapping[str, int],
) -> tuple[str, str, str] | None:
    """The two models furthest apart (if a third of the scale or more) and the answer that makes
    the difference: among the answers that hold the less advanced model back (at or below its
    phase; for a pillar model, in a pillar at that level), the one the two models rate furthest
    apart, relative to each model's scale (then the one the more advanced model rates highest,
    then the first)."""
    positions = {m: relative(models[m], i) for m, i in placements.items()}
    high = max(positions, key=positions.get)
    low = min(positions, key=positions.get)
    if positions[high] - positions[low] < DISAGREE_AT - EPSILON:
        return None
    low_model, high_model = models[low], models[high]
    levels = _levels(scan, low_model, answers)
    if low_model.kind == "pillars":
        capping = {
            p for p, level in _pillar_levels(low_model, levels).items() if level == placements[low]
        }
        levels = [(q, level) for q, level in levels if q.pillars[low] in capping]
    holders = [q for q, level in levels if level <= placements[low]]
    chosen = _chosen(scan, answers)

    def rated(question: ScanQuestion, model: MaturityModel) -> float:
        return relative(model, model.phase_index(chosen[question.id].maps[model.id]))

    driver = max(
        holders,
        key=lambda q: (
            round(rated(q, high_model) - rated(q, low_model), 9),
            round(rated(q, high_model), 9),
        ),
    )
    return (high, low, driver.id)
