"""What a user of a pillar model (BMM) sees: a result that describes the whole profile.

The overall level is the weakest pillar's, but an organisation whose other pillars are further
along is not described with the weakest level's text: the card names the pillar(s) holding it
back and by how many levels, gives the next actions of those pillars only and the implementation
steps that fit them. A level profile keeps the level's own description, actions and steps.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from flows.i18n import t
from flows.model_loader import ModelFileError, load_models
from flows.replies import ResultCard, plain_text
from flows.results import level_count, result_card, still_to_do, stored_result
from flows.scoring import score
from tests.helpers import Chat

MODEL_DIR = Path(__file__).resolve().parent.parent / "model_data"
LANGS = ("en", "nl")


def first_at(model, question, level: int) -> int:
    """The position of the question's first option at `level` (questions have several options
    per level, and a level's first option is not at the same position in every question)."""
    return next(i for i, o in enumerate(question.options) if o.phase == model.phases[level].id)


def answer(service, model, lang, level_of, user):
    """Answer every question at the level `level_of(pillar id)`; the result card."""
    chat = Chat(service, user=user, lang=lang)
    chat.start(model.id)
    for question in model.questions:
        ask = chat.question
        assert ask is not None and ask.question_id == question.id
        wanted = model.phases[level_of(question.pillar)].id
        position = next(i for i, o in enumerate(question.options) if o.phase == wanted)
        chat.press(ask.choices[position].payload)
    assert isinstance(chat.result, ResultCard)
    return chat.result, chat.texts()


def profile(model, card: ResultCard, lang: str) -> str:
    """The summary after its first sentence (the level line)."""
    index = model.phase_index(card.phase_id)
    line = t(
        "result_level_line",
        lang,
        phase=card.phase_name,
        number=index + 1,
        total=len(model.phases),
    )
    assert card.summary.startswith(line + " ")
    return card.summary.removeprefix(line + " ")


def headers(card: ResultCard) -> list[str]:
    return [section.header for section in card.sections]


def implementation_lines(model, refs, catalog, lang) -> list[str]:
    lines = []
    for ref in refs:
        target = catalog[ref.model]
        steps = ", ".join(
            target.phases[target.phase_index(step)].name.get(lang) for step in ref.steps
        )
        lines.append(
            t("result_implementation_line", lang, model=target.name.get(lang), steps=steps)
        )
    return lines


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("weak", ["governance", "technology", "people"])
def test_four_pillars_two_levels_up_name_the_weak_pillar_and_advise_only_it(
    service, models, lang, weak
):
    model = models["bmm"]
    pioneer, system = model.phases[0], model.phases[2]
    card, text = answer(
        service, model, lang, lambda pillar: 0 if pillar == weak else 2, f"u-{weak}-{lang}"
    )
    lagging = model.pillar(weak)
    assert card.phase_id == pioneer.id

    # the profile, in words: which pillar, at which level, how far the others are ahead
    assert lagging.name.get(lang) in card.summary
    assert level_count(2, lang) in card.summary
    assert system.name.get(lang) in card.summary
    assert ("the other four pillars" if lang == "en" else "de andere vier pijlers") in card.summary
    assert pioneer.description.get(lang) not in text  # not "a few enthusiastic employees ..."
    assert profile(model, card, lang).startswith(lagging.name.get(lang))
    for other in model.pillars:
        if other.id != weak:
            assert other.name.get(lang) not in card.summary  # "the other four", not a list
    imbalance = t("result_imbalance", lang, levels=level_count(2, lang))
    assert imbalance in card.explanation
    assert "niveau(s)" not in text and "level(s)" not in text

    # actions: only the lagging pillar's, from its own next level; not the level's generic ones
    action_headers = [h for h in headers(card) if h.startswith(("Next steps", "Volgende stappen"))]
    assert action_headers == [
        t(
            "result_pillar_actions_header",
            lang,
            pillar=lagging.name.get(lang),
            level=model.phases[1].name.get(lang),
        )
    ]
    section = next(s for s in card.sections if s.header == action_headers[0])
    assert list(section.lines) == [a.get(lang) for a in lagging.next_actions[pioneer.id]]
    for action in pioneer.next_actions:
        assert action.get(lang) not in text
    for other in model.pillars:
        if other.id != weak:
            for action in other.next_actions[pioneer.id]:
                assert action.get(lang) not in text

    # implementation steps from the lagging pillar's situation, with a button per model
    expected = implementation_lines(model, lagging.implementation[pioneer.id], models, lang)
    implementation = next(s for s in card.sections if s.lines and s.lines[0] in expected)
    assert list(implementation.lines) == expected
    assert lagging.name.get(lang) in implementation.header
    assert [c.payload for c in card.follow_up if c.payload.startswith("m:")] == [
        f"m:{ref.model}" for ref in lagging.implementation[pioneer.id]
    ]
    # the held-back answers are introduced with the pillar's name
    assert any(lagging.name.get(lang) in h and pioneer.name.get(lang) in h for h in headers(card))


