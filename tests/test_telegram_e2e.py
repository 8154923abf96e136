"""The Telegram channel end to end: the real python-telegram-bot Application polling a fake Bot
API on 127.0.0.1; tests play the user there and check what the user sees (messages, buttons,
notices as the fake keeps them) and what is stored (rows in the SQLite database)."""

from __future__ import annotations

import json
import sys

import pytest

from bot.telegram.texts import tt
from flows.i18n import t
from tests.fake_telegram import BOT_USERNAME, FakeTelegram, TgChat, TgUser
from tests.telegram_rig import Rig, is_question


@pytest.fixture
def fake():
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def rig(fake, tmp_path, models):
    bot = Rig(fake, tmp_path / "bot.db", models)
    yield bot
    bot.stop()


def begin(rig: Rig, user: TgUser, model_id: str):
    """`/assess <model>`: the intro and the first question at once; returns that question."""
    mark = rig.say(user, f"/assess {model_id}")
    return rig.question(user, after=mark)


def question_text(models, model_id: str, number: int, lang: str = "en") -> str:
    return models[model_id].questions[number - 1].text.get(lang)


def test_complete_assessment_by_buttons(rig, fake, models):
    user = TgUser(1001)
    model = models["groeimodel"]
    mark = rig.say(user, "/start")
    rig.message(user, t("welcome", "en"), after=mark)
    menu = fake.wait_message(user.id, lambda m: bool(m.buttons), after=mark)
    for each in models.values():
        assert each.name.en in menu.text  # '&' in a name arrives as '&' (HTML escaped right)
    mark = rig.press(user, menu, data="m:groeimodel")
    prompt = fake.wait_message(user.id, lambda m: bool(m.buttons), after=mark)
    assert model.name.en in fake.sent(user.id, after=mark)[0].text  # the intro
    mark = rig.press(user, prompt, text=t("begin_button", "en"))
    first = rig.question(user, after=mark)
    assert question_text(models, "groeimodel", 1) in first.text
    assert t("question_header", "en", number=1, total=len(model.questions)) in first.text

    mark = rig.answer_all(user, "groeimodel", index=0, first=first)

    result = rig.message(user, t("result_footer", "en"), after=mark)
    phase = model.phases[0]
    assert result.text.startswith(t("result_title", "en", model=model.name.en, phase=phase.name.en))
    assert t("result_held_back_header", "en") in result.text
    assert phase.next_actions[0].en in result.text
    # the chat reads as a transcript: each question became its answer, without buttons
    answered = [m for m in fake.sent(user.id) if m.text and m.text.startswith("✓ ")]
    assert len(answered) == len(model.questions)
    assert all(not m.buttons for m in answered)
    assert answered[0].text == "✓ " + t(
        "answer_recorded",
        "en",
        question=model.questions[0].text.en,
        answer=model.questions[0].options[0].label.en,
    )
    # the menu and the start prompt lost their buttons and say what was pressed
    menu_now = fake.message(user.id, menu.message_id)
    assert not menu_now.buttons and menu_now.text.endswith("→ " + model_line(model))
    assert not fake.message(user.id, prompt.message_id).buttons
    # every press was acknowledged
    assert len(fake.toasts) == len(model.questions) + 2
    # stored: every answer, the result at the first phase
    assert rig.answers(user) == {q.id: q.options[0].id for q in model.questions}
    assert rig.rows("select model_id, phase_id from results") == [("groeimodel", phase.id)]


def model_line(model) -> str:
    return t(
        "model_line",
        "en",
        name=model.name.en,
        author=model.author,
        year=model.year,
        count=len(model.questions),
    )


def test_typed_numbers_and_the_radar_chart_of_a_pillar_model(rig, fake, models):
    user = TgUser(1002)
    model = models["bmm"]
    message = begin(rig, user, "bmm")
    for number in range(1, len(model.questions) + 1):
        assert question_text(models, "bmm", number) in message.text
        mark = rig.say(user, "2")
        if number < len(model.questions):
            message = rig.question(user, after=mark)
    result = rig.message(user, t("result_footer", "en"), after=mark)
    (phase_id,) = rig.rows("select phase_id from results")[0]
    phase_name = model.phases[model.phase_index(phase_id)].name.en
    assert t("result_title", "en", model=model.name.en, phase=phase_name) in result.text
    for pillar in model.pillars:
        assert pillar.name.en in result.text
    photo = fake.wait_message(user.id, lambda m: m.photo is not None, after=mark)
    assert photo.photo.startswith(b"\x89PNG")
    assert photo.caption == t("result_chart_caption", "en", model=model.name.en)
    # a typed answer is confirmed with what it was understood as
    confirmations = [m.text for m in fake.sent(user.id) if m.text and m.text.startswith("✓ ")]
    assert len(confirmations) == len(model.questions)
    assert model.questions[0].options[1].label.en in confirmations[0]
    assert rig.answers(user) == {q.id: q.options[1].id for q in model.questions}


