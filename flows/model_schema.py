"""The shape of a maturity model file, validated with pydantic.

Model content lives in YAML so that authors (not programmers) can add or fix a model; this schema
is the contract that keeps a broken file from reaching a user halfway through an assessment.
Every check that can be made without answering questions is made here, at start-up.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

LANGUAGES: tuple[str, ...] = ("nl", "en")
"""Every user-facing text exists in each of these; `nl` is the models' source language."""

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,23}$"
"""Short, stable ids: they are stored in the database and travel in button payloads (Telegram
allows 64 bytes of callback data: "a:<12-char assessment>:<24>:<12>" stays within it)."""
OPTION_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,11}$"


class Text(BaseModel):
    """A text in every supported language."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    nl: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return getattr(self, lang) if lang in LANGUAGES else self.en

    @field_validator("nl", "en")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is blank")
        return value.strip()


class Phase(BaseModel):
    """A phase (stage models) or level (pillar models), ordered from least to most mature."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    name: Text
    description: Text
    next_actions: list[Text] = Field(min_length=3)
    """What to do to reach the following phase; for the last phase, how to stay there."""


class Pillar(BaseModel):
    """A dimension scored on its own (BMM-style models); the weakest one caps the whole."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    name: Text
    description: Text
    next_actions: dict[str, list[Text]]
    """Per level id (every level but the last): what lifts this pillar to the next level."""


class Option(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=OPTION_ID_PATTERN)
    label: Text
    phase: str
    """Id of the phase (or level) this answer points at."""


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    text: Text
    help: Text | None = None
    pillar: str | None = None
    skippable: bool = False
    pulse: bool = False
    """Part of the short pulse set that teams re-measure periodically."""
    options: list[Option] = Field(min_length=2, max_length=8)


class Scoring(BaseModel):
    """How answers become a phase; see README "Scoring" for the reasoning."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["staircase", "weakest_pillar"]
    threshold: float = Field(default=0.75, gt=0.0, le=1.0)
    """Share of answers that must be at a phase or above for that phase to count as reached."""


class MaturityModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    kind: Literal["stages", "pillars"]
    name: Text
    author: str = Field(min_length=1)
    year: int = Field(ge=1990, le=2100)
    source: str = Field(min_length=1)
    description: Text
    scoring: Scoring
    phases: list[Phase] = Field(min_length=2)
    pillars: list[Pillar] = Field(default_factory=list)
    questions: list[Question] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> MaturityModel:
        _unique("phases", [p.id for p in self.phases])
        _unique("pillars", [p.id for p in self.pillars])
        _unique("questions", [q.id for q in self.questions])
        phase_ids = {p.id for p in self.phases}
        pillar_ids = {p.id for p in self.pillars}
        if self.kind == "pillars":
            if self.scoring.method != "weakest_pillar":
                raise ValueError("scoring.method: a pillar model is scored with 'weakest_pillar'")
            if not self.pillars:
                raise ValueError("pillars: a pillar model needs at least one pillar")
        else:
            if self.scoring.method != "staircase":
                raise ValueError("scoring.method: a stage model is scored with 'staircase'")
            if self.pillars:
                raise ValueError("pillars: only models of kind 'pillars' have pillars")
        rank = {p.id: i for i, p in enumerate(self.phases)}
        for qi, question in enumerate(self.questions):
            where = f"questions[{qi}] ({question.id})"
            _unique(f"{where}.options", [o.id for o in question.options])
            for oi, option in enumerate(question.options):
                if option.phase not in phase_ids:
                    raise ValueError(
                        f"{where}.options[{oi}].phase: unknown phase '{option.phase}' "
                        f"(known: {', '.join(p.id for p in self.phases)})"
                    )
            ranks = [rank[o.phase] for o in question.options]
            if ranks != sorted(ranks):
                raise ValueError(f"{where}.options: must be ordered from least to most mature")
            if self.kind == "pillars":
                if question.pillar not in pillar_ids:
                    raise ValueError(
                        f"{where}.pillar: unknown or missing pillar '{question.pillar}'"
                    )
            elif question.pillar is not None:
                raise ValueError(f"{where}.pillar: only pillar models put questions in pillars")
        for pillar in self.pillars:
            if not any(q.pillar == pillar.id and not q.skippable for q in self.questions):
                raise ValueError(
                    f"pillars ({pillar.id}): needs at least one question that cannot be skipped"
                )
            for level in self.phases[:-1]:
                actions = pillar.next_actions.get(level.id)
                if not actions:
                    raise ValueError(
                        f"pillars ({pillar.id}).next_actions.{level.id}: missing (every level "
                        "but the last needs actions)"
                    )
            unknown = set(pillar.next_actions) - phase_ids
            if unknown:
                raise ValueError(
                    f"pillars ({pillar.id}).next_actions: unknown level(s) {sorted(unknown)}"
                )
        if all(q.skippable for q in self.questions):
            raise ValueError("questions: at least one question must not be skippable")
        return self

    # Lookups used on every message; the model is frozen, so these are cheap and safe.
    def phase_index(self, phase_id: str) -> int:
        return next(i for i, p in enumerate(self.phases) if p.id == phase_id)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def pillar(self, pillar_id: str) -> Pillar | None:
        return next((p for p in self.pillars if p.id == pillar_id), None)


def _unique(field: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise ValueError(f"{field}: duplicate id '{item}'")
        seen.add(item)
