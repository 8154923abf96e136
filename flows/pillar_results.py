"""How a pillar model's result describes an uneven profile in words: which pillars hold the
organisation back, how far the others are ahead, and the implementation steps that fit them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from flows.i18n import t
from flows.model_schema import MaturityModel, Pillar, StepRef

if TYPE_CHECKING:  # results.py builds its card with these
    from flows.results import StoredResult


def pillar_level_indices(model: MaturityModel, result: StoredResult) -> dict[str, int]:
    """Pillar id -> its level index; a pillar missing from the stored result sits at the
    overall level (the weakest), which it cannot be below."""
    levels = {}
    for pillar in model.pillars:
        level_id = result.pillar_levels.get(pillar.id, result.phase_id)
        known = any(p.id == level_id for p in model.phases)
        levels[pillar.id] = model.phase_index(level_id if known else result.phase_id)
    return levels


def pillar_profile(
    model: MaturityModel,
    levels: Mapping[str, int],
    lagging: Sequence[Pillar],
    index: int,
    lang: str,
) -> str:
    """The profile in words: which pillars hold the organisation back at level `index`, and
    how many levels higher the others are (grouped by level, lowest first), with the advice
    that the card's steps are for those pillars."""
    sentence = profile_sentence(model, levels, lagging, index, lang)
    advice = t(
        "result_profile_advice_many" if len(lagging) > 1 else "result_profile_advice_one", lang
    )
    return f"{sentence} {advice}"


def profile_sentence(
    model: MaturityModel,
    levels: Mapping[str, int],
    lagging: Sequence[Pillar],
    index: int,
    lang: str,
) -> str:
    """The profile's sentence alone (the board report puts its advice in a later section)."""
    phases = model.phases
    higher = sorted({level for level in levels.values() if level > index})
    groups = []
    for position, level in enumerate(higher):
        members = [p for p in model.pillars if levels[p.id] == level]
        if position == len(higher) - 1 and len(members) > 1:
            who = t("result_profile_other_pillars", lang, count=count_word(len(members), lang))
        else:
            who = join_words([p.name.get(lang) for p in members], lang)
        groups.append(
            t(
                "result_profile_group_one" if len(members) == 1 else "result_profile_group_many",
                lang,
                who=who,
                levels=level_count(level - index, lang),
                level=phases[level].name.get(lang),
            )
        )
    return t(
        "result_profile_lagging_many" if len(lagging) > 1 else "result_profile_lagging_one",
        lang,
        pillars=join_words([p.name.get(lang) for p in lagging], lang),
        level=phases[index].name.get(lang),
        others=join_words(groups, lang),
    )


def level_count(count: int, lang: str) -> str:
    """'1 level', '2 levels' ('1 niveau', '2 niveaus')."""
    return t("levels_one", lang) if count == 1 else t("levels_many", lang, count=count)


def count_word(count: int, lang: str) -> str:
    """A small number in words ('four', 'vier'); larger ones as digits."""
    words = t("count_words", lang).split("|")
    return words[count] if 0 <= count < len(words) else str(count)


def join_words(items: Sequence[str], lang: str) -> str:
    """'A', 'A and B', 'A, B and C' ('A, B en C')."""
    if len(items) <= 1:
        return "".join(items)
    return t("list_and", lang, items=", ".join(items[:-1]), last=items[-1])


def merged_steps(refs: Sequence[StepRef]) -> dict[str, list[str]]:
    """Step references per implementation model, in order, each step once."""
    merged: dict[str, list[str]] = {}
    for ref in refs:
        steps = merged.setdefault(ref.model, [])
        steps += [step for step in ref.steps if step not in steps]
    return merged
