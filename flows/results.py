"""A scored assessment as stored (language-free ids) and as shown (a ResultCard in one language).

Results are stored as ids, not texts, so /result and /history can show an old result in the
user's current language, and the same card builder serves the fresh and the stored result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

from flows.events import payload_model, payload_remind
from flows.i18n import t
from flows.model_schema import COMPLETE, Action, MaturityModel
from flows.pillar_results import (
    join_words,
    level_count,
    merged_steps,
    pillar_level_indices,
    pillar_profile,
)
from flows.replies import ChartSpec, Choice, ResultCard, Section
from flows.scan import SCAN_ID
from flows.scoring import Score


@dataclass(frozen=True)
class StoredResult:
    phase_id: str
    spread: tuple[str, str]
    answered: int
    skipped: int
    held_back: tuple[tuple[str, str], ...]
    """(question id, option id) of the answers that kept the user in this phase, lowest first."""
    pillar_levels: dict[str, str] = field(default_factory=dict)
    track_steps: dict[str, str] = field(default_factory=dict)
    """Step models with tracks: the first open step per track (or "complete")."""
    exit_moment: bool = False
    placements: dict[str, str] = field(default_factory=dict)
    """Quick scan: the phase id per maturity model."""
    next_step: tuple[str, str] | None = None
    """Quick scan: (step model id, step id) to take next."""
    disagreement: tuple[str, str, str] | None = None
    """Quick scan: (most advanced model, least advanced model, question id that differs most)."""
    answer_levels: dict[str, int] = field(default_factory=dict)
    """Stage and pillar models: question id -> the phase index its answer points at, so the
    card can leave out next actions the organisation has already done."""

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> StoredResult:
        return cls(
            phase_id=data["phase_id"],
            spread=tuple(data["spread"]),
            answered=data["answered"],
            skipped=data["skipped"],
            held_back=tuple(tuple(pair) for pair in data["held_back"]),
            pillar_levels=dict(data.get("pillar_levels") or {}),
            track_steps=dict(data.get("track_steps") or {}),
            exit_moment=bool(data.get("exit_moment")),
            placements=dict(data.get("placements") or {}),
            next_step=tuple(data["next_step"]) if data.get("next_step") else None,
            disagreement=tuple(data["disagreement"]) if data.get("disagreement") else None,
            answer_levels=dict(data.get("answer_levels") or {}),
        )


@dataclass(frozen=True)
class PastResult:
    assessment_id: str
    model_id: str
    finished_at: str
    result: StoredResult


def phase_or_complete(model: MaturityModel, index: int) -> str:
    return model.phases[index].id if index < len(model.phases) else COMPLETE


def phase_name(model: MaturityModel, phase_id: str, lang: str) -> str:
    """A phase's name, or "all steps done" for a finished step model."""
    if phase_id == SCAN_ID:
        return t("scan_phase_name", lang)
    if phase_id == COMPLETE:
        return t("complete_name", lang)
    return model.phases[model.phase_index(phase_id)].name.get(lang)


def answer_levels(model: MaturityModel, answers: Mapping[str, str | None]) -> dict[str, int]:
    """Question id -> the phase index of its answer (skipped questions left out)."""
    levels = {}
    for question in model.questions:
        option_id = answers.get(question.id)
        option = next((o for o in question.options if o.id == option_id), None)
        if option is not None and option.phase is not None:
            levels[question.id] = model.phase_index(option.phase)
    return levels


def still_to_do(actions: Sequence[Action], levels: Mapping[str, int], target: int) -> list[Action]:
    """The actions not done yet: an action whose questions were all answered at or above the
    phase it leads to (`target`) is already done; an action about no question always stays."""
    return [
        action
        for action in actions
        if not action.addresses or not all(levels.get(q, -1) >= target for q in action.addresses)
    ]