def test_the_english_result_reads_as_a_diagnosis(service, models):
    model = models["bmm"]
    card, _ = answer(service, model, "en", lambda p: 0 if p == "governance" else 2, "reader")
    assert card.summary == (
        "Your organisation is at level Pioneer (1 of 4): as mature as its weakest pillar. "
        "Governance & control holds the organisation back: it is at Pioneer, while the other "
        "four pillars are 2 levels higher (System). The steps below are for that pillar and "
        "build on what the other pillars already have in place."
    )
    assert "The pillars are 2 levels apart" in card.explanation[-1]


@pytest.mark.parametrize("lang", LANGS)
def test_one_level_apart_is_singular_and_a_mixed_profile_names_each_group(service, models, lang):
    model = models["bmm"]
    spread = {"governance": 1, "technology": 2, "people": 3}
    card, text = answer(service, model, lang, lambda p: spread.get(p, 3), f"mixed-{lang}")
    assert card.phase_id == model.phases[1].id
    one, two = level_count(1, lang), level_count(2, lang)
    assert one in card.summary and two in card.summary
    assert one in ("1 level", "1 niveau")
    assert "1 levels" not in text and "1 niveaus" not in text
    # grouped lowest first: technology one level up, then the other three pillars
    technology = model.pillar("technology").name.get(lang)
    assert card.summary.index(technology) < card.summary.index(one) < card.summary.index(two)
    assert ("the other three pillars" if lang == "en" else "de andere drie pijlers") in card.summary
    assert t("result_imbalance", lang, levels=two) in card.explanation
    assert "niveau(s)" not in text and "level(s)" not in text


@pytest.mark.parametrize("lang", LANGS)
def test_two_lagging_pillars_are_both_named_and_both_advised(service, models, lang):
    model = models["bmm"]
    weak = {"strategy", "people"}
    card, _ = answer(service, model, lang, lambda p: 0 if p in weak else 2, f"two-{lang}")
    names = [model.pillar(p).name.get(lang) for p in ("strategy", "people")]
    joiner = " and " if lang == "en" else " en "
    assert profile(model, card, lang).startswith(joiner.join(names))
    assert ("the other three pillars" if lang == "en" else "de andere drie pijlers") in card.summary
    advised = [h for h in headers(card) if h.startswith(("Next steps", "Volgende stappen"))]
    assert len(advised) == 2
    assert all(any(name in h for h in advised) for name in names)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_a_level_profile_keeps_the_levels_own_text_actions_and_steps(service, models, lang, level):
    model = models["bmm"]
    phase = model.phases[level]
    card, text = answer(service, model, lang, lambda p: level, f"level-{level}-{lang}")
    assert card.phase_id == phase.id
    assert card.summary.endswith(phase.description.get(lang))
    assert not any(e.startswith(("The pillars are", "De pijlers lopen")) for e in card.explanation)
    last = level == len(model.phases) - 1
    header = (
        t("result_keep_header", lang)
        if last
        else t("result_next_header", lang, phase=model.phases[level + 1].name.get(lang))
    )
    section = next(s for s in card.sections if s.header == header)
    assert list(section.lines) == [a.get(lang) for a in phase.next_actions]
    expected = implementation_lines(model, phase.implementation, models, lang)
    implementation = next(
        s for s in card.sections if s.header == t("result_implementation_header", lang)
    )
    assert list(implementation.lines) == expected
    assert "niveau(s)" not in text and "level(s)" not in text


def test_the_dutch_card_has_no_english_lines(service, models):
    model = models["bmm"]
    card, _ = answer(service, model, "nl", lambda p: 0 if p == "technology" else 2, "nl-only")
    english = ("holds", "Next steps", "level", "pillar", "What keeps", "Implementation steps")
    for line in [card.title, card.summary, *card.explanation, *headers(card)]:
        assert not any(word in line for word in english), line
    chat = Chat(service, user="nl-intro", lang="nl")
    intro = plain_text(chat.start(model.id)[0]).splitlines()[0]
    assert model.name.nl in intro
    assert not any(word in intro for word in ("after", "and", "University")), intro


