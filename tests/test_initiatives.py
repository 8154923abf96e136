"""The Groundswell initiatives matrix: stored, listed, removed, drawn, gaps flagged."""

from __future__ import annotations

import pytest

from bot.charts import matrix_png
from flows.initiatives import InitiativeInputError, build_matrix, parse_new
from flows.replies import Say
from tests.helpers import Chat


def test_initiatives_round_trip_through_storage(service):
    chat = Chat(service, lang="en")
    chat.type("/initiatives add Webcare; X; supporting; customer satisfaction")
    chat.type("/initiatives add Listening post; Brandwatch; 1")
    chat.type("/initiatieven add Vlog; YouTube; praten; Recruitment")
    chat.type("/initiatives list")
    text = chat.texts()
    assert "1. Webcare (X): Supporting → customer satisfaction" in text
    assert "2. Listening post (Brandwatch): Listening → (no goal)" in text
    rows = service.storage.db.execute(
        "select name, channel_name, objective, goal from initiatives order by id"
    ).fetchall()
    assert rows == [
        ("Webcare", "X", "supporting", "customer satisfaction"),
        ("Listening post", "Brandwatch", "listening", None),
        ("Vlog", "YouTube", "talking", "Recruitment"),
    ]
    chat.type("/initiatives remove 2")
    assert "Removed: Listening post" in chat.texts()
    names = [r[0] for r in service.storage.db.execute("select name from initiatives")]
    assert names == ["Webcare", "Vlog"]


def test_matrix_flags_missing_goal_and_empty_objectives_and_draws(service):
    chat = Chat(service, lang="nl")
    chat.type("/initiatives add Webcare; X; ondersteunen; klanttevredenheid")
    chat.type("/initiatives add Monitor; Brandwatch; luisteren")
    chat.type("/initiatives matrix")
    matrix = next(r for r in chat.replies if isinstance(r, Say) and r.chart)
    assert "Zonder organisatiedoel: Monitor" in matrix.text
    assert "Doelstellingen waar niemand aan werkt: Praten, Activeren, Omarmen" in matrix.text
    assert matrix.chart.columns == ("klanttevredenheid", "(geen doel)")
    assert matrix.chart.cells[0] == ((), ("Monitor",))
    assert matrix_png(matrix.chart).startswith(b"\x89PNG")


def test_bad_input_is_explained_and_stores_nothing(service):
    chat = Chat(service)
    for line in [
        "/initiatives add onlyname",
        "/initiatives add a; b; shouting; goal",
        "/initiatives remove 1",
        "/initiatives add ; ; ;",
    ]:
        chat.type(line)
        assert chat.errors, line
    assert service.storage.db.execute("select count(*) from initiatives").fetchone()[0] == 0


def test_initiatives_during_an_assessment_keep_the_question(service, models):
    chat = Chat(service)
    chat.start("groeimodel")
    chat.type("/initiatives list")
    assert chat.question.question_id == models["groeimodel"].questions[0].id


def test_parser_and_matrix_units():
    new = parse_new(" A ; B ; energizing ; ")
    assert (new.name, new.channel, new.objective, new.goal) == ("A", "B", "energizing", None)
    with pytest.raises(InitiativeInputError):
        parse_new("a; b")
    assert build_matrix(()).empty_objectives[0] == "listening"
