"""The quick scan's result: where the organisation stands on every maturity model at once, as
stored (ids) and as shown (one table, the disagreements, and the next implementation step with
the reason for it)."""

from __future__ import annotations

from collections.abc import Mapping

from flows.events import payload_model
from flows.i18n import t
from flows.model_schema import MaturityModel
from flows.replies import Choice, ResultCard, Section
from flows.results import StoredResult
from flows.scan import EPSILON, SCAN_ID, QuickScan, ScanOption, ScanScore, relative


def scan_result(
    scan: QuickScan, models: Mapping[str, MaturityModel], scored: ScanScore
) -> StoredResult:
    """The scan's result as stored. `held_back` keeps the answers the card explains: first the
    lagging answer that chose the next step (if one lags), then the answer that makes the
    difference where the models disagree (if not the same)."""
    explained = [q for q in (scored.lagging,) if q]
    if scored.disagreement and scored.disagreement[2] not in explained:
        explained.append(scored.disagreement[2])
    return StoredResult(
        phase_id=SCAN_ID,
        spread=(SCAN_ID, SCAN_ID),
        answered=len(scored.answers),
        skipped=len(scan.questions) - len(scored.answers),
        held_back=tuple((q, scored.answers[q]) for q in explained),
        placements={m: models[m].phases[i].id for m, i in scored.placements.items()},
        next_step=scored.next_step,
        disagreement=scored.disagreement,
    )


def _answer(scan: QuickScan, result: StoredResult, question_id: str) -> ScanOption | None:
    question = scan.question(question_id)
    option_id = dict(result.held_back).get(question_id)
    if question is None or option_id is None:
        return None
    return next((o for o in question.options if o.id == option_id), None)


def _why(scan: QuickScan, result: StoredResult, lang: str) -> str | None:
    """Why this next step: the answer that lags, or the overall position when none lags."""
    if result.next_step is None:
        return None
    step = tuple(result.next_step)
    if result.held_back:
        question = scan.question(result.held_back[0][0])
        option = _answer(scan, result, result.held_back[0][0])
        steps = question.next_step if question else None
        if option and steps and step in (steps.basic.key, steps.advanced.key):
            return t(
                "scan_why_lagging",
                lang,
                dimension=question.dimension.get(lang),
                answer=option.label.get(lang),
            )
    overall = next((e for e in scan.overall_steps if e.key == step), None)
    if overall is not None:
        return t("scan_why_overall", lang, position=overall.position.get(lang))
    return None


def _disagreement_line(
    scan: QuickScan,
    models: Mapping[str, MaturityModel],
    result: StoredResult,
    lang: str,
) -> str:
    high, low, question_id = result.disagreement
    question = scan.question(question_id)
    option = _answer(scan, result, question_id)
    names = {m: models[m].name.get(lang) for m in (high, low)}
    if option is None or high not in option.maps or low not in option.maps:
        return t(
            "scan_disagree_line",
            lang,
            high=names[high],
            low=names[low],
            dimension=question.dimension.get(lang) if question else "?",
        )

    def index(model_id: str) -> int:
        return models[model_id].phase_index(option.maps[model_id])

    def phase(model_id: str) -> str:
        return models[model_id].phases[index(model_id)].name.get(lang)

    # the two models rate this answer alike: the difference is in how they count
    alike = relative(models[high], index(high)) <= relative(models[low], index(low)) + EPSILON
    return t(
        "scan_disagree_rule" if alike else "scan_disagree_cause",
        lang,
        high=names[high],
        low=names[low],
        dimension=question.dimension.get(lang),
        answer=option.label.get(lang),
        high_phase=phase(high),
        low_phase=phase(low),
    )


def scan_card(
    scan: QuickScan,
    models: Mapping[str, MaturityModel],
    result: StoredResult,
    lang: str,
    assessment_id: str,
) -> ResultCard:
    """One table of phases, where the models disagree and why, and the next implementation step."""
    rows = []
    for model_id in scan.models:
        model = models.get(model_id)
        phase_id = result.placements.get(model_id)
        if model is None or phase_id is None:
            continue
        index = model.phase_index(phase_id)
        rows.append(
            t(
                "scan_row",
                lang,
                model=model.name.get(lang),
                phase=model.phases[index].name.get(lang),
                number=index + 1,
                total=len(model.phases),
            )
        )
    sections = [Section(t("scan_table_header", lang), tuple(rows))]
    explanation = [t("scan_rule", lang)]
    if result.disagreement and all(m in models for m in result.disagreement[:2]):
        high, low, _ = result.disagreement
        lines = [
            _disagreement_line(scan, models, result, lang),
            scan.notes[high].get(lang),
            scan.notes[low].get(lang),
        ]
        sections.append(Section(t("scan_disagree_header", lang), tuple(lines)))
    else:
        explanation.append(t("scan_agree", lang))
    follow_up: tuple[Choice, ...] = ()
    if result.next_step:
        target = models.get(result.next_step[0])
        if target is not None:
            step = target.phases[target.phase_index(result.next_step[1])]
            why = _why(scan, result, lang)
            sections.append(
                Section(
                    t(
                        "scan_next_step_header",
                        lang,
                        model=target.name.get(lang),
                        step=step.name.get(lang),
                    ),
                    ((why,) if why else ()) + tuple(a.get(lang) for a in step.next_actions),
                )
            )
            follow_up = (
                Choice(
                    t("run_model_button", lang, model=target.name.get(lang)),
                    payload_model(target.id),
                ),
            )
    return ResultCard(
        assessment_id=assessment_id,
        model_id=scan.id,
        phase_id=SCAN_ID,
        phase_name=t("scan_phase_name", lang),
        title=t("scan_title", lang),
        summary=t("scan_summary", lang, count=len(rows)),
        explanation=tuple(explanation),
        sections=tuple(sections),
        footer=t("result_footer", lang),
        follow_up=follow_up,
    )