def stored_result(
    model: MaturityModel, score: Score, answers: Mapping[str, str | None] | None = None
) -> StoredResult:
    phases = model.phases
    return StoredResult(
        phase_id=phase_or_complete(model, score.phase_index),
        spread=(
            phase_or_complete(model, score.spread_low),
            phase_or_complete(model, score.spread_high),
        ),
        answered=score.answered,
        skipped=score.skipped,
        held_back=tuple((h.question_id, h.option_id) for h in score.held_back),
        pillar_levels={p.pillar_id: phases[p.level_index].id for p in score.pillars},
        track_steps={track: phase_or_complete(model, i) for track, i in score.tracks},
        exit_moment=score.exit_moment,
        answer_levels=answer_levels(model, answers) if answers and model.kind != "steps" else {},
    )


MAX_HELD_BACK = 5
"""Enough to act on; a result that lists every low answer reads as a reprimand."""


def held_back_lines(model: MaturityModel, result: StoredResult, lang: str) -> list[str]:
    """The "question: answer" lines of the answers that hold the result back, lowest first, at most
    MAX_HELD_BACK: shared by the result cards and the board report."""
    lines = []
    for question_id, option_id in result.held_back[:MAX_HELD_BACK]:
        question = model.question(question_id)
        option = (
            next((o for o in question.options if o.id == option_id), None) if question else None
        )
        if question and option:
            lines.append(
                t(
                    "result_held_back_line",
                    lang,
                    question=question.text.get(lang),
                    answer=option.label.get(lang),
                )
            )
    return lines


