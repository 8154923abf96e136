"""Every implementation model and the quick scan, end to end through the terminal channel."""

from __future__ import annotations

import io

import pytest

from bot.console import ConsoleChannel
from bot.service import AssessmentService
from bot.storage import Storage
from flows.model_loader import load_models
from flows.results import phase_name

MODELS = load_models()
STEP_MODELS = [m.id for m in MODELS.values() if m.kind == "steps"]


def run_console(tmp_path, models, scan, model_id, lines, lang):
    storage = Storage(tmp_path / "c.db")
    service = AssessmentService(storage, models, scan=scan)
    out = io.StringIO()
    channel = ConsoleChannel(service, "tester", tmp_path / "charts", out=out, lang=lang)
    channel.run(io.StringIO("".join(f"{line}\n" for line in lines)), model_id=model_id)
    storage.close()
    return out.getvalue()


def test_nine_implementation_models_are_listed():
    assert set(STEP_MODELS) == {
        "post",
        "oasis",
        "access",
        "social-strategy",
        "sm-cycle",
        "kloos-framework",
        "fasering",
        "aht",
        "ep-strategy",
    }


@pytest.mark.parametrize("model_id", STEP_MODELS)
def test_step_model_in_dutch_and_english(tmp_path, models, scan, model_id):
    model = models[model_id]
    none_done = run_console(tmp_path, models, scan, model_id, ["1"] * len(model.questions), "nl")
    first = model.phases[0]
    assert f"Resultaat {model.name.nl}: {first.name.nl}" in none_done
    assert first.next_actions[0].nl in none_done
    if first.exit_moment:
        assert "Uitstapmoment" in none_done
    else:
        assert model.phases[1].name.nl in none_done  # the step after
    all_done = [str(len(q.options)) for q in model.questions]
    done = run_console(tmp_path, models, scan, model_id, all_done, "en")
    assert f"Result {model.name.en}: {phase_name(model, 'complete', 'en')}" in done


def test_exit_moment_only_when_readiness_fails(tmp_path, models, scan):
    model = models["social-strategy"]
    ready_only = [
        str(len(q.options)) if q.step == model.phases[0].id else "1" for q in model.questions
    ]
    out = run_console(tmp_path, models, scan, model.id, ready_only, "en")
    assert "Exit moment" not in out
    assert f"Result {model.name.en}: {model.phases[1].name.en}" in out


def test_quick_scan_places_you_on_all_four_models(tmp_path, models, scan):
    least = run_console(tmp_path, models, scan, "scan", ["1"] * len(scan.questions), "en")
    most = run_console(
        tmp_path, models, scan, "scan", [str(len(q.options)) for q in scan.questions], "nl"
    )
    for model_id in scan.models:
        model = models[model_id]
        assert f"{model.name.en}: {model.phases[0].name.en} (1 of" in least
        assert f"{model.name.nl}: {model.phases[-1].name.nl} ({len(model.phases)} van" in most
    assert "Your next implementation step" in least
    assert "/start " in least


def test_quick_scan_explains_disagreement(tmp_path, models, scan):
    by_question = {
        "owner": "d",
        "plan": "d",
        "policy": "c",
        "response": "agreed",
        "measure": "c",
        "integration": "c",
        "cocreation": "c",
        "leadership": "d",
        "skills": "c",
        "tooling": "d",
    }
    answers = [str([o.id for o in q.options].index(by_question[q.id]) + 1) for q in scan.questions]
    out = run_console(tmp_path, models, scan, "scan", answers, "en")
    assert "Where the models disagree" in out
    assert f"{models['groeimodel'].name.en} places you clearly further than" in out
    # the answer that holds BMM back and that the two models rate furthest apart
    assert "your answer on policy (“There are guidelines, partly per department”)" in out
    assert scan.notes["bmm"].en in out


def test_agreement_is_said_when_models_agree(tmp_path, models, scan):
    out = run_console(tmp_path, models, scan, "scan", ["1"] * len(scan.questions), "en")
    assert "roughly agree" in out
