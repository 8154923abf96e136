"""The conversation through the service: what a user sees and what is stored."""

from __future__ import annotations

import pytest

from flows.events import Event, Kind
from tests.helpers import Chat, stored_answers


def test_full_assessment_by_buttons_ends_in_first_phase(service, models):
    chat = Chat(service)
    chat.start("groeimodel")
    model = models["groeimodel"]
    for _ in model.questions:
        chat.press(chat.question.choices[0].payload)
    assert chat.result.phase_id == model.phases[0].id
    assert chat.result.phase_name in chat.texts()
    assert len(stored_answers(service.storage)) == len(model.questions)
    row = service.storage.db.execute("select phase_id from results").fetchone()
    assert row == (model.phases[0].id,)


def test_menu_intro_and_typed_numbers(service, models):
    chat = Chat(service)
    chat.type("/start")
    assert "Choose a model" in chat.texts()
    chat.type("2")
    second = list(models.values())[1]
    assert second.name.en in chat.texts()
    chat.type("1")  # the intro's Start
    assert chat.question.question_id == second.questions[0].id


def test_answer_by_label_in_either_language(service, models):
    model = models["mi-partners"]
    chat = Chat(service, lang="nl")
    chat.start(model.id)
    first = model.questions[0]
    chat.type(first.options[1].label.en.upper())  # English label while speaking Dutch
    assert chat.answered and stored_answers(service.storage)[0][2] == first.options[1].id


def test_back_and_change_an_answer_then_continue_where_you_were(service, models):
    model = models["groeimodel"]
    chat = Chat(service)
    chat.start(model.id)
    chat.type("1")
    chat.type("1")
    assert chat.question.question_id == model.questions[2].id
    chat.type("/back")
    assert chat.question.question_id == model.questions[1].id
    chat.type("3")
    assert chat.question.question_id == model.questions[2].id
    answers = dict((q, o) for _, q, o in stored_answers(service.storage))
    assert answers[model.questions[1].id] == model.questions[1].options[2].id
    assert len(answers) == 2


def test_invalid_input_reprompts_and_stores_nothing(service, models):
    chat = Chat(service)
    chat.start("altimeter")
    for junk in ["0", "99", "-1", "maybe", "", "1.5", "/nonsense", "a:b:c"]:
        chat.type(junk)
        assert chat.errors or not junk.strip(), junk
        assert chat.question.question_id == models["altimeter"].questions[0].id
    assert stored_answers(service.storage) == []


def test_stale_button_changes_nothing(service, models):
    chat = Chat(service)
    chat.start("groeimodel")
    old = chat.question.choices[0].payload
    chat.press(old)
    chat.press(chat.question.choices[1].payload)
    before = stored_answers(service.storage)
    chat.press(old.rsplit(":", 1)[0] + ":" + models["groeimodel"].questions[0].options[3].id)
    assert "earlier question" in chat.texts()
    assert stored_answers(service.storage) == before


def test_pause_and_resume_at_the_same_question(service, models):
    chat = Chat(service)
    chat.start("bmm")
    chat.type("2")
    chat.type("2")
    chat.type("/stop")
    assert "Paused" in chat.texts()
    chat.type("3")
    assert not chat.answered  # paused: no answer is taken
    chat.type("/resume")
    assert chat.question.question_id == models["bmm"].questions[2].id


def test_starting_an_unfinished_model_resumes_and_restart_starts_over(service, models):
    model = models["groeimodel"]
    chat = Chat(service)
    chat.start(model.id)
    chat.type("1")
    chat.start("altimeter")
    chat.start(model.id)
    assert "Welcome back" in chat.texts()
    assert chat.question.question_id == model.questions[1].id
    chat.type("/restart")
    assert chat.question.question_id == model.questions[0].id
    statuses = service.storage.db.execute(
        "select status from assessments where model_id = ? order by started_at", (model.id,)
    ).fetchall()
    assert ("abandoned",) in statuses and ("open",) in statuses


