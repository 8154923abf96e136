"""Random input never crashes the bot and never stores an answer that was not a valid choice."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.service import AssessmentService
from bot.storage import Storage
from flows.events import from_payload, from_text
from flows.text import clean_text
from tests.helpers import Chat, stored_answers

junk_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "/",
            "//",
            "/back now",
            "/lang",
            "/lang de",
            "/start nope",
            "0",
            "-3",
            "999",
            "1e3",
            "١",
            "²",
            "/restart",
            "/skip",
            "/review",
            "/stop",
            "/resume",
        ]
    ),
    st.text(alphabet="/abcdefghijklmnopqrstuvwxyz ", max_size=12).map(lambda s: "/" + s),
)
junk_payload = st.one_of(
    st.text(max_size=70),
    st.builds(
        lambda a, q, o: f"a:{a}:{q}:{o}",
        st.text(max_size=14),
        st.text(max_size=10),
        st.text(max_size=5),
    ),
    st.builds(lambda m: f"m:{m}", st.text(max_size=10)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs=st.lists(st.tuples(st.booleans(), junk_text, junk_payload), max_size=12))
def test_junk_never_crashes_and_never_stores_an_invalid_answer(models, inputs):
    storage = Storage(":memory:")
    service = AssessmentService(storage, models)
    chat = Chat(service)
    chat.start("altimeter")
    model = models["altimeter"]
    for is_text, text, payload in inputs:
        replies = chat.type(text) if is_text else chat.press(payload)
        assert replies
    for _, question_id, option_id in stored_answers(storage):
        question = model.question(question_id) or next(
            q for m in models.values() for q in m.questions if q.id == question_id
        )
        assert option_id is None or option_id in {o.id for o in question.options}


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(max_size=30).filter(lambda s: not (s.strip().isascii() and s.strip().isdigit()))
)
def test_non_numeric_junk_in_a_question_stores_nothing(models, text):
    storage = Storage(":memory:")
    chat = Chat(AssessmentService(storage, models))
    chat.start("groeimodel")
    question = models["groeimodel"].questions[0]
    labels = {o.label.get(lang).lower() for o in question.options for lang in ("nl", "en")}
    typed = clean_text(text)  # what the bot reads: escapes and control characters removed
    cleaned = typed.strip().rstrip(".").strip().lower()
    if (
        (typed.strip().isascii() and typed.strip().isdigit())
        or typed.strip().startswith("/")
        or (len(cleaned) >= 3 and any(label.startswith(cleaned) for label in labels))
        or cleaned in labels
    ):
        return
    chat.type(text)
    assert stored_answers(storage) == []


def test_payload_parser_refuses_damaged_payloads():
    for payload in ["", "a:", "a:1:2", "x:1", "c:nonsense", "m:", "e:1"]:
        assert from_payload(payload).kind.value == "stale"
    assert from_text("/START@SomeBot groeimodel").value == "groeimodel"