def test_back_and_change_an_answer(rig, fake, models):
    user = TgUser(1003)
    model = models["groeimodel"]
    first = begin(rig, user, "groeimodel")
    mark = rig.press(user, first, index=0)
    second = rig.question(user, after=mark)
    assert question_text(models, "groeimodel", 2) in second.text

    mark = rig.press(user, second, text=tt("back_button", "en"))
    again = rig.question(user, after=mark)
    assert question_text(models, "groeimodel", 1) in again.text
    settled = fake.message(user.id, second.message_id)
    assert not settled.buttons and settled.text.endswith("→ " + tt("back_button", "en"))

    mark = rig.press(user, again, index=2)
    assert question_text(models, "groeimodel", 2) in rig.question(user, after=mark).text
    assert rig.answers(user) == {model.questions[0].id: model.questions[0].options[2].id}
    assert fake.message(user.id, again.message_id).text.endswith(
        model.questions[0].options[2].label.en
    )


def test_stop_and_resume_after_the_bot_restarts(rig, fake, models):
    user = TgUser(1004)
    model = models["altimeter"]
    message = begin(rig, user, "altimeter")
    for _ in range(2):
        mark = rig.press(user, message, index=1)
        message = rig.question(user, after=mark)
    mark = rig.press(user, message, text=tt("stop_button", "en"))
    rig.message(user, t("paused", "en"), after=mark)

    rig.restart()  # a new process: nothing but the database carries over
    assert len(rig.answers(user)) == 2

    mark = rig.say(user, "/resume")
    resumed = t("resumed", "en", name=model.name.en, number=3, total=len(model.questions))
    rig.message(user, resumed, after=mark)
    third = rig.question(user, after=mark)
    assert question_text(models, "altimeter", 3) in third.text
    mark = rig.answer_all(user, "altimeter", index=1, first=third, start=3)
    rig.message(user, t("result_footer", "en"), after=mark)
    assert rig.answers(user) == {q.id: q.options[1].id for q in model.questions}
    assert rig.rows("select count(*) from results") == [(1,)]


def test_a_stale_button_gets_a_notice_and_changes_nothing(rig, fake, models):
    user = TgUser(1005)
    model = models["groeimodel"]
    first = begin(rig, user, "groeimodel")
    mark = rig.say(user, "1")  # typed: the first question's buttons stay on screen
    rig.question(user, after=mark)

    mark = rig.press(user, first, index=3)
    again = rig.question(user, after=mark)  # the current question, shown again
    assert question_text(models, "groeimodel", 2) in again.text
    assert fake.toasts[-1]["text"] == t("stale_button", "en")
    assert not fake.message(user.id, first.message_id).buttons
    assert rig.answers(user) == {model.questions[0].id: model.questions[0].options[0].id}

    # a question of an abandoned assessment
    mark = rig.say(user, "/restart")
    restarted = rig.question(user, after=mark)
    assert question_text(models, "groeimodel", 1) in restarted.text
    mark = rig.press(user, again, index=0)
    rig.question(user, after=mark)
    assert fake.toasts[-1]["text"] == t("stale_button", "en")
    assert rig.answers(user) == {}  # the new assessment has no answer
    assert rig.rows("select status from assessments order by rowid") == [
        ("abandoned",),
        ("open",),
    ]


def test_a_duplicate_update_is_applied_once(rig, fake, models):
    user = TgUser(1006)
    model = models["groeimodel"]
    begin(rig, user, "groeimodel")
    mark = fake.mark()
    typed = fake.send(user, "1")
    second = rig.question(user, after=mark)
    assert question_text(models, "groeimodel", 2) in second.text

    mark = fake.mark()
    fake.redeliver(typed)  # the same update_id again: without care, "1" would answer question 2
    pressed = fake.press(user, second, index=0)
    third = rig.question(user, after=mark)
    fake.redeliver(pressed)  # the button press again
    probe = rig.say(user, "/help")
    current = t("help_current", "en", name=model.name.en, number=3, total=len(model.questions))
    rig.message(user, current, after=probe)

    assert rig.answers(user) == {
        model.questions[0].id: model.questions[0].options[0].id,
        model.questions[1].id: model.questions[1].options[0].id,
    }
    shown = [m.text for m in fake.sent(user.id, after=mark)]
    assert sum(text.startswith("✓ ") for text in shown) == 0  # no second typed confirmation
    assert [m.message_id for m in fake.sent(user.id, after=mark) if is_question(m)][0] == (
        third.message_id
    )
    assert len(fake.calls_to("answerCallbackQuery", after=mark)) == 1
    assert all(toast["text"] is None for toast in fake.toasts)  # no stale notice either


