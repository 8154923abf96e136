"""The case library (tests/cases/, see tests/case_library.py): every organisation answers every
maturity model honestly from its description, and lands on the phase a reader of the source
texts expects, never more than one phase off."""

from __future__ import annotations

import pytest

from flows.model_loader import load_models
from tests.case_library import MATURITY_MODELS, known_misses, load_cases, outcomes, table

CASES = load_cases()


def test_the_library_has_at_least_twelve_cases_from_nothing_to_fully_integrated():
    assert len(CASES) >= 12
    ids = [case["id"] for case in CASES]
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case["id"])
def test_every_case_answers_every_question_with_a_reason(case):
    models = load_models()
    assert case["description"].strip()
    for model_id in MATURITY_MODELS:
        model = models[model_id]
        expected = case["expected"][model_id]
        assert model.phase_index(expected["phase"]) >= 0 and expected["why"].strip()
        chosen = case["answers"][model_id]
        assert set(chosen) == {q.id for q in model.questions}, model_id
        for question in model.questions:
            entry = chosen[question.id]
            assert entry["option"] in {o.id for o in question.options}, (model_id, question.id)
            assert entry["why"].strip(), (model_id, question.id)


def test_known_misses_name_a_maturity_model_with_a_reason():
    for case in CASES:
        for model_id, why in known_misses(case).items():
            assert model_id in MATURITY_MODELS and why.strip(), (case["id"], model_id)


def test_every_case_lands_on_its_expected_phase_or_next_to_it():
    """Except the (case, model) pairs a case lists under `known_miss`: findings, reported with
    their reason, not hidden."""
    results = outcomes()
    print("\n" + table(results))
    known = {(case["id"], m): why for case in CASES for m, why in known_misses(case).items()}
    for r in results:
        if (r.case, r.model) in known:
            state = "still off" if r.off > 1 else "now within one phase: remove the mark"
            print(
                f"known miss skipped ({state}): {r.case} on {r.model}, expected {r.expected},"
                f" found {r.found}: {known[r.case, r.model]}"
            )
    far = [r for r in results if r.off > 1 and (r.case, r.model) not in known]
    assert far == [], far
