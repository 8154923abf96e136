"""The Slack channel end to end: the real Bolt app in HTTP mode on 127.0.0.1, signed requests
as Slack sends them, and a fake Slack Web API recording what the user would see."""

from __future__ import annotations

import copy
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import pytest

from bot.service import AssessmentService
from bot.slack.app import SlackChannel
from bot.slack.build import build_app
from bot.slack.http import EVENTS_PATH, web_app
from bot.slack.web_client import make_client
from bot.storage import Storage
from flows.i18n import t
from flows.replies import Ask, Choice, Say
from tests.fake_slack import BOT_TOKEN, TEAM_ID, Call, FakeSlack, Message, SlackSender, serve_asgi

SECRET = "test-signing-secret"
STAGE_MODELS = ["groeimodel", "mi-partners", "altimeter"]


class Rig:
    """The app under test (service over a SQLite file + Bolt app + HTTP server) and the fake."""

    def __init__(self, fake: FakeSlack, db_path, models) -> None:
        self.fake = fake
        self.db_path = db_path
        self.models = models
        self._stack: ExitStack | None = None
        self.start()

    def start(self) -> None:
        self._stack = ExitStack()
        self.storage = Storage(self.db_path)
        self._stack.callback(self.storage.close)
        self.service = AssessmentService(self.storage, self.models)
        executor = ThreadPoolExecutor(max_workers=5)
        # closed last-in-first-out: server, then the listeners in flight, then the database
        self._stack.callback(executor.shutdown, wait=True)
        client = make_client(BOT_TOKEN, self.fake.api_url)
        app = build_app(self.service, client, SECRET, executor=executor)
        url = self._stack.enter_context(serve_asgi(web_app(app, self.storage)))
        self.send = SlackSender(url + EVENTS_PATH, SECRET, self.fake)
        self._stack.callback(self.send.close)

    def stop(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    def restart(self) -> None:
        """A new process, as far as the app can tell: new storage connection, app and server."""
        self.stop()
        self.start()

    # ---- what the user does ------------------------------------------------------------------
    def command(self, user: str, text: str, **kwargs: Any) -> int:
        mark = self.fake.mark()
        response = self.send.command(text, user, **kwargs)
        assert response.status_code == 200, response.text
        return mark

    def question(self, user: str, after: int = 0) -> Message:
        """Wait for the next question posted in the user's DM; the message as it is now."""
        call = self.fake.wait_for(
            "chat.postMessage",
            lambda c: is_question(c) and c.response.get("channel") == f"D{user}",
            after=after,
        )
        return self.fake.posted(call)

    def press(self, user: str, message: Message, element: dict[str, Any], option: int = 0) -> int:
        """Press a button (or pick option `option` of a select) on a DM message."""
        mark = self.fake.mark()
        action = {"action_id": element["action_id"], "block_id": "b", "type": element["type"]}
        if element["type"] == "static_select":
            action["selected_option"] = element["options"][option]
        else:
            action["value"] = element["value"]
            action["text"] = element["text"]
        response = self.send.action(user, action, message=message)
        assert response.status_code == 200, response.text
        return mark

    def answer(self, user: str, message: Message, option: int = 0) -> int:
        """Choose option `option` on a question message (button or select)."""
        elements = block(message, "answers")["elements"]
        if elements[0]["type"] == "static_select":
            return self.press(user, message, elements[0], option)
        return self.press(user, message, elements[option], option)

    def nav(self, user: str, message: Message, name: str) -> int:
        element = next(
            e for e in block(message, "nav")["elements"] if e["action_id"].endswith(name)
        )
        return self.press(user, message, element)

    def answer_all(self, user: str, model_id: str, option: int = 0, first: Message | None = None):
        """Answer every question with option `option`; returns the result's chat.postMessage."""
        message = first or self.question(user)
        for number in range(1, len(self.models[model_id].questions) + 1):
            mark = self.answer(user, message, option)
            if number < len(self.models[model_id].questions):
                message = self.question(user, after=mark)
        return self.fake.wait_for("chat.postMessage", is_result, after=mark)

    # ---- what is stored ----------------------------------------------------------------------
    def rows(self, sql: str, *params: Any) -> list[tuple]:
        return self.storage.db.execute(sql, params).fetchall()

    def answers(self, user: str) -> list[tuple]:
        return self.rows(
            "select x.question_id, x.option_id from answers x join assessments a "
            "on a.id = x.assessment_id join users u on u.id = a.user_id "
            "where u.external_id = ? order by x.answered_at, x.rowid",
            f"{TEAM_ID}:{user}",
        )


def block(message: Message, block_id: str) -> dict[str, Any]:
    return next(b for b in message.blocks if b.get("block_id") == block_id)


def is_question(call: Call) -> bool:
    return any(b.get("block_id") == "answers" for b in call.blocks)


def is_result(call: Call) -> bool:
    return bool(call.blocks) and call.blocks[0].get("type") == "header"


def has_actions(message: Message) -> bool:
    return any(b.get("type") == "actions" for b in message.blocks)


def option_label(models, model_id: str, number: int, option: int, lang: str = "en") -> str:
    return models[model_id].questions[number - 1].options[option].label.get(lang)


@pytest.fixture
def fake():
    with FakeSlack() as server:
        yield server


@pytest.fixture
def rig(fake, tmp_path, models):
    running = Rig(fake, tmp_path / "slack.db", models)
    yield running
    running.stop()


# ---- a complete assessment ----------------------------------------------------------------------
@pytest.mark.parametrize("model_id", [*STAGE_MODELS, "bmm"])
def test_start_and_first_options_end_in_the_first_phase(rig, fake, models, model_id):
    model = models[model_id]
    rig.command("U1", f"start {model_id}")
    result = rig.answer_all("U1", model_id, option=0)

    first_phase = model.phases[0].name.en
    assert first_phase in result.text_of_blocks()
    last_post = fake.calls_to("chat.postMessage")[-1]
    assert first_phase in last_post.text_of_blocks()
    # every question now reads "✓ question → answer", without buttons; the first one shares
    # its message with the model's intro, which stays above it
    messages = fake.dm_messages("U1")
    answered = [line for m in messages for line in m.shown() if line.startswith("✓")]
    assert len(answered) == len(model.questions)
    assert not any(b.get("block_id") in ("answers", "nav") for m in messages for b in m.blocks)
    assert option_label(models, model_id, 1, 0) in answered[0]
    assert messages[0].shown()[0].startswith(model.name.en)
    assert messages[0].shown()[-1] == answered[0]
    assert len(messages) == len(model.questions) + 1  # one message per question, the result
    # stored: every answer and the result
    assert len(rig.answers("U1")) == len(model.questions)
    assert rig.rows("select model_id, phase_id from results") == [(model_id, model.phases[0].id)]


def test_pillar_result_uploads_the_radar_chart(rig, fake, models):
    rig.command("U1", "start bmm")
    rig.answer_all("U1", "bmm", option=0)
    fake.wait_for("files.completeUploadExternal")
    [upload] = fake.files
    assert upload["channel_id"] == "DU1"
    assert upload["content"].startswith(b"\x89PNG")
    assert models["bmm"].name.en in upload["title"]
    result = fake.calls_to("chat.postMessage")[-1].text_of_blocks()
    for pillar in models["bmm"].pillars:
        assert pillar.name.en in result


def test_a_select_replaces_buttons_when_a_question_has_many_options(rig, fake, models):
    model = models["altimeter"]
    many = next(i for i, q in enumerate(model.questions) if len(q.options) > 5)
    rig.command("U1", "start altimeter")
    message = rig.question("U1")
    for _ in range(many):
        message = rig.question("U1", after=rig.answer("U1", message, 0))
    [element] = block(message, "answers")["elements"]
    assert element["type"] == "static_select"
    last = len(model.questions[many].options) - 1
    rig.fake.wait_for("chat.postMessage", is_question, after=rig.answer("U1", message, last))
    assert rig.answers("U1")[-1] == (model.questions[many].id, model.questions[many].options[-1].id)
    assert (
        model.questions[many].options[-1].label.en in fake.message(message.channel, message.ts).text
    )


# ---- one message per turn ----------------------------------------------------------------------
def posts_after(fake: FakeSlack, mark: int) -> list[Call]:
    return [c for c in fake.calls_to("chat.postMessage", after=mark) if c.ok]


def divided(message: Message) -> bool:
    """Whether a divider sets the question off from the text above it in its message."""
    at = [b.get("block_id") for b in message.blocks].index("question")
    return at > 0 and message.blocks[at - 1]["type"] == "divider"


def test_each_turn_is_one_message_and_an_answer_edits_only_its_question(rig, fake, models):
    """A turn's replies (a note, the model's intro, a typed answer's confirmation, the next
    question) arrive as one chat.postMessage; a pressed answer adds one chat.update."""
    model = models["social-strategy"]
    total = len(model.questions)

    def answer_line(number: int) -> str:  # what an answered question reads (option 1 chosen)
        label = option_label(models, "social-strategy", number, 0)
        return f"✓ {model.questions[number - 1].text.en} → {label}"

    mark = rig.command("U1", "start social-strategy")
    first = rig.question("U1", after=mark)
    assert len(posts_after(fake, mark)) == 1
    shown = first.shown()
    assert shown[0].startswith(model.name.en)  # the intro, a divider, then the question
    assert divided(first) and f"*{model.questions[0].text.en}*" in shown
    assert shown[shown.index(f"*{model.questions[0].text.en}*") - 1] == f"Question 1 of {total}"

    # a pressed answer: the question's part becomes the answer, the intro above it stays
    mark = rig.answer("U1", first, 0)
    second = rig.question("U1", after=mark)
    assert len(posts_after(fake, mark)) == 1
    assert len(fake.calls_to("chat.update", after=mark)) == 1
    edited = fake.message(first.channel, first.ts)
    assert edited.shown()[0] == shown[0]
    assert edited.shown()[-1] == answer_line(1)
    assert not any(b["type"] == "actions" for b in edited.blocks)
    assert model.questions[0].text.en in edited.text and edited.text.startswith(first.text[:40])

    # the exit moment: a note between the answer and the next question, still one message
    mark = rig.answer("U1", second, 0)
    third = rig.question("U1", after=mark)
    assert len(posts_after(fake, mark)) == 1
    assert len(fake.calls_to("chat.update", after=mark)) == 1
    assert third.shown()[0].startswith("By your answers, your organisation is not ready")
    assert divided(third)
    assert fake.message(second.channel, second.ts).shown() == [answer_line(2)]

    # a typed answer: its confirmation and the next question, one message, no edit
    mark = fake.mark()
    assert rig.send.dm("U1", "1").status_code == 200
    fourth = rig.question("U1", after=mark)
    assert len(posts_after(fake, mark)) == 1
    assert fake.calls_to("chat.update", after=mark) == []
    typed = fourth.shown()[0]
    assert typed == answer_line(3)
    assert fourth.text.startswith("✓ ") and f"Question 4 of {total}" in fourth.text
    assert divided(fourth)

    # answering that message keeps the typed answer above the new one
    mark = rig.answer("U1", fourth, 0)
    rig.question("U1", after=mark)
    lines = fake.message(fourth.channel, fourth.ts).shown()
    assert lines[0] == typed and lines[-1] == answer_line(4)
    assert len(rig.answers("U1")) == 4


def test_a_turn_too_long_for_one_message_arrives_as_several_in_order(rig, fake):
    """Slack takes at most 50 blocks a message: a longer turn is split there, nowhere else."""
    notes = [Say(f"Note {n}: " + "x" * 2500) for n in range(60)]  # a section each
    ask = Ask("a1", "q1", "Question 1 of 9", "How?", (Choice("Yes", "a:a1:q1:y"),))
    client = make_client(BOT_TOKEN, fake.api_url)
    assert SlackChannel(rig.service).deliver(client, "DU1", [*notes, ask], "en", None)
    posts = fake.calls_to("chat.postMessage")
    assert [len(c.blocks) for c in posts] == [50, 10 + 1 + 4]  # notes, divider, question
    read = [line.split(":")[0] for m in fake.dm_messages("U1") for line in m.shown()]
    assert read[:63] == [*(f"Note {n}" for n in range(60)), "Question 1 of 9", "*How?*", "Yes"]
    assert [c.params["text"][:8] for c in posts] == ["Note 0: ", "Note 50:"]


# ---- navigation ---------------------------------------------------------------------------------
def test_back_and_change_an_answer(rig, fake, models):
    model = models["groeimodel"]
    rig.command("U1", "start groeimodel")
    q1 = rig.question("U1")
    q2 = rig.question("U1", after=rig.answer("U1", q1, 0))
    q3 = rig.question("U1", after=rig.answer("U1", q2, 0))

    again = rig.question("U1", after=rig.nav("U1", q3, "back"))
    assert model.questions[1].text.en in json.dumps(again.blocks, ensure_ascii=False)
    assert f"Question 2 of {len(model.questions)}" in again.text
    settled = fake.message(q3.channel, q3.ts)
    assert not has_actions(settled)  # the left question's buttons are gone
    assert "Back" in json.dumps(settled.blocks)

    mark = rig.answer("U1", again, 3)
    rig.question("U1", after=mark)
    assert dict(rig.answers("U1"))[model.questions[1].id] == model.questions[1].options[3].id
    assert len(rig.answers("U1")) == 2


def test_stop_and_resume_across_a_restart(rig, fake, models):
    model = models["mi-partners"]
    rig.command("U1", "start mi-partners")
    message = rig.question("U1")
    for _ in range(3):
        message = rig.question("U1", after=rig.answer("U1", message, 1))
    mark = rig.nav("U1", message, "stop")
    paused = fake.wait_for("chat.postMessage", lambda c: "Paused" in c.params["text"], after=mark)
    assert "/maturity resume" in paused.params["text"]

    rig.restart()
    mark = rig.command("U1", "resume")
    resumed = rig.question("U1", after=mark)
    assert f"Question 4 of {len(model.questions)}" in resumed.text
    welcome = fake.calls_to("chat.postMessage", after=mark)[0].params["text"]
    assert "Welcome back" in welcome
    rig.question("U1", after=rig.answer("U1", resumed, 2))
    assert [option for _, option in rig.answers("U1")] == [
        model.questions[0].options[1].id,
        model.questions[1].options[1].id,
        model.questions[2].options[1].id,
        model.questions[3].options[2].id,
    ]


def test_a_stale_button_changes_nothing(rig, fake, models):
    model = models["groeimodel"]
    rig.command("U1", "start groeimodel")
    q1 = rig.question("U1")
    old_q1 = copy.deepcopy(q1)  # Slack clients can still show the old buttons for a moment
    q2 = rig.question("U1", after=rig.answer("U1", q1, 0))

    mark = rig.answer("U1", old_q1, 2)
    stale = fake.wait_for(
        "chat.postMessage", lambda c: "earlier question" in c.params["text"], after=mark
    )
    assert stale.params["text"].startswith(":warning:") or "warning" in json.dumps(stale.blocks)
    again = rig.question("U1", after=mark)
    assert f"Question 2 of {len(model.questions)}" in again.text
    assert rig.answers("U1") == [(model.questions[0].id, model.questions[0].options[0].id)]
    assert q2.ts != again.ts


def test_typed_answers_and_help_in_the_dm(rig, fake, models):
    model = models["groeimodel"]
    rig.command("U1", "start groeimodel")
    rig.question("U1")
    mark = rig.fake.mark()
    assert rig.send.dm("U1", "2").status_code == 200
    rig.question("U1", after=mark)
    assert rig.answers("U1") == [(model.questions[0].id, model.questions[0].options[1].id)]
    typed = fake.wait_for("chat.postMessage", lambda c: c.params["text"].startswith("✓"))
    assert model.questions[0].options[1].label.en in typed.params["text"]

    mark = rig.command("U1", "")
    question = rig.question("U1", after=mark)  # help shows the open question again
    texts = "\n".join(c.params["text"] for c in fake.calls_to("chat.postMessage", after=mark))
    assert "/maturity back" in texts and "/maturity forget" in texts
    assert "\n/back" not in texts
    assert f"Question 2 of {len(model.questions)}" in question.text


# ---- Events API retries -----------------------------------------------------------------------
def test_a_retried_event_is_applied_once(rig, fake, models, caplog):
    caplog.set_level(logging.INFO, logger="bot.slack")
    model = models["groeimodel"]
    rig.command("U1", "start groeimodel")
    rig.question("U1")
    mark = fake.mark()
    assert rig.send.dm("U1", "1", event_id="EvRETRY").status_code == 200
    rig.question("U1", after=mark)

    mark = fake.mark()
    assert rig.send.dm("U1", "1", event_id="EvRETRY", retry_num=1).status_code == 200
    deadline = time.monotonic() + 10
    while not any("EvRETRY was handled before" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, "the retry was never seen"
        time.sleep(0.01)
    assert rig.answers("U1") == [(model.questions[0].id, model.questions[0].options[0].id)]
    assert fake.calls_to("chat.postMessage", after=mark) == []


# ---- signatures ---------------------------------------------------------------------------------
def test_bad_signatures_and_old_timestamps_are_refused_and_store_nothing(rig, fake):
    before = fake.mark()
    bad = rig.send.command("start groeimodel", "U1", secret="not-the-secret")
    old = rig.send.command("start groeimodel", "U1", timestamp=int(time.time()) - 6 * 60)
    event = rig.send.dm("U1", "hello", secret="not-the-secret")
    action = rig.send.action(
        "U1",
        {"action_id": "mb:home:groeimodel", "type": "button", "value": "groeimodel"},
        timestamp=int(time.time()) - 301,
    )
    assert [r.status_code for r in (bad, old, event, action)] == [401, 401, 401, 401]
    # a correctly signed request still works, so the refusals were about the signature
    good = rig.command("U2", "start groeimodel")
    rig.question("U2", after=good)
    assert rig.rows("select external_id from users") == [(f"{TEAM_ID}:U2",)]
    assert all("U1" not in json.dumps(c.params) for c in fake.calls[before:])


# ---- App Home -----------------------------------------------------------------------------------
def test_app_home_shows_the_latest_result_start_buttons_and_history(rig, fake, models):
    model = models["groeimodel"]
    mark = fake.mark()
    assert rig.send.home_opened("U1").status_code == 200
    empty = fake.wait_for("views.publish", after=mark)
    assert "Not taken yet" in empty.text_of_blocks()

    rig.command("U1", "start groeimodel")
    mark = fake.mark()
    rig.answer_all("U1", "groeimodel", option=0)
    home = fake.wait_for("views.publish", after=mark)  # refreshed when the result came in
    assert home.params["user_id"] == "U1"
    text = home.text_of_blocks()
    assert f"Latest result: *{model.phases[0].name.en}*" in text
    history_line = t(
        "history_line",
        "en",
        date=rig.rows("select created_at from results")[0][0][:10],
        model=model.name.en,
        phase=model.phases[0].name.en,
    )
    assert history_line in text
    buttons = [
        b["accessory"]
        for b in home.view["blocks"]
        if b.get("accessory", {}).get("type") == "button"
    ]
    assert [b["value"] for b in buttons] == list(models)

    # the Home tab's start button runs the assessment in the DM
    altimeter = next(b for b in buttons if b["value"] == "altimeter")
    mark = fake.mark()
    rig.send.action("U1", {**altimeter, "block_id": "model:altimeter"})
    first = rig.question("U1", after=mark)
    assert f"Question 1 of {len(models['altimeter'].questions)}" in first.text
    assert first.channel == "DU1"


# ---- language -----------------------------------------------------------------------------------
def test_language_from_the_slack_locale_then_changed(rig, fake, models):
    fake.locales["U3"] = "nl-NL"
    model = models["groeimodel"]
    mark = rig.command("U3", "start groeimodel")
    question = rig.question("U3", after=mark)
    assert f"Vraag 1 van {len(model.questions)}" in question.text
    assert model.questions[0].text.nl in json.dumps(question.blocks, ensure_ascii=False)
    assert rig.rows("select lang from users") == [("nl",)]

    mark = rig.command("U3", "lang en")
    fake.wait_for(
        "chat.postMessage", lambda c: "I now speak English" in c.params["text"], after=mark
    )
    assert rig.rows("select lang from users") == [("en",)]
    mark = rig.command("U3", "help")
    fake.wait_for("chat.postMessage", lambda c: "In Slack you type" in c.params["text"], after=mark)
    assert len(fake.calls_to("users.info")) == 1  # only on first contact


# ---- a user's own data --------------------------------------------------------------------------
def test_forget_asks_first_then_erases_everything(rig, fake, models):
    rig.command("U1", "start groeimodel")
    rig.answer_all("U1", "groeimodel", option=0)
    rig.command("U5", "start altimeter")  # someone else, who keeps their data
    rig.question("U5")

    mark = rig.command("U1", "forget")
    confirm = fake.posted(
        fake.wait_for(
            "chat.postMessage", lambda c: "cannot be undone" in c.params["text"], after=mark
        )
    )
    (no,) = [e for e in block(confirm, "forget")["elements"] if e["action_id"] == "mb:forget:no"]
    mark = rig.press("U1", confirm, no)
    fake.wait_for(
        "chat.postMessage", lambda c: "Nothing was deleted" in c.params["text"], after=mark
    )
    assert len(rig.answers("U1")) == len(models["groeimodel"].questions)

    mark = rig.command("U1", "forget")
    confirm = fake.posted(
        fake.wait_for(
            "chat.postMessage", lambda c: "cannot be undone" in c.params["text"], after=mark
        )
    )
    (yes,) = [e for e in block(confirm, "forget")["elements"] if e["action_id"] == "mb:forget:yes"]
    mark = rig.press("U1", confirm, yes)
    fake.wait_for("chat.postMessage", lambda c: "is deleted" in c.params["text"], after=mark)
    home = fake.wait_for("views.publish", after=mark)
    assert "Not taken yet" in home.text_of_blocks()
    assert not has_actions(fake.message(confirm.channel, confirm.ts))
    users = [row[0] for row in rig.rows("select external_id from users")]
    assert users == [f"{TEAM_ID}:U5"]
    assert rig.answers("U1") == []
    assert rig.rows("select count(*) from results") == [(0,)]
    assert rig.rows("select count(*) from assessments") == [(1,)]  # U5's


def test_export_uploads_the_users_data_as_json(rig, fake, models):
    mark = rig.command("U1", "export")
    fake.wait_for("chat.postMessage", lambda c: "Nothing is stored" in c.params["text"], after=mark)
    rig.command("U1", "start groeimodel")
    rig.answer("U1", rig.question("U1"), 2)
    mark = rig.command("U1", "export")
    fake.wait_for("files.completeUploadExternal", after=mark)
    [upload] = fake.files
    data = json.loads(upload["content"])
    assert upload["channel_id"] == "DU1"
    [assessment] = data["assessments"]
    assert assessment["answers"][0]["answer"] == option_label(models, "groeimodel", 1, 2)


def test_a_command_outside_the_dm_points_to_the_dm(rig, fake):
    mark = rig.command("U1", "start groeimodel", channel="C0GENERAL")
    rig.question("U1", after=mark)
    notice = fake.wait_for("/response/U1", after=mark)
    assert "direct message" in notice.params["text"]


# ---- failures -----------------------------------------------------------------------------------
def test_a_rate_limited_send_is_retried_after_retry_after(rig, fake, models):
    fake.fail("chat.postMessage", 429, retry_after=0)
    mark = rig.command("U1", "start groeimodel")
    question = rig.question("U1", after=mark)
    posts = fake.calls_to("chat.postMessage", after=mark)
    assert posts[0].status == 429
    assert posts[1].params["text"] == posts[0].params["text"]  # the same message, sent again
    assert posts[1].response["ts"] == question.ts and len(posts) == 2
    assert f"Question 1 of {len(models['groeimodel'].questions)}" in question.text


def test_a_failed_send_never_loses_the_stored_answer(rig, fake, models):
    model = models["groeimodel"]
    rig.command("U1", "start groeimodel")
    q1 = rig.question("U1")
    fake.fail("chat.postMessage", 500)
    mark = rig.answer("U1", q1, 1)
    fake.wait_for("chat.update", after=mark)
    deadline = time.monotonic() + 10
    while not [c for c in fake.calls_to("chat.postMessage", after=mark) if c.status == 500]:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert rig.answers("U1") == [(model.questions[0].id, model.questions[0].options[1].id)]

    mark = rig.command("U1", "resume")
    question = rig.question("U1", after=mark)
    assert f"Question 2 of {len(model.questions)}" in question.text


# ---- acknowledging first ------------------------------------------------------------------------
def test_commands_and_presses_are_acknowledged_before_any_slack_call_returns(rig, fake):
    gate = fake.hold("conversations.open")  # the first Web API call of a slash command
    try:
        response = rig.send.command("start groeimodel", "U1")
        assert response.status_code == 200 and response.text == ""
        assert fake.calls_to("chat.postMessage") == []  # the work had to wait for Slack
        assert rig.rows("select count(*) from users") == [(0,)]
    finally:
        gate.set()
    question = rig.question("U1")

    gate = fake.hold("chat.update")  # the first Web API call after an answer is stored
    try:
        mark = rig.answer("U1", question, 0)
        assert fake.calls_to("chat.postMessage", after=mark) == []
    finally:
        gate.set()
    rig.question("U1", after=mark)


def test_menu_intro_and_begin_by_buttons(rig, fake, models):
    mark = rig.command("U1", "start")
    menu_call = fake.wait_for(
        "chat.postMessage", lambda c: "choices" in json.dumps(c.blocks), after=mark
    )
    menu = fake.posted(menu_call)
    [choices] = [b for b in menu.blocks if b.get("block_id") == "choices"]
    first = choices["elements"][0]
    mark = rig.press("U1", menu, first, option=0)
    model = next(iter(models.values()))
    intro = fake.posted(
        fake.wait_for("chat.postMessage", lambda c: "choices" in json.dumps(c.blocks), after=mark)
    )
    assert not has_actions(fake.message(menu.channel, menu.ts))  # the menu is settled
    start = block(intro, "choices")["elements"][0]
    assert start["value"] == "c:begin"
    question = rig.question("U1", after=rig.press("U1", intro, start))
    assert f"Question 1 of {len(model.questions)}" in question.text
    assert "→ Start" in json.dumps(fake.message(intro.channel, intro.ts).blocks, ensure_ascii=False)


def test_url_verification_echoes_the_challenge(rig):
    body = json.dumps({"token": "x", "challenge": "c-123", "type": "url_verification"})
    response = rig.send.post(body, "application/json")
    assert response.status_code == 200 and response.json()["challenge"] == "c-123"