def test_forget_deletes_the_rows_after_confirmation(rig, fake, models):
    user, other = TgUser(1007), TgUser(1008)
    for who in (user, other):
        first = begin(rig, who, "groeimodel")
        mark = rig.press(who, first, index=0)
        rig.question(who, after=mark)

    mark = rig.say(user, "/forget")
    confirm = rig.message(user, tt("forget_confirm", "en"), after=mark)
    mark = rig.press(user, confirm, text=tt("forget_no", "en"))
    rig.message(user, tt("forget_cancelled", "en"), after=mark)
    assert len(rig.answers(user)) == 1

    mark = rig.say(user, "/forget")
    confirm = rig.message(user, tt("forget_confirm", "en"), after=mark)
    mark = rig.press(user, confirm, text=tt("forget_yes", "en"))
    rig.message(user, tt("forgotten", "en"), after=mark)
    assert not fake.message(user.id, confirm.message_id).buttons
    assert rig.rows("select external_id from users") == [(str(other.id),)]
    left = {"assessments": 1, "answers": 1, "results": 0, "conversations": 1}  # the other's
    for table, count in left.items():
        assert rig.rows(f"select count(*) from {table}") == [(count,)], table
    assert len(rig.answers(other)) == 1


def test_export_sends_the_users_own_data_as_a_file(rig, fake, models):
    user = TgUser(1009)
    mark = rig.say(user, "/export")
    rig.message(user, tt("export_nothing", "en"), after=mark)

    first = begin(rig, user, "groeimodel")
    mark = rig.press(user, first, index=1)
    rig.question(user, after=mark)
    mark = rig.say(user, "/export")
    document = fake.wait_message(user.id, lambda m: m.document is not None, after=mark)
    assert document.file_name == "maturity-bot-export.json"
    assert document.caption == tt("export_caption", "en")
    data = json.loads(document.document)
    (assessment,) = data["assessments"]
    question = models["groeimodel"].questions[0]
    assert assessment["answers"][0]["question"] == question.text.en
    assert assessment["answers"][0]["answer"] == question.options[1].label.en


def test_language_from_telegram_and_switching_mid_assessment(rig, fake, models):
    user = TgUser(1010, language_code="nl-BE")
    model = models["groeimodel"]
    mark = rig.say(user, "/start")
    rig.message(user, t("welcome", "nl"), after=mark)
    first = begin(rig, user, "groeimodel")
    assert question_text(models, "groeimodel", 1, "nl") in first.text
    assert tt("back_button", "nl") in first.button_texts
    mark = rig.press(user, first, index=0)
    rig.question(user, after=mark)

    mark = rig.say(user, "/lang en")
    rig.message(user, t("language_set", "en"), after=mark)
    second = rig.question(user, after=mark)
    assert question_text(models, "groeimodel", 2, "en") in second.text
    assert rig.rows("select lang from users") == [("en",)]

    mark = rig.say(user, "/lang")  # no language named: buttons, each in its own language
    choice = rig.message(user, tt("language_prompt", "en"), after=mark)
    mark = rig.press(user, choice, text="Nederlands")
    rig.message(user, t("language_set", "nl"), after=mark)
    second_nl = rig.question(user, after=mark)
    assert question_text(models, "groeimodel", 2, "nl") in second_nl.text
    assert rig.rows("select lang from users") == [("nl",)]
    mark = rig.answer_all(user, "groeimodel", index=0, first=second_nl, start=2)
    result = rig.message(user, t("result_footer", "nl"), after=mark)
    assert model.phases[0].name.nl in result.text


def test_a_429_is_retried_after_retry_after(rig, fake, models):
    user = TgUser(1011)
    first = begin(rig, user, "groeimodel")
    fake.fail("sendMessage", 429, retry_after=1)
    mark = rig.press(user, first, index=0)
    second = rig.question(user, after=mark)
    assert question_text(models, "groeimodel", 2) in second.text
    sends = fake.calls_to("sendMessage", after=mark)
    assert [c.status for c in sends] == [429, 200]
    assert sends[0].params["text"] == sends[1].params["text"]
    assert sum(is_question(m) for m in fake.sent(user.id, after=mark)) == 1


