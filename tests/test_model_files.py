"""The shipped model files and message catalogue: complete, bilingual, and strict about errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from bot.cli import main
from flows.i18n import catalogue, placeholders
from flows.model_loader import ModelFileError, load_models
from flows.model_schema import LANGUAGES, Text

MODEL_DIR = Path(__file__).resolve().parent.parent / "model_data"
REQUIRED = {
    "groeimodel": 4,
    "mi-partners": 4,
    "altimeter": 6,
    "bmm": 4,
}


def walk_texts(node, path="model"):
    """Every Text in a parsed model, with where it is."""
    if isinstance(node, Text):
        yield path, node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from walk_texts(getattr(node, name), f"{path}.{name}")
    elif isinstance(node, list | tuple):
        for i, item in enumerate(node):
            yield from walk_texts(item, f"{path}[{i}]")
    elif isinstance(node, dict):
        for key, item in node.items():
            yield from walk_texts(item, f"{path}.{key}")


def test_the_four_maturity_models_ship_with_their_phases(models):
    for model_id, phase_count in REQUIRED.items():
        assert model_id in models
        assert len(models[model_id].phases) == phase_count
    assert models["bmm"].kind == "pillars"
    assert [p.name.nl for p in models["bmm"].phases] == ["Pionier", "Proces", "Systeem", "Netwerk"]
    assert len(models["bmm"].pillars) == 5


def test_every_model_text_exists_in_every_language(models):
    count = 0
    for model in models.values():
        for where, text in walk_texts(model, model.id):
            for lang in LANGUAGES:
                assert getattr(text, lang).strip(), f"{where}.{lang} is empty"
            count += 1
    assert count > 100


def test_models_are_sized_for_five_minutes(models):
    for model in models.values():
        assert 8 <= len(model.questions) <= 15, model.id
        for phase in model.phases:
            assert len(phase.next_actions) >= 3


def test_every_catalogue_message_has_both_languages_with_the_same_placeholders():
    for key, texts in catalogue().items():
        assert set(texts) == set(LANGUAGES), key
        assert placeholders(texts["nl"]) == placeholders(texts["en"]), key


def test_models_json_lists_models_with_phases(capsys):
    assert main(["models", "--json"]) == 0
    listed = {m["id"]: m for m in json.loads(capsys.readouterr().out)}
    for model_id, phase_count in REQUIRED.items():
        entry = listed[model_id]
        assert set(entry["name"]) == {"nl", "en"}
        assert entry["kind"] in ("stages", "pillars")
        assert len(entry["phases"]) == phase_count
        assert all(set(p["name"]) == {"nl", "en"} and p["id"] for p in entry["phases"])
        assert entry["questions"] >= 8
    assert listed["bmm"]["kind"] == "pillars"
    assert listed["altimeter"]["kind"] == "stages"
    steps = [m for m in listed.values() if m["kind"] == "steps"]
    assert len(steps) == 9


@pytest.fixture
def model_copy(tmp_path):
    """A folder with one editable copy of a shipped model."""
    data = yaml.safe_load((MODEL_DIR / "01_groeimodel.yaml").read_text("utf-8"))
    for phase in data["phases"]:
        phase.pop("implementation", None)  # those point at step models in other files
    path = tmp_path / "01_groeimodel.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return path, data


def broken(path: Path, data: dict) -> ModelFileError:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    with pytest.raises(ModelFileError) as caught:
        load_models(path.parent)
    assert str(path) in str(caught.value)
    return caught.value


def test_missing_translation_names_file_and_field(model_copy):
    path, data = model_copy
    del data["questions"][2]["text"]["en"]
    error = broken(path, data)
    assert error.field.startswith(f"questions[2] ({data['questions'][2]['id']}).text.en")


def test_option_pointing_at_unknown_phase_is_refused(model_copy):
    path, data = model_copy
    data["questions"][0]["options"][1]["phase"] = "nowhere"
    error = broken(path, data)
    assert "nowhere" in error.problem
    assert "questions[0]" in error.field


def test_duplicate_question_id_is_refused(model_copy):
    path, data = model_copy
    data["questions"][1]["id"] = data["questions"][0]["id"]
    error = broken(path, data)
    assert "duplicate" in error.problem


def test_unreachable_phase_is_refused(model_copy):
    path, data = model_copy
    last = data["phases"][-1]["id"]
    before = data["phases"][-2]["id"]
    for question in data["questions"]:
        for option in question["options"]:
            if option["phase"] == last:
                option["phase"] = before
    error = broken(path, data)
    assert last in error.problem
    assert error.field == "phases"


def test_implementation_step_must_exist(model_copy):
    path, data = model_copy
    data["phases"][0]["implementation"] = [{"model": "groeimodel", "steps": ["x"]}]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    with pytest.raises(ModelFileError, match="not a step model") as caught:
        load_models(path.parent)
    assert caught.value.field.startswith("phases[0]")


def test_every_maturity_phase_names_implementation_steps(models):
    for model in models.values():
        if model.kind in ("stages", "pillars"):
            assert all(phase.implementation for phase in model.phases), model.id


def test_duplicate_model_id_across_files_is_refused(model_copy):
    path, data = model_copy
    shutil.copy(path, path.parent / "02_copy.yaml")
    with pytest.raises(ModelFileError, match="duplicate model id"):
        load_models(path.parent)


def test_a_fifth_model_needs_no_code(model_copy, tmp_path):
    path, data = model_copy
    data["id"] = "fifth"
    (tmp_path / "05_fifth.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    assert set(load_models(tmp_path)) == {"groeimodel", "fifth"}


def test_broken_model_stops_start_up_with_a_message(model_copy, monkeypatch, capsys):
    path, data = model_copy
    del data["phases"][0]["name"]["nl"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    monkeypatch.setenv("MATURITY_MODELS_DIR", str(path.parent))
    assert main(["models"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "phases[0]" in err and "name.nl" in err


# ---- Altimeter (issue 11: a diagnosis people recognise) ------------------------------------------
def test_altimeter_every_question_starts_with_a_true_answer_for_a_beginner(models):
    """An organisation that has not started has a true answer everywhere, in the first phase."""
    model = models["altimeter"]
    for question in model.questions:
        assert question.options[0].phase == model.phases[0].id, question.id


def test_altimeter_uncoordinated_departments_rank_no_higher_than_one_team(models):
    """Departments each on their own, nobody coordinating: Presence, like 'one team runs the
    accounts'; collaboration is Engagement and a coordinating structure Formalized."""
    model = models["altimeter"]
    structure = {o.id: model.phase_index(o.phase) for o in model.question("structure").options}
    assert structure["c"] == structure["b"] == model.phase_index("presence")
    assert structure["collab"] == model.phase_index("engagement")
    assert structure["d"] == model.phase_index("formalized")


