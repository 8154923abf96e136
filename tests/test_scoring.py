"""Scoring properties for every shipped model: monotone, complete, reachable, explained."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.model_loader import load_models
from flows.scoring import reachable_levels, score, staircase, unreachable_phases

MODELS = load_models()


def answer_sets(model):
    """Random complete answers (question id -> option index)."""
    return st.tuples(*[st.integers(0, len(q.options) - 1) for q in model.questions])


def as_answers(model, picks):
    return {q.id: q.options[i].id for q, i in zip(model.questions, picks, strict=True)}


@pytest.mark.parametrize("model_id", list(MODELS))
def test_all_least_gives_first_phase_and_all_most_the_last(model_id):
    model = MODELS[model_id]
    least = {q.id: q.options[0].id for q in model.questions}
    most = {q.id: q.options[-1].id for q in model.questions}
    assert score(model, least).phase_index == 0
    assert score(model, most).phase_index == len(model.phases) - 1


@pytest.mark.parametrize("model_id", list(MODELS))
def test_every_phase_is_reachable(model_id):
    assert unreachable_phases(MODELS[model_id]) == []


@pytest.mark.parametrize("model_id", list(MODELS))
def test_monotone(model_id):
    model = MODELS[model_id]

    @settings(max_examples=150, deadline=None)
    @given(picks=answer_sets(model), which=st.integers(0, len(model.questions) - 1))
    def check(picks, which):
        before = score(model, as_answers(model, picks))
        question = model.questions[which]
        if picks[which] == len(question.options) - 1:
            return
        raised = list(picks)
        raised[which] += 1
        after = score(model, as_answers(model, raised))
        assert after.phase_index >= before.phase_index
        for b, a in zip(before.pillars, after.pillars, strict=True):
            assert a.level_index >= b.level_index

    check()


@pytest.mark.parametrize("model_id", list(MODELS))
def test_explained(model_id):
    model = MODELS[model_id]

    @settings(max_examples=100, deadline=None)
    @given(picks=answer_sets(model))
    def check(picks):
        result = score(model, as_answers(model, picks))
        assert result.spread_low <= result.phase_index <= result.spread_high
        if result.phase_index < len(model.phases) - 1:
            assert result.held_back, "a result below the top names what holds it back"
        for held in result.held_back:
            assert held.phase_index <= result.phase_index

    check()


@settings(max_examples=300, deadline=None)
@given(
    level_sets=st.lists(
        st.lists(st.integers(0, 4), min_size=1, max_size=4, unique=True).map(sorted),
        min_size=1,
        max_size=5,
    ),
    threshold=st.sampled_from([0.5, 0.66, 0.75, 1.0]),
)
def test_reachability_matches_brute_force(level_sets, threshold):
    import itertools

    brute = {staircase(list(c), 5, threshold) for c in itertools.product(*level_sets)}
    assert reachable_levels(level_sets, 5, threshold) == brute


def test_one_weak_pillar_caps_the_bmm_level():
    model = MODELS["bmm"]
    weak = model.pillars[2].id
    answers = {
        q.id: (q.options[0].id if q.pillar == weak else q.options[-1].id) for q in model.questions
    }
    result = score(model, answers)
    assert result.phase_index == 0
    assert result.weakest_pillars == (weak,)
    assert result.imbalance == len(model.phases) - 1
    assert {h.pillar_id for h in result.held_back} == {weak}
    levels = {p.pillar_id: p.level_index for p in result.pillars}
    assert all(levels[p.id] == len(model.phases) - 1 for p in model.pillars if p.id != weak)


def test_staircase_needs_the_threshold_share():
    # 4 answers, threshold 75%: 3 at phase 2 or above reach phase 2, 2 do not
    assert staircase([2, 2, 2, 0], 4, 0.75) == 2
    assert staircase([2, 2, 0, 0], 4, 0.75) == 0
    assert staircase([3, 3, 1, 1], 4, 0.75) == 1