def test_every_bmm_pillar_has_three_questions_and_a_pulse_question(models):
    model = models["bmm"]
    for pillar in model.pillars:
        own = [q for q in model.questions if q.pillar == pillar.id]
        assert len(own) >= 3, pillar.id
        assert not any(q.skippable for q in own), pillar.id
        assert sum(q.pulse for q in own) >= 1, pillar.id
    assert 4 <= sum(q.pulse for q in model.questions) <= 6


def test_every_lagging_pillar_question_has_an_action_that_addresses_it(models):
    """Whatever answer keeps a pillar down, one of its next actions speaks to it, so the
    lagging pillar never ends up without advice once done actions are left out."""
    model = models["bmm"]
    for pillar in model.pillars:
        own = {q.id for q in model.questions if q.pillar == pillar.id}
        for level in model.phases[:-1]:
            addressed = {q for a in pillar.next_actions[level.id] for q in a.addresses}
            assert addressed == own, (pillar.id, level.id)
            assert pillar.implementation.get(level.id), (pillar.id, level.id)


def test_actions_already_done_are_left_out_of_the_lagging_pillars_advice(service, models):
    model = models["bmm"]
    pioneer = model.phases[0]
    chat = Chat(service, user="partly", lang="en")
    chat.start(model.id)
    # governance: policy at Process, sponsor and measure at Pioneer; the rest at System
    wanted = {"policy": 1, "sponsor": 0, "measure": 0}
    for question in model.questions:
        position = first_at(model, question, wanted.get(question.id, 2))
        chat.press(chat.question.choices[position].payload)
    card = chat.result
    governance = model.pillar("governance")
    section = next(
        s for s in card.sections if governance.name.en in s.header and "Next" in s.header
    )
    levels = {
        q.id: 1 if q.id == "policy" else 0 for q in model.questions if q.pillar == "governance"
    }
    expected = still_to_do(governance.next_actions[pioneer.id], levels, 1)
    assert list(section.lines) == [a.en for a in expected]
    assert all("policy" not in a.addresses for a in expected)


@pytest.fixture
def model_dir(tmp_path):
    """A copy of every shipped model file, to break the BMM file in."""
    for path in MODEL_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    bmm = tmp_path / "04_bmm.yaml"
    return bmm, yaml.safe_load(bmm.read_text("utf-8"))


def refused(path: Path, data: dict) -> ModelFileError:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    with pytest.raises(ModelFileError) as caught:
        load_models(path.parent)
    return caught.value


def test_pillar_implementation_must_name_existing_steps(model_dir):
    path, data = model_dir
    data["pillars"][1]["implementation"]["proces"] = [{"model": "post", "steps": ["nowhere"]}]
    error = refused(path, data)
    assert error.field == "pillars[1] (organisation).implementation.proces[0]"
    assert "nowhere" in error.problem


def test_pillar_implementation_must_name_a_step_model(model_dir):
    path, data = model_dir
    data["pillars"][0]["implementation"]["pionier"] = [{"model": "groeimodel", "steps": ["x"]}]
    assert "not a step model" in refused(path, data).problem


def test_pillar_implementation_levels_must_exist_and_not_be_empty(model_dir):
    path, data = model_dir
    data["pillars"][2]["implementation"]["somewhere"] = [{"model": "post", "steps": ["people"]}]
    error = refused(path, data)
    assert "somewhere" in error.problem and "pillars[2]" in error.field
    del data["pillars"][2]["implementation"]["somewhere"]
    data["pillars"][2]["implementation"]["proces"] = []
    error = refused(path, data)
    assert "proces" in error.problem and "pillars[2]" in error.field


def test_pillar_implementation_is_optional_and_then_the_levels_steps_apply(model_dir):
    path, data = model_dir
    for pillar in data["pillars"]:
        pillar.pop("implementation")
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    models = load_models(path.parent)
    model = models["bmm"]
    answers = {
        q.id: q.options[first_at(model, q, 0 if q.pillar == "people" else 2)].id
        for q in model.questions
    }
    stored = stored_result(model, score(model, answers), answers)
    card = result_card(model, stored, "en", "a1", catalog=models)
    assert model.pillar("people").name.en in card.summary  # still the profile
    header = t("result_implementation_header", "en")
    implementation = next(s for s in card.sections if s.header == header)
    assert list(implementation.lines) == implementation_lines(
        model, model.phases[0].implementation, models, "en"
    )
