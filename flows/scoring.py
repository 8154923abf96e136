"""From answers to a phase: the staircase rule and the weakest-pillar rule.

Staircase: a phase counts as reached when at least `threshold` (default 75%) of the answered
questions sit at that phase or above; the result is the highest reached phase. Moving any answer
up can only add to the counts "at or above", so the rule is monotone, all-least answers give the
first phase and all-most answers the last.

Weakest pillar (BMM): each pillar gets its own staircase level from its own questions; the
organisation is only as mature as its weakest pillar, and advice goes to the pillars at that level.

First open step (implementation models): a step is done when every answered question about it
says done; "where you are" is the first step that is not done (per track where steps run side by
side), or complete. Finishing more steps can never move the first open step back.

Pure functions: no I/O, no language; texts are looked up by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flows.model_schema import MaturityModel, Question


@dataclass(frozen=True)
class HeldBack:
    """An answer that kept the user from the next phase (below the next phase's bar)."""

    question_id: str
    option_id: str
    phase_index: int
    pillar_id: str | None = None


@dataclass(frozen=True)
class PillarScore:
    pillar_id: str
    level_index: int
    answered: int


@dataclass(frozen=True)
class Score:
    """A scored assessment. Indices point into `model.phases`."""

    phase_index: int
    spread_low: int
    spread_high: int
    """The middle half of the answers lies between these phases: a wide gap, a mixed picture."""
    answered: int
    skipped: int
    held_back: tuple[HeldBack, ...]
    pillars: tuple[PillarScore, ...] = field(default_factory=tuple)
    tracks: tuple[tuple[str, int], ...] = field(default_factory=tuple)
    """Step models with tracks: (track id, first open step index or step count when done)."""
    exit_moment: bool = False
    """Step models: the go/no-go step is not done, so the advice is to stop and prepare."""

    @property
    def imbalance(self) -> int:
        """Levels between the strongest and the weakest pillar (0 for stage models)."""
        if not self.pillars:
            return 0
        levels = [p.level_index for p in self.pillars]
        return max(levels) - min(levels)

    @property
    def weakest_pillars(self) -> tuple[str, ...]:
        return tuple(p.pillar_id for p in self.pillars if p.level_index == self.phase_index)


class NotEnoughAnswers(ValueError):
    """Raised when every question was skipped: there is nothing to score."""


def staircase(levels: Sequence[int], phase_count: int, threshold: float) -> int:
    """Highest phase p such that at least `threshold` of `levels` are >= p."""
    if not levels:
        raise NotEnoughAnswers("no answers to score")
    needed = threshold * len(levels)
    reached = 0
    for p in range(1, phase_count):
        at_or_above = sum(1 for level in levels if level >= p)
        if at_or_above + 1e-9 >= needed:
            reached = p
        else:
            break
    return reached


def _quartiles(levels: Sequence[int]) -> tuple[int, int]:
    ordered = sorted(levels)
    n = len(ordered)
    return ordered[(n - 1) // 4], ordered[(3 * (n - 1) + 3) // 4]


def answer_levels(
    model: MaturityModel, answers: Mapping[str, str | None]
) -> dict[str, tuple[Question, str, int]]:
    """question id -> (question, option id, phase index) for each answered, unskipped question."""
    out: dict[str, tuple[Question, str, int]] = {}
    for question in model.questions:
        option_id = answers.get(question.id)
        if option_id is None:
            continue
        option = next((o for o in question.options if o.id == option_id), None)
        if option is None:
            continue
        out[question.id] = (question, option_id, model.phase_index(option.phase))
    return out


def score(model: MaturityModel, answers: Mapping[str, str | None]) -> Score:
    """Score `answers` (question id -> option id, None for skipped) with the model's method."""
    if model.kind == "steps":
        return score_steps(model, answers)
    levels = answer_levels(model, answers)
    skipped = sum(1 for q in model.questions if q.id in answers and answers[q.id] is None)
    if not levels:
        raise NotEnoughAnswers("every question was skipped")
    all_levels = [lvl for _, _, lvl in levels.values()]
    count = len(model.phases)
    threshold = model.scoring.threshold
    low, high = _quartiles(all_levels)

    if model.kind == "stages":
        phase = staircase(all_levels, count, threshold)
        held = tuple(
            HeldBack(qid, oid, lvl)
            for qid, (_, oid, lvl) in levels.items()
            if lvl <= phase and phase < count - 1
        )
        return Score(
            phase_index=phase,
            spread_low=min(low, phase),
            spread_high=max(high, phase),
            answered=len(levels),
            skipped=skipped,
            held_back=_lowest_first(held),
        )

    pillar_scores: list[PillarScore] = []
    for pillar in model.pillars:
        own = [lvl for q, _, lvl in levels.values() if q.pillar == pillar.id]
        if not own:
            raise NotEnoughAnswers(f"pillar '{pillar.id}' has no answers")
        pillar_scores.append(PillarScore(pillar.id, staircase(own, count, threshold), len(own)))
    overall = min(p.level_index for p in pillar_scores)
    weakest = {p.pillar_id for p in pillar_scores if p.level_index == overall}
    held = tuple(
        HeldBack(qid, oid, lvl, q.pillar)
        for qid, (q, oid, lvl) in levels.items()
        if q.pillar in weakest and lvl <= overall and overall < count - 1
    )
    pillar_levels = [p.level_index for p in pillar_scores]
    return Score(
        phase_index=overall,
        spread_low=overall,
        spread_high=max(pillar_levels),
        answered=len(levels),
        skipped=skipped,
        held_back=_lowest_first(held),
        pillars=tuple(pillar_scores),
    )


def done_steps(model: MaturityModel, answers: Mapping[str, str | None]) -> set[str]:
    """Steps whose answered questions all say done (a step with no answers is not done)."""
    answered: dict[str, list[bool]] = {}
    for question in model.questions:
        option_id = answers.get(question.id)
        option = next((o for o in question.options if o.id == option_id), None)
        if option is not None:
            answered.setdefault(question.step, []).append(bool(option.done))
    return {step for step, flags in answered.items() if all(flags)}


def score_steps(model: MaturityModel, answers: Mapping[str, str | None]) -> Score:
    done = done_steps(model, answers)
    steps = model.phases
    answered = sum(1 for q in model.questions if answers.get(q.id) is not None)
    if not answered:
        raise NotEnoughAnswers("every question was skipped")
    skipped = sum(1 for q in model.questions if q.id in answers and answers[q.id] is None)

    def first_open(indices: list[int]) -> int:
        return next((i for i in indices if steps[i].id not in done), len(steps))

    current = first_open(list(range(len(steps))))
    tracks = tuple(
        (track.id, first_open([i for i, s in enumerate(steps) if s.track == track.id]))
        for track in model.tracks
    )
    held = ()
    if current < len(steps):
        open_ids = {steps[current].id} | {steps[i].id for _, i in tracks if i < len(steps)}
        held = tuple(
            HeldBack(q.id, answers[q.id], model.phase_index(q.step))
            for q in model.questions
            if q.step in open_ids
            and answers.get(q.id) is not None
            and any(o.id == answers[q.id] and not o.done for o in q.options)
        )
    return Score(
        phase_index=current,
        spread_low=current,
        spread_high=current,
        answered=answered,
        skipped=skipped,
        held_back=held,
        tracks=tracks,
        exit_moment=current == 0 and steps[0].exit_moment,
    )


def _lowest_first(held: tuple[HeldBack, ...]) -> tuple[HeldBack, ...]:
    return tuple(sorted(held, key=lambda h: h.phase_index))


def reachable_levels(
    level_sets: Sequence[Sequence[int]], phase_count: int, threshold: float
) -> set[int]:
    """Every staircase result some choice of one level per question can produce.

    Exact, without trying every combination: the staircase result p only depends on how many
    answers are >= p and how many are >= p+1, and those pairs are enumerated per phase.
    """
    if not level_sets:
        return set()
    n = len(level_sets)
    reachable: set[int] = set()
    for p in range(phase_count):
        pairs = {(0, 0)}
        for options in level_sets:
            steps = {(int(lvl >= p), int(lvl >= p + 1)) for lvl in options}
            pairs = {(a + da, b + db) for a, b in pairs for da, db in steps}
        needed = threshold * n
        for at_p, above in pairs:
            reaches_p = p == 0 or at_p + 1e-9 >= needed
            stops_here = p == phase_count - 1 or above + 1e-9 < needed
            if reaches_p and stops_here:
                # the staircase also needs every lower phase reached: >=q counts only grow
                # as q falls, so reaching p implies reaching every q < p.
                reachable.add(p)
                break
    return reachable


def unreachable_phases(model: MaturityModel) -> list[str]:
    """Phases (levels) no combination of answers can produce: a model-authoring error."""
    if model.kind == "steps":
        # every question has a done and a not-done answer and every step a question of its
        # own (checked by the schema): any step can be the first open one
        return []
    count = len(model.phases)
    threshold = model.scoring.threshold

    def levels_of(questions: list[Question]) -> list[list[int]]:
        return [[model.phase_index(o.phase) for o in q.options] for q in questions]

    if model.kind == "stages":
        reach = reachable_levels(levels_of(list(model.questions)), count, threshold)
    else:
        per_pillar = [
            reachable_levels(
                levels_of([q for q in model.questions if q.pillar == pillar.id]), count, threshold
            )
            for pillar in model.pillars
        ]
        # overall = min over pillars: p is reachable when one pillar can sit exactly at p and
        # every pillar can sit at p or above.
        reach = {
            p
            for p in range(count)
            if any(p in r for r in per_pillar) and all(any(x >= p for x in r) for r in per_pillar)
        }
    return [phase.id for i, phase in enumerate(model.phases) if i not in reach]
