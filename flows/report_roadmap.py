"""The board report's roadmap: next actions in order of priority, spread over four quarters.

Priority follows the BMM's first assumption (balanced pillars perform better) and the common
rule "as mature as your weakest link": an action ranks by how far along the model or pillar it
lifts is, least mature first. Actions the answers show are already done are left out, as on the
result card (results.still_to_do), and each action carries the implementation steps that fit it,
minus the steps the person's own result of that implementation model shows done. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from flows.i18n import t
from flows.model_schema import COMPLETE, Action, MaturityModel, StepRef
from flows.pillar_results import merged_steps, pillar_level_indices
from flows.results import PastResult, StoredResult, phase_name, still_to_do

QUARTERS = 4


@dataclass(frozen=True)
class RoadmapItem:
    priority: int
    """1 is the first thing to do."""
    action: str
    source: str
    """Which model (and pillar) the action lifts, and to what."""
    steps: tuple[str, ...]
    """The implementation steps that fit, "model: step, step"."""


@dataclass(frozen=True)
class Quarter:
    label: str
    period: str
    items: tuple[RoadmapItem, ...]

    def groups(self) -> list[tuple[str, tuple[str, ...], list[RoadmapItem]]]:
        """(source, steps, items) for each run of items that lift the same thing: a page shows
        the source and its implementation steps once per run, not under every action."""
        runs: list[tuple[str, tuple[str, ...], list[RoadmapItem]]] = []
        for item in self.items:
            if runs and runs[-1][0] == item.source and runs[-1][1] == item.steps:
                runs[-1][2].append(item)
            else:
                runs.append((item.source, item.steps, [item]))
        return runs


Candidate = tuple[float, str, str, Sequence[StepRef]]
"""(how far along the thing it lifts is, 0..1; action; source; implementation steps)."""


def model_actions(model: MaturityModel, result: StoredResult, lang: str) -> list[Candidate]:
    """A model's next actions, each with how far along what it lifts is: the least mature pillar
    or model first, so the roadmap starts where the organisation is held back (BMM: balanced
    pillars perform better). Actions the answers show are done are left out, as on the card."""
    name = model.name.get(lang)
    phases = model.phases
    if model.kind == "steps":
        if result.phase_id == COMPLETE:
            source = t("report_source_keep", lang, model=name)
            return [
                (1.0, text, source, ()) for text in t("result_complete_actions", lang).split("|")
            ]
        index = model.phase_index(result.phase_id)
        step = phases[index]
        relative = 0.0 if result.exit_moment else index / len(phases)
        source = t("report_source_step", lang, model=name, step=step.name.get(lang))
        return [(relative, a.get(lang), source, ()) for a in step.next_actions]
    index = model.phase_index(result.phase_id)
    last = len(phases) - 1
    out: list[Candidate] = []
    if model.kind == "pillars":
        for pillar, level in sorted(
            pillar_level_indices(model, result).items(), key=lambda item: item[1]
        ):
            if level >= last:
                continue
            source = t(
                "report_source_pillar",
                lang,
                model=name,
                pillar=model.pillar(pillar).name.get(lang),
                target=phases[level + 1].name.get(lang),
            )
            refs = (
                model.pillar(pillar).implementation.get(phases[level].id)
                or phases[level].implementation
            )
            todo = still_to_do(
                model.pillar(pillar).next_actions[phases[level].id], result.answer_levels, level + 1
            )
            out += [(level / last, a.get(lang), source, refs) for a in todo]
        if out:
            return out
    phase = phases[index]
    if index == last:
        source = t("report_source_keep", lang, model=name)
        return [(1.0, a.get(lang), source, ()) for a in phase.next_actions]
    source = t("report_source_phase", lang, model=name, target=phases[index + 1].name.get(lang))
    todo: list[Action] = still_to_do(phase.next_actions, result.answer_levels, index + 1)
    return [
        (index / last, a.get(lang), source, phase.implementation)
        for a in todo or phase.next_actions
    ]


def step_lines(
    refs: Sequence[StepRef],
    models: Mapping[str, MaturityModel],
    step_at: Mapping[str, str],
    lang: str,
) -> tuple[str, ...]:
    """ "Model: step, step" per implementation model; steps the person's own result of that model
    shows done are left out (a model they finished gives no line)."""
    lines = []
    for model_id, step_ids in merged_steps(refs).items():
        target = models.get(model_id)
        if target is None:
            continue
        reached = step_at.get(model_id)
        if reached == COMPLETE:
            continue
        first_open = target.phase_index(reached) if reached else 0
        todo = [s for s in step_ids if target.phase_index(s) >= first_open]
        if todo:
            steps = ", ".join(phase_name(target, s, lang) for s in todo)
            lines.append(
                t("result_implementation_line", lang, model=target.name.get(lang), steps=steps)
            )
    return tuple(lines)


def quarters(items: Sequence[RoadmapItem], start: date, lang: str) -> tuple[Quarter, ...]:
    """The roadmap in priority order, spread evenly over the coming four quarters (from `start`'s
    month): the first quarters take the most pressing actions, and one more where the actions
    do not divide evenly. Fewer than four actions fill fewer quarters."""
    base, extra = divmod(len(items), QUARTERS)
    out = []
    taken = 0
    for number in range(min(QUARTERS, len(items))):
        size = base + (number < extra)
        chunk = tuple(items[taken : taken + size])
        taken += size
        first = _add_months(start, 3 * number)
        last = _add_months(start, 3 * number + 2)
        period = t(
            "report_period", lang, first=month_year(first, lang), last=month_year(last, lang)
        )
        out.append(Quarter(t("report_quarter", lang, number=number + 1), period, chunk))
    return tuple(out)


def _add_months(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


def month_year(day: date, lang: str) -> str:
    return f"{t('report_months', lang).split('|')[day.month - 1]} {day.year}"


def long_date(day: date, lang: str) -> str:
    """ "1 december 2026" / "1 December 2026"."""
    return f"{day.day} {month_year(day, lang)}"


def roadmap(
    ordered: Sequence[PastResult], models: Mapping[str, MaturityModel], start: date, lang: str
) -> tuple[Quarter, ...]:
    """The roadmap for these results (one per model): every next action, most pressing first,
    numbered, and spread over the quarters from `start`."""
    step_at = {p.model_id: p.result.phase_id for p in ordered if models[p.model_id].kind == "steps"}
    candidates = []
    for order, past in enumerate(ordered):
        actions = model_actions(models[past.model_id], past.result, lang)
        for rank, (relative, action, source, refs) in enumerate(actions):
            candidates.append((relative, order, rank, action, source, refs))
    candidates.sort(key=lambda c: c[:3])
    items = [
        RoadmapItem(number, c[3], c[4], step_lines(c[5], models, step_at, lang))
        for number, c in enumerate(candidates, 1)
    ]
    return quarters(items, start, lang)
