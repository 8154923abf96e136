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


class Action(Text):
    """A next action, in every language, with the questions whose answer it is about: an
    action is left out of a result when those questions were already answered at or above the
    phase the action leads to (nobody is told to write the policy they said they have)."""

    addresses: tuple[str, ...] = ()
    """Ids of the questions this action is about (empty: shown whenever its phase is next)."""


COMPLETE = "complete"
"""The result id of a step model whose every step is done (no step may use it as its id)."""


class StepRef(BaseModel):
    """A step of an implementation model, named from a maturity phase ("what to do on Monday")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(pattern=ID_PATTERN)
    steps: list[str] = Field(min_length=1)


class Phase(BaseModel):
    """A phase (stage models), level (pillar models) or step (step models), in order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    name: Text
    description: Text
    next_actions: list[Action] = Field(min_length=3)
    """Stages and levels: what to do to reach the following phase (for the last phase: how to
    stay there). Steps: how to get this step done."""
    implementation: list[StepRef] = Field(default_factory=list)
    """Stage and pillar models: implementation steps that fit the way to the next phase."""
    track: str | None = None
    """Step models with tracks run side by side (AHT): the track this step belongs to."""
    exit_moment: bool = False
    """Step models: this step is a go/no-go; while it is not done, the advice is to stop and
    prepare, not to carry on (the Social Strategy Model's phase 0)."""


