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
    top = len(model.phases) if model.kind == "steps" else len(model.phases) - 1
    assert score(model, most).phase_index == top  # for step models: complete


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
        if model.kind == "steps":
            if result.phase_index < len(model.phases):
                open_step = model.phases[result.phase_index].id
                assert any(h.question_id for h in result.held_back), "names what is not done"
                assert open_step in {model.question(h.question_id).step for h in result.held_back}
            return
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


STEP_MODELS = [m for m in MODELS.values() if m.kind == "steps"]


@pytest.mark.parametrize("model_id", [m.id for m in STEP_MODELS])
def test_every_step_can_be_where_you_are(model_id):
    model = MODELS[model_id]
    for index, step in enumerate(model.phases):
        answers = {}
        for question in model.questions:
            position = model.phase_index(question.step)
            done = position < index
            answers[question.id] = next(o for o in question.options if bool(o.done) == done).id
        result = score(model, answers)
        assert result.phase_index == index, step.id


@pytest.mark.parametrize("model_id", [m.id for m in STEP_MODELS if m.phases[0].exit_moment])
def test_exit_moment_fires_exactly_when_readiness_fails(model_id):
    model = MODELS[model_id]
    readiness = model.phases[0].id

    @settings(max_examples=200, deadline=None)
    @given(picks=answer_sets(model))
    def check(picks):
        answers = as_answers(model, picks)
        ready = all(
            next(o for o in q.options if o.id == answers[q.id]).done
            for q in model.questions
            if q.step == readiness
        )
        assert score(model, answers).exit_moment is (not ready)

    check()


def test_the_social_strategy_model_has_an_exit_moment():
    assert MODELS["social-strategy"].phases[0].exit_moment
