"""The quick scan: a few questions on what the maturity models share, placed on every model.

The crosswalk (model_data/_scan.yaml) maps each answer onto a phase of each maturity model; each
model then scores the mapped answers with its own rule (staircase, or weakest pillar where the
crosswalk names pillars). It is content as data, validated like the models, and references the
models it maps onto, so a renamed phase id fails at start-up rather than in a conversation.
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
from flows.scoring import staircase

SCAN_ID = "scan"


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


class ScanQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    dimension: Text
    """Short name of the shared dimension ("measurement"), used when explaining disagreements."""
    text: Text
    help: Text | None = None
    skippable: bool = False
    pillars: dict[str, str] = Field(default_factory=dict)
    """Pillar model id -> the pillar this question speaks to."""
    next_step: StepPointer
    """The implementation step to take when this dimension is the weakest."""
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
    questions: list[ScanQuestion] = Field(min_length=4, max_length=12)

    @model_validator(mode="after")
    def _ids(self) -> QuickScan:
        seen: set[str] = set()
        for question in self.questions:
            if question.id in seen:
                raise ValueError(f"questions: duplicate id '{question.id}'")
            seen.add(question.id)
        return self

    def question(self, question_id: str) -> ScanQuestion | None:
        return next((q for q in self.questions if q.id == question_id), None)


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
    for qi, question in enumerate(scan.questions):
        where = f"questions[{qi}] ({question.id})"
        target = models.get(question.next_step.model)
        if target is None or target.kind != "steps":
            problems.append(
                (f"{where}.next_step.model", f"'{question.next_step.model}' is not a step model")
            )
        elif question.next_step.step not in {p.id for p in target.phases}:
            problems.append((f"{where}.next_step.step", f"no step '{question.next_step.step}'"))
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
    for model_id in scan.models:
        model = models[model_id]
        least = place(scan, model, {q.id: q.options[0].id for q in scan.questions})
        most = place(scan, model, {q.id: q.options[-1].id for q in scan.questions})
        if least != 0 or most != len(model.phases) - 1:
            problems.append(
                ("questions", f"all-least/all-most answers must give {model_id}'s first/last phase")
            )
    return problems


def place(scan: QuickScan, model: MaturityModel, answers: Mapping[str, str | None]) -> int:
    """The phase index the answers map to in `model`, by that model's own rule."""
    levels: list[tuple[ScanQuestion, int]] = []
    for question in scan.questions:
        option = next((o for o in question.options if o.id == answers.get(question.id)), None)
        if option is not None:
            levels.append((question, model.phase_index(option.maps[model.id])))
    count = len(model.phases)
    threshold = model.scoring.threshold
    if model.kind == "pillars":
        per_pillar = {}
        for question, level in levels:
            per_pillar.setdefault(question.pillars[model.id], []).append(level)
        return min(staircase(v, count, threshold) for v in per_pillar.values())
    return staircase([level for _, level in levels], count, threshold)


@dataclass(frozen=True)
class ScanScore:
    placements: dict[str, int]
    """Model id -> phase index."""
    weakest: str
    """Question id of the weakest dimension (gives the next implementation step)."""
    disagreement: tuple[str, str, str] | None
    """(most advanced model, least advanced model, question id that differs most) or None."""


DISAGREE_AT = 1 / 3
"""Relative positions (0 = first phase, 1 = last) this far apart count as disagreeing: one
phase of a four-phase model."""


def score_scan(
    scan: QuickScan, models: Mapping[str, MaturityModel], answers: Mapping[str, str | None]
) -> ScanScore:
    placements = {m: place(scan, models[m], answers) for m in scan.models}

    def relative(model_id: str, index: int) -> float:
        return index / (len(models[model_id].phases) - 1)

    positions = {m: relative(m, i) for m, i in placements.items()}
    chosen = {
        q.id: next((o for o in q.options if o.id == answers.get(q.id)), None)
        for q in scan.questions
    }
    answered = [q for q in scan.questions if chosen[q.id] is not None]
    # the weakest dimension: the lowest average relative position over the models
    weakest = min(
        answered,
        key=lambda q: sum(
            relative(m, models[m].phase_index(chosen[q.id].maps[m])) for m in scan.models
        ),
    )
    disagreement = None
    high = max(positions, key=positions.get)
    low = min(positions, key=positions.get)
    if positions[high] - positions[low] >= DISAGREE_AT - 1e-9:
        differs = max(
            answered,
            key=lambda q: (
                relative(high, models[high].phase_index(chosen[q.id].maps[high]))
                - relative(low, models[low].phase_index(chosen[q.id].maps[low]))
            ),
        )
        disagreement = (high, low, differs.id)
    return ScanScore(placements, weakest.id, disagreement)
