"""A turn's replies as Slack messages (bot/slack/compose.py): pure functions, real replies from
the service and hand-made ones in, Block Kit out. As few messages as Slack allows, in order,
within Slack's limits, with the buttons last; an answered question keeps what came before it."""

from __future__ import annotations

import pytest

from bot.slack.compose import answered_update, turn_messages
from bot.slack.render import answered_message, escape
from flows.model_schema import LANGUAGES
from flows.replies import Answered, Ask, Choice, MatrixChart, Say
from tests.helpers import Chat
from tests.test_slack_blocks import check_limits, elements, shown


def question(number: int = 1, choices: int = 2) -> Ask:
    options = tuple(Choice(f"Option {i}", f"a:a1:q{number}:o{i}") for i in range(choices))
    return Ask("a1", f"q{number}", f"Question {number} of 9", f"How is it {number}?", options)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_first_turn_of_every_model_is_one_message_within_slacks_limits(service, models, lang):
    for model_id in models:
        chat = Chat(service, user=f"first-{lang}", lang=lang)
        replies = chat.start(model_id)
        [message] = turn_messages(replies, lang)  # the intro and the first question
        check_limits(list(message.blocks))
        assert shown(message).startswith(models[model_id].name.get(lang))
        assert elements(message, "answers") and elements(message, "nav")
        assert message.text.startswith(escape(models[model_id].name.get(lang)))


def test_texts_and_the_question_after_them_share_one_message_set_off_by_a_divider():
    replies = [Say("We go on <now>."), Answered("a1", "q0", "Before? → Yes"), question()]
    [message] = turn_messages(replies, "en")
    check_limits(list(message.blocks))
    types = [b["type"] for b in message.blocks]
    assert types[:3] == ["section", "section", "divider"] and types[-1] == "actions"
    lines = shown(message).split("\n")
    assert lines[:3] == ["We go on <now>.", "✓ Before? → Yes", "Question 1 of 9"]
    # the notification reads every part, in order, escaped once
    assert message.text.startswith("We go on &lt;now&gt;.\n\n✓ Before? → Yes\n\nQuestion 1 of 9")
    assert "&amp;lt;" not in message.text


def test_buttons_end_a_message_and_a_chart_is_uploaded_after_its_message():
    chart = MatrixChart("Matrix", ("r",), ("c",), ((("x",),),), "m1")
    menu = Say("Pick one", (Choice("A", "m:a"), Choice("B", "m:b")))
    sent = turn_messages(
        [Say("Matrix text", chart=chart), Say("Intro"), menu, Say("After"), question()], "en"
    )
    assert [type(item).__name__ for item in sent] == [
        "SlackMessage",
        "MatrixChart",
        "SlackMessage",
        "SlackMessage",
    ]
    assert shown(sent[0]) == "Matrix text" and sent[1] == chart
    assert shown(sent[2]).startswith("Intro\nPick one") and elements(sent[2], "choices")
    assert shown(sent[3]).startswith("After\nQuestion 1 of 9")
    for message in (sent[0], sent[2], sent[3]):  # unique action ids, buttons at the bottom
        check_limits(list(message.blocks))
        assert all(b["type"] != "actions" for b in message.blocks[:-2])


def test_a_turn_of_more_than_fifty_blocks_is_split_in_order():
    notes = [Say(f"Note {n}: " + "x" * 2500) for n in range(60)]  # one section each
    sent = turn_messages([*notes, question()], "en")
    assert len(sent) == 2
    for message in sent:
        check_limits(list(message.blocks))
    assert len(sent[0].blocks) == 50 and sent[0].text.startswith("Note 0: ")
    assert sent[1].text.startswith("Note 50: ")
    read = [line.split(":")[0] for m in sent for line in shown(m).split("\n")]
    assert read[:60] == [f"Note {n}" for n in range(60)]
    assert read[60] == "Question 1 of 9" and elements(sent[1], "answers")

    # a question that no longer fits after the notes starts its own message
    sent = turn_messages([*notes[:49], question()], "en")
    assert [len(m.blocks) for m in sent] == [49, 4]
    assert shown(sent[1]).startswith("Question 1 of 9")


def test_an_answered_question_keeps_what_came_before_it_in_its_message():
    [message] = turn_messages([Say("Pulse for #team: 6 questions"), question()], "en")
    answered = Answered("a1", "q1", "How is it 1? → Option 0 & more")
    edited = answered_update(message.blocks, answered)
    assert not [b for b in edited.blocks if b["type"] == "actions"]
    assert shown(edited).split("\n") == [
        "Pulse for #team: 6 questions",
        "✓ How is it 1? → Option 0 & more",
    ]
    assert edited.text == "Pulse for #team: 6 questions\n\n✓ How is it 1? → Option 0 &amp; more"
    # a long text before the question is what gets cut from the notification, not the answer
    [long] = turn_messages([Say("x" * 2990), question()], "en")
    edited = answered_update(long.blocks, answered)
    assert edited.text.endswith("…\n\n✓ How is it 1? → Option 0 &amp; more")
    assert shown(edited).startswith("x" * 2990)  # the message itself keeps all of it
    # a question alone in its message becomes only its answer, as before
    alone = turn_messages([question()], "en")[0]
    assert answered_update(alone.blocks, answered) == answered_message(answered)
