"""The result card of an implementation (step) model: the first open step with its actions and a
look at the step after; the exit moment says to stop and prepare first."""

from __future__ import annotations

from flows.i18n import t
from flows.model_schema import COMPLETE, MaturityModel
from flows.replies import ResultCard, Section
from flows.results import StoredResult, held_back_lines, phase_name


def step_card(
    model: MaturityModel, result: StoredResult, lang: str, assessment_id: str
) -> ResultCard:
    """Where you are in an implementation model: the first open step, what to do, what next."""
    steps = model.phases
    total = len(steps)
    name = model.name.get(lang)
    current = phase_name(model, result.phase_id, lang)
    explanation = [t("result_rule_steps", lang)]
    if result.skipped:
        explanation.append(t("result_skipped", lang, count=result.skipped))
    sections: list[Section] = []
    if result.phase_id == COMPLETE:
        summary = t("result_steps_complete", lang, total=total)
        actions = tuple(t("result_complete_actions", lang).split("|"))
        sections.append(Section(t("result_complete_header", lang), actions))
    else:
        index = model.phase_index(result.phase_id)
        step = steps[index]
        summary = t("result_step_line", lang, number=index + 1, total=total, phase=current)
        summary += " " + step.description.get(lang)
        if result.exit_moment:
            explanation.insert(0, t("result_exit_moment", lang))
        if model.tracks:
            sections.append(
                Section(
                    t("result_tracks_header", lang),
                    tuple(
                        t(
                            "result_track_line",
                            lang,
                            track=track.name.get(lang),
                            phase=phase_name(
                                model, result.track_steps.get(track.id, COMPLETE), lang
                            ),
                        )
                        for track in model.tracks
                    ),
                )
            )
        open_lines = held_back_lines(model, result, lang)
        if open_lines:
            sections.append(Section(t("result_open_header", lang), tuple(open_lines)))
        sections.append(
            Section(
                t("result_step_actions_header", lang, phase=current),
                tuple(a.get(lang) for a in step.next_actions),
            )
        )
        if index + 1 < total and not result.exit_moment:
            after = steps[index + 1]
            sections.append(
                Section(
                    t(
                        "result_after_step_header",
                        lang,
                        number=index + 2,
                        phase=after.name.get(lang),
                    ),
                    tuple(a.get(lang) for a in after.next_actions[:2]),
                )
            )
    return ResultCard(
        assessment_id=assessment_id,
        model_id=model.id,
        phase_id=result.phase_id,
        phase_name=current,
        title=t("result_title", lang, model=name, phase=current),
        summary=summary,
        explanation=tuple(explanation),
        sections=tuple(sections),
        footer=t("result_footer", lang),
    )