def test_language_change_mid_assessment(service, models):
    model = models["groeimodel"]
    chat = Chat(service)
    chat.start(model.id)
    chat.type("/lang nl")
    assert "Nederlands" in chat.texts()
    assert chat.question.text == model.questions[0].text.nl
    chat.type("/lang xx")
    assert chat.errors


def test_review_and_edit(service, models):
    model = models["mi-partners"]
    chat = Chat(service)
    chat.start(model.id)
    chat.type("1")
    chat.type("1")
    chat.type("/review")
    assert model.questions[0].options[0].label.en in chat.texts()
    chat.type("1")  # change question 1
    assert chat.question.question_id == model.questions[0].id
    chat.type("2")
    assert chat.question.question_id == model.questions[2].id


def test_review_of_the_quick_scan_edits_the_question_typed(service, scan):
    chat = Chat(service)
    chat.start(scan.id)
    chat.type("1")
    chat.type("1")
    chat.type("/review")
    chat.type("1")  # change question 1 of the scan, not continue
    assert chat.question.question_id == scan.questions[0].id
    chat.type("3")
    assert chat.question.question_id == scan.questions[2].id


def test_result_and_history_are_kept(service, models):
    chat = Chat(service)
    for model_id in ("groeimodel", "altimeter"):
        chat.start(model_id)
        for _ in models[model_id].questions:
            chat.press(chat.question.choices[-1].payload)
        assert chat.result.phase_id == models[model_id].phases[-1].id
    chat.type("/history")
    text = chat.texts()
    assert text.index(models["altimeter"].name.en) < text.index(models["groeimodel"].name.en)
    chat.type("/result")
    assert chat.result.model_id == "altimeter"


def test_pillar_result_names_the_weak_pillar_and_its_actions(service, models):
    model = models["bmm"]
    weak = model.pillars[0]
    chat = Chat(service)
    chat.start(model.id)
    for question in model.questions:
        choice = 0 if question.pillar == weak.id else -1
        chat.press(chat.question.choices[choice].payload)
    result = chat.result
    assert result.phase_id == model.phases[0].id
    assert result.chart is not None and len(result.chart.values) == len(model.pillars)
    assert weak.next_actions[model.phases[0].id][0].en in chat.texts()


@pytest.mark.parametrize("kind", [k for k in Kind if k is not Kind.TEXT])
def test_every_event_in_every_state_is_answered(service, kind):
    """No event crashes in any state; each gets at least one reply."""
    chat = Chat(service, user=f"u-{kind.value}")
    setups = [
        [],
        ["/start"],
        ["/start", "1"],
        ["/start", "1", "1"],
        ["/start", "1", "1", "/review"],
    ]
    for setup in setups:
        for line in setup:
            chat.type(line)
        replies = chat.send(Event(kind, "groeimodel" if kind is Kind.CHOOSE else None))
        assert replies, (kind, setup)


def test_a_failed_exit_moment_offers_to_stop_before_the_plan_questions(service, models):
    model = models["social-strategy"]
    gate = [q for q in model.questions if q.step == model.phases[0].id]
    chat = Chat(service)
    chat.start(model.id)
    for _ in gate:  # "not ready" everywhere
        chat.press(chat.question.choices[0].payload)
    assert "exit moment" in chat.texts()
    question = chat.question
    assert question.question_id not in {q.id for q in gate}  # the plan questions come next
    stop = next(c for c in question.extra_choices if "Stop here" in c.label)
    chat.press(stop.payload)
    assert chat.result.phase_id == model.phases[0].id
    answered = {q for _, q, _ in stored_answers(service.storage)}
    assert answered == {q.id for q in gate}  # the plan was not asked


def test_the_exit_moment_is_not_offered_when_the_organisation_is_ready(service, models):
    model = models["social-strategy"]
    chat = Chat(service, lang="nl")
    chat.start(model.id)
    for q in model.questions:
        if q.step != model.phases[0].id:
            break
        chat.press(chat.question.choices[-1].payload)  # ready
    assert "uitstapmoment" not in chat.texts().lower()
    assert not any("Stop hier" in c.label for c in chat.question.extra_choices)
    chat.type("/advies")  # typed anyway: nothing is finished early
    assert chat.result is None