def test_altimeter_actions_cover_every_question_with_a_rung_at_the_next_phase(models):
    """Whatever holds an organisation in a phase, some next action of that phase is about it."""
    model = models["altimeter"]
    for index, phase in enumerate(model.phases[:-1]):
        target = model.phases[index + 1].id
        addressed = {q for action in phase.next_actions for q in action.addresses}
        for question in model.questions:
            if any(o.phase == target for o in question.options):
                assert question.id in addressed, (phase.id, question.id)


def test_altimeter_an_organisation_with_a_sponsor_is_not_told_to_find_one(models):
    from flows.results import result_card, stored_result
    from flows.scoring import score

    model = models["altimeter"]
    answers = {
        q.id: [o.id for o in q.options if o.phase == "engagement"][-1] for q in model.questions
    }
    answers["sponsor"] = "d"  # an executive is the official sponsor
    result = stored_result(model, score(model, answers), answers)
    assert result.phase_id == "engagement"
    card = result_card(model, result, "en", "a1")
    shown = {line for section in card.sections for line in section.lines}
    sponsor_actions = [a.en for a in model.phases[2].next_actions if a.addresses == ("sponsor",)]
    assert sponsor_actions and not shown & set(sponsor_actions)
    assert model.phases[2].next_actions[1].en in shown  # the programme is still to do


def test_the_fast_yaml_loader_reads_every_data_file_as_the_safe_one_does():
    """Start-up parses with libyaml when PyYAML has it: the data must come out the same."""
    import yaml

    from flows.yaml_files import load_yaml

    root = Path(__file__).resolve().parent.parent
    files = [*sorted((root / "model_data").glob("*.yaml")), root / "flows" / "messages.yaml"]
    for path in files:
        text = path.read_text("utf-8")
        assert load_yaml(text) == yaml.safe_load(text), path.name
