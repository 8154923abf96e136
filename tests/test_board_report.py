"""The board report (flows/report.py): every phase of every shipped model gives a report with all
its sections filled in, in both languages; the roadmap is in priority order, weakest first; the
initiatives show the goals they serve; a team's trend never shows a round below K."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.initiatives import Initiative
from flows.model_loader import load_models
from flows.model_schema import COMPLETE, MaturityModel
from flows.pulse import RoundReport
from flows.report import SECTIONS, BoardReport, TeamInput, build_report
from flows.results import PastResult, StoredResult, stored_result
from flows.scoring import score
from flows.text import one_line

MODELS = load_models()
LANGS = ("nl", "en")
START = date(2026, 12, 1)


def answers_at(model: MaturityModel, level_of) -> dict[str, str]:
    """Each question answered with its first option at the level `level_of(question)` gives (or
    the highest option below it, where a question has none at that level)."""
    answers = {}
    for question in model.questions:
        wanted = level_of(question)
        fitting = [o for o in question.options if model.phase_index(o.phase) <= wanted]
        at = [o for o in fitting if model.phase_index(o.phase) == wanted]
        answers[question.id] = (at[0] if at else fitting[-1]).id
    return answers


def step_answers(model: MaturityModel, first_open: int) -> dict[str, str]:
    """Steps before `first_open` done, the rest not (len(phases): all done)."""
    answers = {}
    for question in model.questions:
        done = model.phase_index(question.step) < first_open
        answers[question.id] = next(o for o in question.options if o.done is done).id
    return answers


def result_for(model: MaturityModel, answers: dict[str, str]) -> PastResult:
    result = stored_result(model, score(model, answers), answers)
    return PastResult("a" + model.id[:11], model.id, "2026-11-30T09:00:00", result)


def every_phase():
    """(case name, past result) for every phase of every model, and for each BMM pillar
    lagging alone behind the others."""
    for model in MODELS.values():
        count = len(model.phases)
        if model.kind == "steps":
            for first_open in range(count + 1):
                yield f"{model.id}-{first_open}", result_for(model, step_answers(model, first_open))
            continue
        for level in range(count):
            yield f"{model.id}-{level}", result_for(model, answers_at(model, lambda q, i=level: i))
        for pillar in model.pillars:
            for level in range(count - 1):
                answers = answers_at(
                    model, lambda q, p=pillar.id, i=level, t=count - 1: i if q.pillar == p else t
                )
                yield f"{model.id}-{pillar.id}-{level}", result_for(model, answers)


CASES = list(every_phase())


def all_texts(report: BoardReport) -> list[str]:
    texts = [report.title, report.subtitle, *report.summary]
    texts += [report.headings[key] for key in report.sections]
    texts += [report.intros[key] for key in report.sections]
    for standing in report.standing:
        texts += [standing.model, standing.phase, standing.position, *standing.why]
    for constraint in report.holding_back:
        texts += [constraint.header, *constraint.lines]
    for quarter in report.roadmap:
        texts += [quarter.label, quarter.period]
        for item in quarter.items:
            texts += [item.action, item.source, *item.steps]
    for row in report.initiatives:
        texts += [row.name, row.channel, row.objective, row.goal]
    texts += report.initiative_notes
    if report.team:
        texts += [*report.team.lines, report.team.chart_title, report.team.chart_text]
    return texts


def assert_complete(report: BoardReport) -> None:
    """Every section there and said in words; no text empty or with a placeholder left."""
    assert report.sections[: len(SECTIONS)] == SECTIONS
    assert report.standing and report.holding_back and report.roadmap
    assert all(c.lines for c in report.holding_back)
    assert all(q.items for q in report.roadmap)
    for text in all_texts(report):
        assert text.strip(), report
        assert "{" not in text and "}" not in text, text


@pytest.mark.parametrize("name,past", CASES, ids=[name for name, _ in CASES])
def test_every_phase_of_every_model_gives_a_whole_report_in_both_languages(name, past):
    reports = {
        lang: build_report([past], MODELS, [], lang, START, organisation="Bakkerij Jansen")
        for lang in LANGS
    }
    for report in reports.values():
        assert_complete(report)
        assert len(report.roadmap) <= 4
        numbers = [item.priority for q in report.roadmap for item in q.items]
        assert numbers == list(range(1, len(numbers) + 1))
    model = MODELS[past.model_id]
    phase = past.result.phase_id
    for lang, report in reports.items():
        expected = (
            model.phases[model.phase_index(phase)].name.get(lang) if phase != COMPLETE else None
        )
        if expected:
            assert report.standing[0].phase == expected
    nl, en = reports["nl"], reports["en"]
    assert nl.headings != en.headings and nl.summary != en.summary


def test_no_results_still_says_something_in_every_section():
    for lang in LANGS:
        report = build_report([], MODELS, [], lang, START)
        assert not report.standing and not report.roadmap
        for key in report.sections:
            assert report.intros[key].strip()
        assert report.summary and all(line.strip() for line in report.summary)


def bmm_uneven() -> PastResult:
    """BMM with its pillars at levels 1, 1, 2, 3, 4 (in pillar order)."""
    model = MODELS["bmm"]
    level = {p.id: min(i, 3) for i, p in enumerate(model.pillars)}
    level[model.pillars[1].id] = 0
    return result_for(model, answers_at(model, lambda q: level[q.pillar]))


def test_roadmap_starts_with_the_weakest_pillars_and_keeps_priority_order():
    model = MODELS["bmm"]
    past = bmm_uneven()
    report = build_report([past], MODELS, [], "en", START)
    items = [item for quarter in report.roadmap for item in quarter.items]
    names = {p.id: p.name.get("en") for p in model.pillars}
    levels = {names[p]: model.phase_index(lvl) for p, lvl in past.result.pillar_levels.items()}

    def pillar_level(item) -> int:
        return next(level for name, level in levels.items() if f", {name}," in item.source)

    order = [pillar_level(item) for item in items]
    assert order == sorted(order), order
    assert order[0] == 0 and order[-1] < len(model.phases) - 1  # the top pillar has no actions
    assert [q.label for q in report.roadmap] == [f"Quarter {n}" for n in range(1, 5)]
    assert report.roadmap[0].period == "December 2026 to February 2027"
    sizes = [len(q.items) for q in report.roadmap]
    assert sizes == sorted(sizes, reverse=True)
    assert report.summary[2].endswith(items[0].action)


def test_a_less_mature_model_comes_before_a_more_mature_one():
    early = result_for(MODELS["groeimodel"], answers_at(MODELS["groeimodel"], lambda q: 2))
    late = result_for(MODELS["altimeter"], answers_at(MODELS["altimeter"], lambda q: 0))
    report = build_report([early, late], MODELS, [], "nl", START)
    sources = [item.source for quarter in report.roadmap for item in quarter.items]
    altimeter = MODELS["altimeter"].name.get("nl")
    first_groei = next(i for i, s in enumerate(sources) if not s.startswith(altimeter))
    assert all(s.startswith(altimeter) for s in sources[:first_groei])
    assert all(not s.startswith(altimeter) for s in sources[first_groei:])


def test_implementation_steps_already_done_are_left_out():
    altimeter = MODELS["altimeter"]
    planning = result_for(altimeter, answers_at(altimeter, lambda q: 0))
    post = MODELS["post"]
    name = post.name.get("en")
    before = build_report([planning], MODELS, [], "en", START)
    steps = [s for q in before.roadmap for item in q.items for s in item.steps]
    assert any(s.startswith(name) and "People" in s for s in steps)
    post_done = result_for(post, step_answers(post, len(post.phases)))
    after = build_report([planning, post_done], MODELS, [], "en", START)
    steps = [s for q in after.roadmap for item in q.items for s in item.steps]
    assert not any(s.startswith(name) for s in steps)


def test_initiatives_are_grouped_by_the_goal_they_serve_and_gaps_are_named():
    initiatives = [
        Initiative(1, "Webcare", "X", "supporting", "Klanttevredenheid"),
        Initiative(2, "Blog", "website", "talking", None),
        Initiative(3, "Klantpanel", "LinkedIn", "embracing", "klanttevredenheid"),
    ]
    past = result_for(MODELS["groeimodel"], answers_at(MODELS["groeimodel"], lambda q: 1))
    report = build_report([past], MODELS, initiatives, "nl", START)
    assert [(r.name, r.goal) for r in report.initiatives] == [
        ("Webcare", "Klanttevredenheid"),
        ("Klantpanel", "Klanttevredenheid"),
        ("Blog", "geen doel"),
    ]
    assert report.initiatives[0].objective == "Ondersteunen"
    assert any("Blog" in note for note in report.initiative_notes)
    assert any("Luisteren" in note for note in report.initiative_notes)
    assert any("(3)" in line for line in report.summary)


def test_a_team_trend_shows_reported_rounds_and_only_counts_below_k():
    model = MODELS["altimeter"]
    rounds = [
        ("2026-09-01T09:00:00", RoundReport(8, 6, 5, False, median_index=0)),
        ("2026-10-01T09:00:00", RoundReport(8, 2, 5, True)),
        ("2026-11-01T09:00:00", RoundReport(8, 7, 5, False, median_index=2)),
    ]
    past = result_for(model, answers_at(model, lambda q: 1))
    team = TeamInput("Marketing", "altimeter", rounds)
    for lang in LANGS:
        report = build_report([past], MODELS, [], lang, START, team=team)
        assert_complete(report)
        assert report.sections[-1] == "team"
        assert report.team.trend == (("2026-09-01", 0), ("2026-11-01", 2))
        withheld = report.team.lines[1]
        assert "2026-10-01" in withheld
        assert not any(p.name.get(lang) in withheld for p in model.phases)
        assert model.phases[2].name.get(lang) in report.team.chart_text


def test_a_quick_scan_places_the_models_it_has_no_full_result_for():
    own = result_for(MODELS["groeimodel"], answers_at(MODELS["groeimodel"], lambda q: 1))
    scan = PastResult(
        "scan1",
        "scan",
        "2026-11-29T09:00:00",
        StoredResult(
            "scan",
            ("scan", "scan"),
            5,
            0,
            (),
            placements={"groeimodel": "unconscious-incompetent", "altimeter": "presence"},
        ),
    )
    assert any(p.id == "presence" for p in MODELS["altimeter"].phases)  # the data this test uses
    report = build_report([own, scan], MODELS, [], "en", START)
    by_model = {s.model_id: s for s in report.standing}
    assert set(by_model) == {"groeimodel", "altimeter"}
    assert by_model["groeimodel"].phase == MODELS["groeimodel"].phases[1].name.get("en")
    assert "quick scan" in by_model["altimeter"].why[0]


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    model_ids=st.lists(st.sampled_from(sorted(MODELS)), min_size=1, max_size=4, unique=True),
    lang=st.sampled_from(LANGS),
    names=st.lists(
        st.text(st.characters(blacklist_characters="{}"), min_size=1, max_size=20), max_size=4
    ),
)
def test_any_answers_give_a_whole_report_in_priority_order(data, model_ids, lang, names):
    results = []
    for model_id in model_ids:
        model = MODELS[model_id]
        answers = {
            q.id: data.draw(st.sampled_from([o.id for o in q.options])) for q in model.questions
        }
        results.append(result_for(model, answers))
    initiatives = [
        Initiative(i, one_line(n) or "x", "X", "talking", None) for i, n in enumerate(names)
    ]
    report = build_report(results, MODELS, initiatives, lang, START)
    assert_complete(report)
    items = [item for quarter in report.roadmap for item in quarter.items]
    assert [i.priority for i in items] == list(range(1, len(items) + 1))
    assert len(report.standing) == len(model_ids)
