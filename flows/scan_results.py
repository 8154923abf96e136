"""The quick scan's result: where the organisation stands on every maturity model at once, as
stored (ids) and as shown (one table, the disagreements, and the next implementation step)."""

from __future__ import annotations

from collections.abc import Mapping

from flows.events import payload_model
from flows.i18n import t
from flows.model_schema import MaturityModel
from flows.replies import Choice, ResultCard, Section
from flows.results import StoredResult
from flows.scan import SCAN_ID, QuickScan, ScanScore


def scan_result(
    scan: QuickScan, models: Mapping[str, MaturityModel], scored: ScanScore
) -> StoredResult:
    weakest = scan.question(scored.weakest)
    return StoredResult(
        phase_id=SCAN_ID,
        spread=(SCAN_ID, SCAN_ID),
        answered=len(scan.questions),
        skipped=0,
        held_back=(),
        placements={m: models[m].phases[i].id for m, i in scored.placements.items()},
        next_step=(weakest.next_step.model, weakest.next_step.step),
        disagreement=scored.disagreement,
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
    if result.disagreement:
        high, low, question_id = result.disagreement
        question = scan.question(question_id)
        lines = [
            t(
                "scan_disagree_line",
                lang,
                high=models[high].name.get(lang),
                low=models[low].name.get(lang),
                dimension=question.dimension.get(lang) if question else "?",
            ),
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
            sections.append(
                Section(
                    t(
                        "scan_next_step_header",
                        lang,
                        model=target.name.get(lang),
                        step=step.name.get(lang),
                    ),
                    tuple(a.get(lang) for a in step.next_actions),
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
