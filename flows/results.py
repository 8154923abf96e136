"""A scored assessment as stored (language-free ids) and as shown (a ResultCard in one language).

Results are stored as ids, not texts, so /result and /history can show an old result in the
user's current language, and the same card builder serves the fresh and the stored result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from flows.i18n import t
from flows.model_schema import MaturityModel
from flows.replies import ChartSpec, Choice, ResultCard, Section
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
        )


@dataclass(frozen=True)
class PastResult:
    assessment_id: str
    model_id: str
    finished_at: str
    result: StoredResult


def stored_result(model: MaturityModel, score: Score) -> StoredResult:
    phases = model.phases
    return StoredResult(
        phase_id=phases[score.phase_index].id,
        spread=(phases[score.spread_low].id, phases[score.spread_high].id),
        answered=score.answered,
        skipped=score.skipped,
        held_back=tuple((h.question_id, h.option_id) for h in score.held_back),
        pillar_levels={p.pillar_id: phases[p.level_index].id for p in score.pillars},
    )


MAX_HELD_BACK = 5
"""Enough to act on; a result that lists every low answer reads as a reprimand."""


def result_card(
    model: MaturityModel,
    result: StoredResult,
    lang: str,
    assessment_id: str,
    follow_up: tuple[Choice, ...] = (),
) -> ResultCard:
    phases = model.phases
    index = model.phase_index(result.phase_id)
    phase = phases[index]
    name = model.name.get(lang)
    percent = round(model.scoring.threshold * 100)
    summary_key = "result_level_line" if model.kind == "pillars" else "result_phase_line"
    summary = t(summary_key, lang, phase=phase.name.get(lang), number=index + 1, total=len(phases))

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
            explanation.append(t("result_imbalance", lang, levels=gap))
    if result.skipped:
        explanation.append(t("result_skipped", lang, count=result.skipped))

    sections: list[Section] = []
    held_lines = []
    for question_id, option_id in result.held_back[:MAX_HELD_BACK]:
        question = model.question(question_id)
        option = (
            next((o for o in question.options if o.id == option_id), None) if question else None
        )
        if question and option:
            held_lines.append(
                t(
                    "result_held_back_line",
                    lang,
                    question=question.text.get(lang),
                    answer=option.label.get(lang),
                )
            )
    if held_lines:
        sections.append(Section(t("result_held_back_header", lang), tuple(held_lines)))

    pillar_levels: list[tuple[str, str, int, int]] = []
    chart = None
    if model.kind == "pillars":
        for pillar in model.pillars:
            level_id = result.pillar_levels.get(pillar.id, phases[0].id)
            level_index = model.phase_index(level_id)
            pillar_levels.append(
                (
                    pillar.name.get(lang),
                    phases[level_index].name.get(lang),
                    level_index + 1,
                    len(phases),
                )
            )
            if level_index == index and index < len(phases) - 1:
                sections.append(
                    Section(
                        t(
                            "result_pillar_actions_header",
                            lang,
                            pillar=pillar.name.get(lang),
                            level=phases[index + 1].name.get(lang),
                        ),
                        tuple(a.get(lang) for a in pillar.next_actions[level_id]),
                    )
                )
        chart = ChartSpec(
            title=t("result_chart_caption", lang, model=name),
            labels=tuple(p[0] for p in pillar_levels),
            values=tuple(p[2] for p in pillar_levels),
            level_names=tuple(p.name.get(lang) for p in phases),
            key=assessment_id,
        )

    if index < len(phases) - 1:
        header = t("result_next_header", lang, phase=phases[index + 1].name.get(lang))
    else:
        header = t("result_keep_header", lang)
    sections.append(Section(header, tuple(a.get(lang) for a in phase.next_actions)))

    return ResultCard(
        assessment_id=assessment_id,
        model_id=model.id,
        phase_id=phase.id,
        phase_name=phase.name.get(lang),
        title=t("result_title", lang, model=name, phase=phase.name.get(lang)),
        summary=summary + " " + phase.description.get(lang),
        explanation=tuple(explanation),
        sections=tuple(sections),
        footer=t("result_footer", lang),
        pillar_levels=tuple(pillar_levels),
        chart=chart,
        follow_up=follow_up,
    )