class Track(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    name: Text


class Pillar(BaseModel):
    """A dimension scored on its own (BMM-style models); the weakest one caps the whole."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    name: Text
    description: Text
    next_actions: dict[str, list[Action]]
    """Per level id (every level but the last): what lifts this pillar to the next level."""
    implementation: dict[str, list[StepRef]] = Field(default_factory=dict)
    """Per level id (optional): implementation steps that fit when this pillar is the one
    holding the organisation back at that level; without them the level's own steps apply.
    The levels and the steps are checked at load time, like a phase's implementation."""

    @field_validator("implementation")
    @classmethod
    def _no_empty_level(cls, value: dict[str, list[StepRef]]) -> dict[str, list[StepRef]]:
        empty = sorted(level for level, refs in value.items() if not refs)
        if empty:
            raise ValueError(f"no steps for level(s) {empty}; leave a level out instead")
        return value


class Option(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=OPTION_ID_PATTERN)
    label: Text
    phase: str | None = None
    """Stage and pillar models: id of the phase (or level) this answer points at."""
    done: bool | None = None
    """Step models: whether this answer means the question's step is done."""


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    text: Text
    help: Text | None = None
    pillar: str | None = None
    step: str | None = None
    """Step models: the step this question checks."""
    skippable: bool = False
    pulse: bool = False
    """Part of the short pulse set that teams re-measure periodically."""
    options: list[Option] = Field(min_length=2, max_length=8)


class Scoring(BaseModel):
    """How answers become a phase; see README "Scoring" for the reasoning."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["staircase", "weakest_pillar", "first_open_step"]
    threshold: float = Field(default=0.75, gt=0.0, le=1.0)
    """Share of answers that must be at a phase or above for that phase to count as reached."""


class MaturityModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    kind: Literal["stages", "pillars", "steps"]
    name: Text
    author: str = Field(min_length=1)
    year: int = Field(ge=1990, le=2100)
    source: str = Field(min_length=1)
    description: Text
    scoring: Scoring
    phases: list[Phase] = Field(min_length=2)
    pillars: list[Pillar] = Field(default_factory=list)
    tracks: list[Track] = Field(default_factory=list)
    questions: list[Question] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> MaturityModel:
        _unique("phases", [p.id for p in self.phases])
        _unique("pillars", [p.id for p in self.pillars])
        _unique("tracks", [t.id for t in self.tracks])
        _unique("questions", [q.id for q in self.questions])
        expected = {"stages": "staircase", "pillars": "weakest_pillar", "steps": "first_open_step"}
        if self.scoring.method != expected[self.kind]:
            raise ValueError(
                f"scoring.method: a model of kind '{self.kind}' is scored with "
                f"'{expected[self.kind]}'"
            )
        if self.kind != "pillars" and self.pillars:
            raise ValueError("pillars: only models of kind 'pillars' have pillars")
        if self.kind == "pillars" and not self.pillars:
            raise ValueError("pillars: a pillar model needs at least one pillar")
        if self.kind != "steps" and self.tracks:
            raise ValueError("tracks: only models of kind 'steps' have tracks")
        for qi, question in enumerate(self.questions):
            _unique(f"questions[{qi}] ({question.id}).options", [o.id for o in question.options])
        if self.kind == "steps":
            self._check_steps()
        else:
            self._check_phased()
        self._check_addresses()
        if all(q.skippable for q in self.questions):
            raise ValueError("questions: at least one question must not be skippable")
        return self

    def _check_addresses(self) -> None:
        """An action may only name questions of this model (of its own pillar, for pillars)."""
        question_pillar = {q.id: q.pillar for q in self.questions}
        places = [(f"phases ({p.id}).next_actions", p.next_actions, None) for p in self.phases]
        for pillar in self.pillars:
            for level, actions in pillar.next_actions.items():
                places.append((f"pillars ({pillar.id}).next_actions.{level}", actions, pillar.id))
        for where, actions, pillar_id in places:
            for ai, action in enumerate(actions):
                for question_id in action.addresses:
                    if question_id not in question_pillar:
                        raise ValueError(
                            f"{where}[{ai}].addresses: unknown question '{question_id}'"
                        )
                    if pillar_id is not None and question_pillar[question_id] != pillar_id:
                        raise ValueError(
                            f"{where}[{ai}].addresses: '{question_id}' is not a question of "
                            f"pillar '{pillar_id}'"
                        )

    def _check_phased(self) -> None:
        """Stage and pillar models: every option points at a phase, in rising order."""
        phase_ids = {p.id for p in self.phases}
        pillar_ids = {p.id for p in self.pillars}
        rank = {p.id: i for i, p in enumerate(self.phases)}
        for pi, phase in enumerate(self.phases):
            if phase.track is not None or phase.exit_moment:
                raise ValueError(f"phases[{pi}] ({phase.id}): track and exit_moment are for steps")
        for qi, question in enumerate(self.questions):
            where = f"questions[{qi}] ({question.id})"
            if question.step is not None:
                raise ValueError(f"{where}.step: only step models put questions in steps")
            for oi, option in enumerate(question.options):
                if option.done is not None:
                    raise ValueError(f"{where}.options[{oi}].done: only step models use 'done'")
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
        pulsed = any(q.pulse for q in self.questions)
        for pillar in self.pillars:
            if pulsed and not any(q.pillar == pillar.id and q.pulse for q in self.questions):
                raise ValueError(
                    f"pillars ({pillar.id}): the pulse set needs a question for every pillar"
                )
            if not any(q.pillar == pillar.id and not q.skippable for q in self.questions):
                raise ValueError(
                    f"pillars ({pillar.id}): needs at least one question that cannot be skipped"
                )
            for level in self.phases[:-1]:
                if not pillar.next_actions.get(level.id):
                    raise ValueError(
                        f"pillars ({pillar.id}).next_actions.{level.id}: missing (every level "
                        "but the last needs actions)"
                    )
            unknown = set(pillar.next_actions) - phase_ids
            if unknown:
                raise ValueError(
                    f"pillars ({pillar.id}).next_actions: unknown level(s) {sorted(unknown)}"
                )

    def _check_steps(self) -> None:
        """Step models: every question checks a step; its answers say done or not, in order."""
        step_ids = {p.id for p in self.phases}
        track_ids = {t.id for t in self.tracks}
        if COMPLETE in step_ids:
            raise ValueError(f"phases: '{COMPLETE}' is reserved for the finished result")
        for pi, step in enumerate(self.phases):
            where = f"phases[{pi}] ({step.id})"
            if step.implementation:
                raise ValueError(f"{where}.implementation: only maturity phases name steps")
            if self.tracks and step.track not in track_ids:
                raise ValueError(f"{where}.track: unknown or missing track '{step.track}'")
            if not self.tracks and step.track is not None:
                raise ValueError(f"{where}.track: the model declares no tracks")
            if step.exit_moment and pi != 0:
                raise ValueError(f"{where}.exit_moment: only the first step can be the exit moment")
            if not any(q.step == step.id and not q.skippable for q in self.questions):
                raise ValueError(f"{where}: needs at least one question that cannot be skipped")
        for track in self.tracks:
            if not any(p.track == track.id for p in self.phases):
                raise ValueError(f"tracks ({track.id}): no step belongs to this track")
        for qi, question in enumerate(self.questions):
            where = f"questions[{qi}] ({question.id})"
            if question.step not in step_ids:
                raise ValueError(f"{where}.step: unknown or missing step '{question.step}'")
            if question.pillar is not None:
                raise ValueError(f"{where}.pillar: step models have no pillars")
            for oi, option in enumerate(question.options):
                if option.phase is not None or option.done is None:
                    raise ValueError(
                        f"{where}.options[{oi}]: step options say 'done: true|false', no phase"
                    )
            flags = [o.done for o in question.options]
            if flags != sorted(flags) or all(flags) or not any(flags):
                raise ValueError(
                    f"{where}.options: not-done answers first, then at least one done answer"
                )

    # Lookups used on every message; the model is frozen, so these are cheap and safe.
    def phase_index(self, phase_id: str) -> int:
        return next(i for i, p in enumerate(self.phases) if p.id == phase_id)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def pillar(self, pillar_id: str) -> Pillar | None:
        return next((p for p in self.pillars if p.id == pillar_id), None)

    def track(self, track_id: str) -> Track | None:
        return next((t for t in self.tracks if t.id == track_id), None)


def _unique(field: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise ValueError(f"{field}: duplicate id '{item}'")
        seen.add(item)
