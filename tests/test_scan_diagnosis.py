"""Issue 11, "a diagnosis people recognise": what the quick scan tells an organisation, as the
user sees it in the terminal. The next step follows from the answer that lags behind the
organisation's own overall position (never a beginner's step at the top) and says why; a
decentralised organisation is placed where each model's own description puts it; the
disagreement names the answer that makes the difference; the tooling question feeds the BMM
technology pillar; a Dutch session reads Dutch."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.console import ConsoleChannel
from bot.service import AssessmentService
from bot.storage import Storage
from flows.i18n import t
from flows.model_loader import ModelFileError, load_models, load_scan
from flows.scan import score_scan

SCAN_FILE = Path(__file__).resolve().parent.parent / "model_data" / "_scan.yaml"
MODELS = load_models()
SCAN = load_scan(MODELS)

BEGINNER = {q.id: q.options[0].id for q in SCAN.questions}
TOP = {q.id: q.options[-1].id for q in SCAN.questions}
DECENTRALISED = {
    # every department does its own thing, and does it competently
    "owner": "c",  # each department arranges it itself, with its own owner
    "plan": "c",  # each department has its own plan with its own goals
    "policy": "dept",  # each department has its own guidelines; no shared ones
    "response": "dept",  # each department answers the questions about its own subjects
    "measure": "c",  # set figures per channel in a report
    "integration": "c",  # coordinate for campaigns
    "cocreation": "c",  # conversations and a community
    "leadership": "c",  # management supports pilots and asks for results
    "skills": "c",  # those responsible are trained
    "tooling": "c",  # each department has its own tools
}
COORDINATED = DECENTRALISED | {
    # the same organisation once one plan, one policy and one way of working join the departments
    "owner": "d",
    "plan": "d",
    "policy": "d",
    "response": "agreed",
    "tooling": "d",
}


def run(tmp_path, answers: dict[str, str], lang: str = "en", extra: tuple[str, ...] = ()) -> str:
    """The whole terminal transcript of a scan answered by option id (typed as numbers)."""
    lines = []
    for question in SCAN.questions:
        ids = [o.id for o in question.options]
        lines.append(str(ids.index(answers[question.id]) + 1))
    storage = Storage(tmp_path / f"scan-{lang}.db")
    service = AssessmentService(storage, MODELS, scan=SCAN)
    out = io.StringIO()
    channel = ConsoleChannel(service, "tester", tmp_path / "charts", out=out, lang=lang)
    channel.run(io.StringIO("".join(f"{line}\n" for line in [*lines, *extra])), model_id=SCAN.id)
    storage.close()
    return out.getvalue()


def result_part(transcript: str, lang: str = "en") -> str:
    return transcript.split(t("scan_title", lang), 1)[1]


def phase_line(model_id: str, phase_id: str, lang: str = "en") -> str:
    model = MODELS[model_id]
    index = model.phase_index(phase_id)
    return t(
        "scan_row",
        lang,
        model=model.name.get(lang),
        phase=model.phases[index].name.get(lang),
        number=index + 1,
        total=len(model.phases),
    )


def step_header(pointer: tuple[str, str], lang: str = "en") -> str:
    model = MODELS[pointer[0]]
    step = model.phases[model.phase_index(pointer[1])]
    return t("scan_next_step_header", lang, model=model.name.get(lang), step=step.name.get(lang))


def why_lagging(question_id: str, option_id: str, lang: str = "en") -> str:
    question = SCAN.question(question_id)
    option = next(o for o in question.options if o.id == option_id)
    return t(
        "scan_why_lagging",
        lang,
        dimension=question.dimension.get(lang),
        answer=option.label.get(lang),
    )


# ---- 1. the next step follows the diagnosis ----------------------------------------------------
def test_a_beginner_and_an_organisation_at_the_top_get_different_steps_with_a_reason(tmp_path):
    beginner = result_part(run(tmp_path, BEGINNER))
    top = result_part(run(tmp_path, TOP))
    start, summit = SCAN.overall_steps[0], SCAN.overall_steps[-1]
    assert step_header(start.key) in beginner
    assert t("scan_why_overall", "en", position=start.position.en) in beginner
    assert step_header(summit.key) in top
    assert t("scan_why_overall", "en", position=summit.position.en) in top
    assert "stay there, keep measuring and keep improving" in top
    assert start.key != summit.key
    assert summit.key not in SCAN.beginner_steps()
    for pointer in SCAN.beginner_steps():
        assert step_header(pointer) not in top


def test_the_answer_that_lags_behind_the_rest_chooses_the_step_and_is_named(tmp_path):
    # an organised organisation (everything org-wide) that barely measures
    answers = {q.id: q.options[-2].id for q in SCAN.questions} | {"measure": "b"}
    out = result_part(run(tmp_path, answers))
    assert step_header(SCAN.question("measure").next_step.basic.key) in out
    assert why_lagging("measure", "b") in out
    assert "lags furthest behind the rest" in out


def test_at_the_top_a_lagging_answer_gets_the_advanced_step_never_a_beginners_step(tmp_path):
    # at the top everywhere, but measurement is still nothing: not "start measuring" as for a
    # beginner, but the step that takes measurement further
    answers = TOP | {"measure": "a"}
    scored = score_scan(SCAN, MODELS, answers)
    assert scored.overall >= SCAN.top_from
    assert scored.lagging == "measure"
    assert scored.next_step == SCAN.question("measure").next_step.advanced.key
    assert scored.next_step not in SCAN.beginner_steps()
    out = result_part(run(tmp_path, answers))
    assert step_header(scored.next_step) in out
    assert why_lagging("measure", "a") in out


def test_answers_on_one_rung_lag_nowhere_and_get_the_step_for_their_position(tmp_path):
    middle = {q.id: q.options[2].id for q in SCAN.questions}
    scored = score_scan(SCAN, MODELS, middle)
    assert scored.lagging is None
    entry = SCAN.overall_step(scored.overall)
    assert scored.next_step == entry.key
    assert entry not in (SCAN.overall_steps[0], SCAN.overall_steps[-1])
    out = result_part(run(tmp_path, middle))
    assert t("scan_why_overall", "en", position=entry.position.en) in out


def test_the_reason_is_kept_with_the_stored_result(tmp_path):
    answers = {q.id: q.options[-2].id for q in SCAN.questions} | {"measure": "b"}
    out = run(tmp_path, answers, extra=("/result",))
    assert out.count(why_lagging("measure", "b")) == 2  # the card, and the card shown again


answer_sets = st.fixed_dictionaries(
    {q.id: st.sampled_from([o.id for o in q.options]) for q in SCAN.questions}
)


@settings(max_examples=300, deadline=None)
@given(answers=answer_sets)
def test_property_no_beginners_step_at_the_top_and_always_a_reason(answers):
    scored = score_scan(SCAN, MODELS, answers)
    at_top = scored.overall >= SCAN.top_from or all(
        index == len(MODELS[m].phases) - 1 for m, index in scored.placements.items()
    )
    if at_top:
        assert scored.next_step not in SCAN.beginner_steps()
    if scored.lagging:
        steps = SCAN.question(scored.lagging).next_step
        assert scored.next_step in (steps.basic.key, steps.advanced.key)
    else:
        assert scored.next_step == SCAN.overall_step(scored.overall).key


@settings(max_examples=200, deadline=None)
@given(answers=answer_sets, data=st.data())
def test_property_a_more_mature_answer_never_lowers_a_placement(answers, data):
    question = data.draw(st.sampled_from(SCAN.questions))
    ids = [o.id for o in question.options]
    index = ids.index(answers[question.id])
    if index == len(ids) - 1:
        return
    raised = answers | {question.id: ids[data.draw(st.integers(index + 1, len(ids) - 1))]}
    before = score_scan(SCAN, MODELS, answers).placements
    after = score_scan(SCAN, MODELS, raised).placements
    assert all(after[m] >= before[m] for m in SCAN.models)


# ---- 4. a decentralised organisation finds true answers and a sensible place -------------------
def test_a_decentralised_but_competent_organisation_is_placed_where_each_model_puts_it(tmp_path):
    out = result_part(run(tmp_path, DECENTRALISED))
    # each model's own description of departments that each go their own way
    assert phase_line("groeimodel", "conscious-incompetent") in out  # no plan for the whole
    assert phase_line("mi-partners", "experimental") in out  # departments run their own
    assert phase_line("altimeter", "engagement") in out  # before Formalized, but in dialogue
    assert phase_line("bmm", "proces") in out  # department plans: the island organisation
    assert t("scan_agree", "en") in out
    # not told to start from scratch, and told why
    scored = score_scan(SCAN, MODELS, DECENTRALISED)
    assert scored.next_step not in SCAN.beginner_steps()
    assert "Why this step:" in out
    # it is the lack of coordination that holds it there: joining the same departments up lifts
    # it a phase in the Growth Model and M&I (Altimeter and BMM also want a sponsor at the top)
    joined = score_scan(SCAN, MODELS, COORDINATED).placements
    assert all(joined[m] >= scored.placements[m] for m in SCAN.models)
    assert MODELS["groeimodel"].phases[joined["groeimodel"]].id == "conscious-competent"
    assert MODELS["mi-partners"].phases[joined["mi-partners"]].id == "functional"


def test_per_department_options_sit_below_organisation_wide_ones_and_never_lower_than_pilots():
    for question in SCAN.questions:
        for option in question.options:
            if "department" not in option.label.en.lower() or "whole" in option.label.en:
                continue
            assert option.maps["mi-partners"] in ("experimental", "functional"), option.label.en
            assert option.maps["bmm"] == "proces", option.label.en
            assert option.maps["altimeter"] in ("presence", "engagement"), option.label.en


def test_no_double_barrelled_webcare_option_and_dutch_that_reads_as_dutch():
    labels = [o.label for q in SCAN.questions for o in q.options]
    assert not any("monitoring" in label.en and "agreed times" in label.en for label in labels)
    assert "Nee, we zenden hooguit uit" in [label.nl for label in labels]


# ---- 3. the disagreement names its cause -------------------------------------------------------
def test_the_disagreement_names_the_answer_the_models_rate_apart(tmp_path):
    # the skills answer sits in BMM's weakest pillar (people: Pioneer) while Altimeter counts it
    # as Presence; the policy answer is lower still, but BMM's governance pillar is not what
    # holds it back
    answers = {
        "owner": "c",
        "plan": "d",
        "policy": "b",
        "response": "c",
        "measure": "c",
        "integration": "d",
        "cocreation": "d",
        "leadership": "c",
        "skills": "b",
        "tooling": "d",
    }
    assert score_scan(SCAN, MODELS, answers).disagreement == ("altimeter", "bmm", "skills")
    out = result_part(run(tmp_path, answers))
    line = t(
        "scan_disagree_cause",
        "en",
        high=MODELS["altimeter"].name.en,
        low=MODELS["bmm"].name.en,
        dimension="skills",
        answer="We know we lack knowledge",
        high_phase="Presence",
        low_phase="Pioneer",
    )
    assert line in out
    assert SCAN.notes["altimeter"].en in out and SCAN.notes["bmm"].en in out


def test_a_difference_in_counting_is_explained_as_such(tmp_path):
    # both models rate the response answer low; BMM's weakest pillar lets it cap the whole,
    # the Growth Model's staircase lets one answer lag. Measurement, which the two rate furthest
    # apart, is not the cause and is not named.
    answers = {q.id: q.options[-2].id for q in SCAN.questions} | {
        "policy": "c",
        "response": "c",
        "leadership": "e",
    }
    assert score_scan(SCAN, MODELS, answers).disagreement == ("groeimodel", "bmm", "response")
    out = result_part(run(tmp_path, answers))
    assert "That comes from how they count" in out
    assert "your answer on response handling" in out
    assert "your answer on measurement" not in out


# ---- 2. the tooling question -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("tooling", "level"), [("a", "pionier"), ("c", "proces"), ("d", "systeem"), ("e", "netwerk")]
)
def test_the_tooling_answer_moves_the_bmm_placement(tmp_path, tooling, level):
    out = result_part(run(tmp_path, TOP | {"tooling": tooling}))
    assert phase_line("bmm", level) in out
    assert phase_line("groeimodel", "unconscious-competent") in out  # one answer may lag there


def test_a_lagging_tooling_answer_is_named_as_the_reason_and_the_cause(tmp_path):
    out = result_part(run(tmp_path, TOP | {"tooling": "c"}))
    assert why_lagging("tooling", "c") in out
    assert "your answer on tools and systems" in out  # the disagreement with BMM
    assert step_header(SCAN.question("tooling").next_step.advanced.key) in out


# ---- 5. a Dutch session reads Dutch ------------------------------------------------------------
def test_the_dutch_result_has_no_english_line(tmp_path):
    answers = TOP | {"tooling": "c"}  # a disagreement, a lagging answer, a reason
    english = result_part(run(tmp_path, answers, "en"))
    dutch_transcript = run(tmp_path, answers, "nl")
    dutch = result_part(dutch_transcript, "nl")
    for key in ("scan_table_header", "scan_disagree_header", "scan_rule", "result_footer"):
        assert t(key, "nl") in dutch
        assert t(key, "en") not in dutch
    assert "Waarom deze stap:" in dutch and "Why this step" not in dutch
    assert "Je volgende implementatiestap" in dutch and "next implementation step" not in dutch
    assert "Dat komt door hoe ze tellen" in dutch
    # no line of the Dutch result is a line of the English one, except names
    names = {m.name.en for m in MODELS.values()} | {m.name.nl for m in MODELS.values()}
    shared = {line.strip() for line in english.splitlines()} & {
        line.strip() for line in dutch.splitlines()
    }
    assert {line for line in shared if line and not any(n in line for n in names)} == set()
    assert "crosswalk" not in dutch_transcript  # the intro's author line


# ---- the crosswalk's new guarantees are checked at load ----------------------------------------
def refused(tmp_path, change) -> ModelFileError:
    data = yaml.safe_load(SCAN_FILE.read_text("utf-8"))
    change(data)
    (tmp_path / "_scan.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    with pytest.raises(ModelFileError) as caught:
        load_scan(MODELS, tmp_path)
    return caught.value


def test_the_shipped_crosswalk_loads_from_a_folder_too(tmp_path):
    (tmp_path / "_scan.yaml").write_text(SCAN_FILE.read_text("utf-8"), "utf-8")
    assert load_scan(MODELS, tmp_path) == SCAN


def test_an_advanced_step_that_is_a_beginners_step_is_refused(tmp_path):
    def change(data):
        data["questions"][1]["next_step"]["advanced"] = data["questions"][0]["next_step"]["basic"]

    error = refused(tmp_path, change)
    assert error.field == "questions[1] (plan).next_step.advanced"
    assert "beginner" in error.problem


def test_a_question_without_an_advanced_step_is_refused(tmp_path):
    error = refused(tmp_path, lambda data: data["questions"][0]["next_step"].pop("advanced"))
    assert "advanced" in error.field


def test_an_unknown_step_is_refused(tmp_path):
    def change(data):
        data["questions"][2]["next_step"]["basic"]["step"] = "nowhere"

    error = refused(tmp_path, change)
    assert error.field == "questions[2] (policy).next_step.basic.step"


def test_overall_steps_must_rise_and_differ_from_the_questions_steps(tmp_path):
    def not_rising(data):
        data["overall_steps"][2]["at_least"] = 0.1

    assert "rise" in refused(tmp_path, not_rising).problem

    def shared(data):
        pointer = data["questions"][3]["next_step"]["advanced"]
        data["overall_steps"][2].update(pointer)

    assert refused(tmp_path, shared).field == "overall_steps[2]"