def test_network_errors_are_retried_and_a_failed_send_keeps_the_answer(rig, fake, models):
    user = TgUser(1012)
    model = models["groeimodel"]
    first = begin(rig, user, "groeimodel")
    fake.fail("sendMessage", 500)
    fake.fail("sendMessage", drop=True)
    mark = rig.press(user, first, index=0)
    second = rig.question(user, after=mark)
    assert [c.status for c in fake.calls_to("sendMessage", after=mark)] == [500, 0, 200]

    fake.fail("sendMessage", 502, times=3)  # more than the rig's two retries
    mark = rig.press(user, second, index=0)
    fake.wait_for("sendMessage", after=mark, count=3, status=502)
    probe = rig.say(user, "/resume")
    third = rig.question(user, after=probe)
    assert question_text(models, "groeimodel", 3) in third.text
    assert [c.status for c in fake.calls_to("sendMessage", after=mark)][:3] == [502, 502, 502]
    assert rig.answers(user) == {q.id: q.options[0].id for q in model.questions[:2]}


def test_group_chats_are_pointed_to_a_private_chat(rig, fake, models):
    user = TgUser(1013)
    group = TgChat(-100777, "supergroup", "Team")
    mark = rig.say(user, f"/start@{BOT_USERNAME}", chat=group)
    rig.say(user, "hello everyone", chat=group)
    rig.say(user, "/start@SomeOtherBot", chat=group)
    rig.say(user, "/assess groeimodel", chat=group)
    notices = [fake.wait_message(group.id, after=mark)]
    notices.append(
        fake.wait_message(group.id, lambda m: m.message_id != notices[0].message_id, after=mark)
    )
    assert all(m.text == tt("private_only", "en") for m in notices)
    assert notices[0].buttons == [
        {"text": tt("private_button", "en"), "url": f"https://t.me/{BOT_USERNAME}"}
    ]
    probe = rig.say(user, "/help")  # updates of one user are handled in order
    rig.message(user, t("help", "en").split("\n")[0], after=probe)
    assert len(fake.sent(group.id)) == 2
    assert rig.rows("select count(*) from users") == [(1,)]  # only from the private /help
    assert rig.rows("select count(*) from assessments") == [(0,)]


def test_the_command_menu_is_registered_in_both_languages(rig, fake):
    names = [c["command"] for c in fake.commands[("default", "en")]]
    assert {"start", "assess", "models", "result", "history", "back", "stop", "lang"} <= set(names)
    assert {"help", "forget", "export", "dashboard", "report"} <= set(names)
    assert fake.commands[("default", "")] == fake.commands[("default", "en")]
    dutch = {c["command"]: c["description"] for c in fake.commands[("default", "nl")]}
    assert dutch["vergeet"] == tt("cmd_forget", "nl")
    assert dutch["geschiedenis"] == tt("cmd_history", "nl") and "history" not in dutch


def test_quick_answers_are_applied_in_the_order_they_were_typed(rig, fake, models):
    """Updates of one user arriving in one batch are handled one at a time, in order (PTB runs
    updates concurrently; the adapter holds a lock per user)."""
    user = TgUser(1014)
    model = models["mi-partners"]
    begin(rig, user, "mi-partners")
    mark = fake.mark()
    numbers = [1 + (i * 3) % len(q.options) for i, q in enumerate(model.questions)]
    for number in numbers:
        fake.send(user, str(number))  # all typed before the bot answers the first
    rig.message(user, t("result_footer", "en"), after=mark)
    expected = {q.id: q.options[n - 1].id for q, n in zip(model.questions, numbers, strict=True)}
    assert rig.answers(user) == expected
    confirmations = [m.text for m in fake.sent(user.id, after=mark) if m.text.startswith("✓ ")]
    assert confirmations == [
        "✓ " + t("answer_recorded", "en", question=q.text.en, answer=q.options[n - 1].label.en)
        for q, n in zip(model.questions, numbers, strict=True)
    ]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE semantics")
def test_a_forget_the_disk_cannot_take_is_said_and_erases_nothing(rig, fake, models):
    from tests.test_bad_environments import files_limited_to

    user = TgUser(1011)
    first = begin(rig, user, "groeimodel")
    rig.question(user, after=rig.press(user, first, index=0))
    mark = rig.say(user, "/forget")
    confirm = rig.message(user, tt("forget_confirm", "en"), after=mark)
    with files_limited_to(4096):
        mark = rig.press(user, confirm, text=tt("forget_yes", "en"))
        rig.message(user, t("not_saved", "en"), after=mark)
    assert len(rig.answers(user)) == 1  # nothing erased, nothing half-erased
    assert rig.rows("select count(*) from users") == [(1,)]