def result_card(
    model: MaturityModel,
    result: StoredResult,
    lang: str,
    assessment_id: str,
    catalog: Mapping[str, MaturityModel] | None = None,
) -> ResultCard:
    """The card for a stored result; `catalog` (all models) lets it name implementation steps.

    Pillar models: when the pillars are level, the level's own description, actions and
    implementation steps describe the organisation. When they are not, the card describes the
    profile instead: which pillars hold the organisation back and how far the others are ahead,
    the next actions of the lagging pillars only, and the implementation steps that fit them.
    """
    if model.kind == "steps":
        raise ValueError("a step model's card is flows.step_results.step_card")
    phases = model.phases
    index = model.phase_index(result.phase_id)
    phase = phases[index]
    name = model.name.get(lang)
    percent = round(model.scoring.threshold * 100)
    summary_key = "result_level_line" if model.kind == "pillars" else "result_phase_line"
    summary = t(summary_key, lang, phase=phase.name.get(lang), number=index + 1, total=len(phases))

    levels = pillar_level_indices(model, result) if model.kind == "pillars" else {}
    lagging = [p for p in model.pillars if levels.get(p.id) == index]
    uneven = bool(lagging) and any(level > index for level in levels.values())
    lagging_names = join_words([p.name.get(lang) for p in lagging], lang)
    if uneven:
        summary += " " + pillar_profile(model, levels, lagging, index, lang)
    else:
        summary += " " + phase.description.get(lang)

    explanation = [
        t(
            "result_rule_pillars" if model.kind == "pillars" else "result_rule_stages",
            lang,
            percent=percent,
        )
    ]
    low, high = result.spread
    if model.kind == "stages":
        if low == high:
            explanation.append(t("result_spread_narrow", lang))
        elif model.phase_index(high) <= index:  # reached the top of the range: nobody is further
            explanation.append(
                t(
                    "result_spread_top",
                    lang,
                    low=phases[model.phase_index(low)].name.get(lang),
                    high=phases[model.phase_index(high)].name.get(lang),
                )
            )
        else:
            explanation.append(
                t(
                    "result_spread_wide",
                    lang,
                    low=phases[model.phase_index(low)].name.get(lang),
                    high=phases[model.phase_index(high)].name.get(lang),
                )
            )
    else:
        gap = model.phase_index(high) - model.phase_index(low)
        if gap:
            explanation.append(t("result_imbalance", lang, levels=level_count(gap, lang)))
    if result.skipped:
        explanation.append(t("result_skipped", lang, count=result.skipped))

    sections: list[Section] = []
    held_lines = held_back_lines(model, result, lang)
    if held_lines:
        if uneven:
            held_header = t(
                "result_held_back_pillars_header",
                lang,
                pillars=lagging_names,
                level=phase.name.get(lang),
            )
        elif model.kind == "pillars":
            held_header = t("result_held_back_level_header", lang)
        else:
            held_header = t("result_held_back_header", lang)
        sections.append(Section(held_header, tuple(held_lines)))

    pillar_levels: list[tuple[str, str, int, int]] = []
    chart = None
    pillar_advice = False
    if model.kind == "pillars":
        for pillar in model.pillars:
            level_index = levels[pillar.id]
            pillar_levels.append(
                (
                    pillar.name.get(lang),
                    phases[level_index].name.get(lang),
                    level_index + 1,
                    len(phases),
                )
            )
            if level_index == index and index < len(phases) - 1:
                lines = tuple(
                    a.get(lang)
                    for a in still_to_do(
                        pillar.next_actions[phase.id], result.answer_levels, index + 1
                    )
                )
                if lines:
                    pillar_advice = True
                    sections.append(
                        Section(
                            t(
                                "result_pillar_actions_header",
                                lang,
                                pillar=pillar.name.get(lang),
                                level=phases[index + 1].name.get(lang),
                            ),
                            lines,
                        )
                    )
        chart = ChartSpec(
            title=t("result_chart_caption", lang, model=name),
            labels=tuple(p[0] for p in pillar_levels),
            values=tuple(p[2] for p in pillar_levels),
            level_names=tuple(p.name.get(lang) for p in phases),
            key=assessment_id,
        )

    # The level's own actions describe an organisation whose pillars are level; with uneven
    # pillars they would be advice for pillars that are already past it.
    if not (uneven and pillar_advice):
        if index < len(phases) - 1:
            header = t("result_next_header", lang, phase=phases[index + 1].name.get(lang))
        else:
            header = t("result_keep_header", lang)
        actions = phase.next_actions
        if index < len(phases) - 1:
            actions = still_to_do(actions, result.answer_levels, index + 1)
        sections.append(Section(header, tuple(a.get(lang) for a in actions)))

    refs = list(phase.implementation)
    implementation_header = t("result_implementation_header", lang)
    if uneven:
        pillar_refs = [ref for p in lagging for ref in p.implementation.get(phase.id, ())]
        if pillar_refs:
            refs = pillar_refs
            implementation_header = t(
                "result_pillar_implementation_header", lang, pillars=lagging_names
            )
    follow_up: tuple[Choice, ...] = ()
    if catalog is not None and refs:
        lines = []
        for model_id, step_ids in merged_steps(refs).items():
            target = catalog.get(model_id)
            if target is None:
                continue
            steps = ", ".join(phase_name(target, step, lang) for step in step_ids)
            lines.append(
                t("result_implementation_line", lang, model=target.name.get(lang), steps=steps)
            )
            follow_up += (
                Choice(
                    t("run_model_button", lang, model=target.name.get(lang)),
                    payload_model(target.id),
                ),
            )
        if lines:
            sections.append(Section(implementation_header, tuple(lines)))
    follow_up += tuple(
        Choice(t("recheck_button", lang, months=months), payload_remind(model.id, months))
        for months in (1, 3, 6)
    )

    return ResultCard(
        assessment_id=assessment_id,
        model_id=model.id,
        phase_id=phase.id,
        phase_name=phase.name.get(lang),
        title=t("result_title", lang, model=name, phase=phase.name.get(lang)),
        summary=summary,
        explanation=tuple(explanation),
        sections=tuple(sections),
        footer=t("result_footer", lang),
        pillar_levels=tuple(pillar_levels),
        chart=chart,
        follow_up=follow_up,
    )
