"""The dashboard's pages in a real browser (Chromium through Playwright, tests/web_rig.py), over
data made by the real services: assessments answered through AssessmentService, pulse rounds
run by PulseService on a controlled clock. What a viewer sees, what they may not open, what the
exports hold, and axe-core's check on every page; screenshots are saved for review."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.pulse.service import PulseService, PulseSettings
from bot.service import AssessmentService
from bot.storage import Storage
from bot.storage.dashboard import DashboardStore
from bot.web.pages.my_results import result_rows
from flows.events import from_payload
from flows.model_loader import load_models
from flows.replies import Ask
from tests.helpers import Chat
from tests.web_rig import (
    browser,  # noqa: F401 - the session's Chromium (a fixture)
    check_accessibility,
    save_screenshot,
    serve_web,
    signed_in_page,
)

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday
MEMBER = "T1:UA"
TEAM_A = [MEMBER, *(f"T1:UA{i}" for i in range(2, 7))]  # groeimodel, three rounds
TEAM_B = [f"T1:UB{i}" for i in range(1, 6)]  # bmm, every member answers
TEAM_C = [f"T1:UC{i}" for i in range(1, 6)]  # bmm, too few answers


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Messenger:
    """Slack-like teams for the pulse core (one tick serves every team of the platform): each
    team's members and lead (its admin); the DMs are recorded."""

    channel = "slack"

    def __init__(self) -> None:
        self.teams: dict[str, list[str]] = {}
        self.leads: dict[str, str] = {}
        self.dms: dict[str, list] = {}

    async def members(self, team):
        return list(self.teams[team])

    async def is_admin(self, team, user, creator):
        return user == self.leads.get(team)

    async def send_dm(self, member, replies):
        self.dms.setdefault(member, []).append(list(replies))

    async def post_team(self, team, text, chart_png):
        pass


def run(coroutine) -> object:
    """Run a pulse coroutine to its end on a loop of its own (Playwright's sync API keeps one
    running in this thread)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def answer_pulse(service: AssessmentService, messenger: Messenger, member: str, choice: int):
    """The member presses an answer button on each question of their pulse DM."""
    replies = messenger.dms[member][-1]
    while (ask := next((r for r in reversed(replies) if isinstance(r, Ask)), None)) is not None:
        pressed = ask.choices[min(choice, len(ask.choices) - 1)]
        replies = service.handle(messenger.channel, member, from_payload(pressed.payload))
        replies = replies.replies


def run_round(pulse, service, clock, messenger, team: str, answering: list[tuple[str, int]]):
    """Open the team's next round (its due time), let `answering` answer, close it."""
    row = pulse.store.pulse(messenger.channel, team)
    clock.now = datetime.fromisoformat(row.next_run_at) + timedelta(seconds=30)
    run(pulse.tick(messenger))
    for member, choice in answering:
        assert member in messenger.dms, member
        answer_pulse(service, messenger, member, choice)
    clock.now += timedelta(hours=49)
    run(pulse.tick(messenger))


def assess(service: AssessmentService, user: str, model_id: str, choices) -> None:
    """A whole assessment in the chat: answer i is option `choices(i)` of its question."""
    chat = Chat(service, user=user, channel="slack")
    chat.start(model_id)
    number = 0
    while chat.question is not None:
        options = chat.question.choices
        chat.press(options[min(choices(number), len(options) - 1)].payload)
        number += 1
    assert chat.result is not None


@pytest.fixture(scope="module")
def world(tmp_path_factory, models, scan):
    """Alice (T1:UA) took two Groeimodel and two BMM assessments; team A ran three rounds
    (the second withheld), teams B and C one BMM round each (C withheld)."""
    storage = Storage(tmp_path_factory.mktemp("pages") / "bot.db")
    service = AssessmentService(storage, models, scan=scan)
    assess(service, MEMBER, "groeimodel", lambda i: 0)
    assess(service, MEMBER, "bmm", lambda i: i % 2)
    assess(service, MEMBER, "groeimodel", lambda i: 99)
    assess(service, MEMBER, "bmm", lambda i: 1 + i % 3)
    clock = Clock(T0)
    pulse = PulseService(service, PulseSettings(min_responses=5), clock=clock)
    teams = Messenger()

    def start(team: str, name: str, model: str, members: list[str]) -> None:
        teams.teams[team], teams.leads[team] = members, f"T1:LEAD{team}"
        words = ["start", model, "weekly", "tue", "10:00"]
        run(pulse.command(teams, team, name, teams.leads[team], words, "en"))

    start("C_A", "Team A", "groeimodel", TEAM_A)
    run_round(pulse, service, clock, teams, "C_A", [(m, 1) for m in TEAM_A[:5]])
    run_round(pulse, service, clock, teams, "C_A", [(m, 1) for m in TEAM_A[:3]])
    run_round(pulse, service, clock, teams, "C_A", [(m, 99) for m in TEAM_A])
    run(pulse.command(teams, "C_A", "Team A", teams.leads["C_A"], ["stop"], "en"))
    start("C_B", "Team B", "bmm", TEAM_B)
    start("C_C", "Team C <i>&amp; $x$", "bmm", TEAM_C)
    answering = [(m, i % 3) for i, m in enumerate(TEAM_B)] + [(m, 1) for m in TEAM_C[:2]]
    run_round(pulse, service, clock, teams, "C_B", answering)  # C's round runs alongside
    ids = {
        row[0]: row[1] for row in storage.db.execute("select external_id, id from teams").fetchall()
    }
    yield storage, models, ids
    storage.close()


def rows_of(page, table_caption: str) -> list[list[str]]:
    table = page.locator("table", has=page.locator("caption", has_text=table_caption))
    return [
        [cell.inner_text().strip() for cell in row.locator("th, td").all()]
        for row in table.locator("tbody tr").all()
    ]


def download(page, path: str) -> tuple[int, str]:
    """GET `path` on the page's server with the page's session (as a download link does)."""
    origin = re.match(r"https?://[^/]+", page.url).group(0)
    response = page.request.get(origin + path)
    return response.status, response.text()


def test_my_results_show_each_assessment_and_the_change(browser, world, models):  # noqa: F811
    storage, models, _ = world
    groei, bmm = models["groeimodel"], models["bmm"]
    with serve_web(storage, models) as web:
        page = signed_in_page(browser, web.base_url, storage, external_id=MEMBER)
        assert page.locator("h1").inner_text() == "My results"
        rows = rows_of(page, "Your assessments")
        assert [row[0] for row in rows] == [bmm.name.en, groei.name.en, bmm.name.en, groei.name.en]
        newest_groei = rows[1]
        assert newest_groei[2] == groei.phases[-1].name.en
        assert newest_groei[3].startswith(f"{len(groei.phases) - 1} phases higher than on")
        assert groei.phases[0].name.en in newest_groei[3]
        assert rows[3][3] == "first assessment of this model"
        radars = page.locator("figure svg[role=img]")
        assert radars.count() == 2  # one per BMM assessment
        label = radars.first.get_attribute("aria-labelledby")
        assert page.locator(f"#{label}").inner_text().startswith("Radar chart of your level")
        assert "Last time" in page.locator("section.result").first.inner_text()
        check_accessibility(page)
        save_screenshot(page, "my-results")

        status, text = download(page, "/export.json")
        exported = json.loads(text)
        assert status == 200
        assert [(r["model"], r["phase"], r["date"]) for r in exported] == [
            (row[0], row[2], row[1]) for row in rows
        ]
        assert exported[1]["change"] == len(groei.phases) - 1 and exported[3]["change"] is None
        status, text = download(page, "/export.csv")
        lines = list(csv.reader(io.StringIO(text)))
        assert lines[0][:3] == ["assessment", "date", "model_id"]
        assert [line[5] for line in lines[1:]] == [row[2] for row in rows]
        page.context.close()

        page = signed_in_page(browser, web.base_url, storage, external_id=MEMBER, lang="nl")
        assert page.locator("h1").inner_text() == "Mijn resultaten"
        steps = len(groei.phases) - 1
        assert f"{steps} fasen hoger dan op" in page.locator("table").first.inner_text()
        check_accessibility(page)
        save_screenshot(page, "my-results-nl")
        page.context.close()


def test_the_team_page_shows_the_trend_and_withholds_a_round_under_k(browser, world):  # noqa: F811
    storage, models, ids = world
    groei = models["groeimodel"]
    phase_names = [p.name.en for p in groei.phases]
    with serve_web(storage, models) as web:
        page = signed_in_page(browser, web.base_url, storage, external_id=MEMBER)
        page.goto(web.base_url + "/teams")
        assert [r[0] for r in rows_of(page, "Your teams")] == ["Team A"]
        check_accessibility(page)
        page.get_by_role("link", name="Team A").click()
        assert page.locator("h1").inner_text() == "Team A"
        trend = page.locator("svg[role=img][aria-labelledby=trend]")
        assert trend.count() == 1
        assert "over 3 rounds" in page.locator("#trend").inner_text()
        rounds = rows_of(page, "The pulse's rounds")
        assert len(rounds) == 3
        newest, withheld, oldest = rounds
        assert withheld[1] == "3 of 6" and withheld[2] == "50%"
        assert withheld[3] == "withheld: fewer than 5 answers" and withheld[4] == ""
        assert not any(name in " ".join(withheld) for name in phase_names)
        assert oldest[1] == "5 of 6" and oldest[3] == phase_names[1]
        assert newest[1] == "6 of 6" and newest[3] == phase_names[-1]
        assert page.locator("text=Results are shown only from 5 answers").count() == 1
        assert page.locator("#actions-heading").count() == 1
        report = page.get_by_role("link", name="Board report with this team's trend")
        assert report.get_attribute("href") == f"/report?team={ids['C_A']}"
        check_accessibility(page)
        save_screenshot(page, "team")

        team_a = ids["C_A"]
        status, text = download(page, f"/teams/{team_a}/export.json")
        exported = json.loads(text)
        assert status == 200 and len(exported) == 3
        assert exported[1]["withheld"] and exported[1]["median_index"] is None
        assert exported[1]["distribution"] == [] and exported[1]["pillar_averages"] == []
        status, text = download(page, f"/teams/{team_a}/export.csv")
        lines = list(csv.reader(io.StringIO(text)))
        shown = [r[3] if r is not withheld else "" for r in reversed(rounds)]
        assert [line[6] for line in lines[1:]] == shown
        page.context.close()

        page = signed_in_page(browser, web.base_url, storage, external_id=MEMBER, lang="nl")
        page.goto(f"{web.base_url}/teams/{team_a}")
        assert "niet getoond: minder dan 5 antwoorden" in page.locator("table").last.inner_text()
        check_accessibility(page)
        save_screenshot(page, "team-nl")
        page.context.close()


def test_a_member_of_team_a_cannot_open_team_b_or_its_export(browser, world):  # noqa: F811
    storage, models, ids = world
    with serve_web(storage, models) as web:
        page = signed_in_page(browser, web.base_url, storage, external_id=MEMBER)
        team_b = ids["C_B"]
        for path in (f"/teams/{team_b}", f"/teams/{team_b}/export.csv", "/teams/987654"):
            response = page.goto(web.base_url + path)
            assert response.status == 404, path
            assert page.locator("h1").inner_text() == "Page not found"
            assert "Team B" not in page.content()
        status, text = download(page, f"/teams/{team_b}/export.json")
        assert status == 404 and "Team B" not in text
        response = page.goto(web.base_url + "/organisation")
        assert response.status == 404
        status, _ = download(page, "/organisation/export.csv")
        assert status == 404
        page.context.close()

        page = signed_in_page(browser, web.base_url, storage, external_id=TEAM_B[0])
        page.goto(f"{web.base_url}/teams/{team_b}")
        assert page.locator("h1").inner_text() == "Team B"
        pillars = rows_of(page, "Average level per pillar, round of")
        assert [p[0] for p in pillars] == [p.name.en for p in models["bmm"].pillars]
        assert page.locator("svg[role=img][aria-labelledby=pillars]").count() == 1
        assert page.goto(f"{web.base_url}/teams/{ids['C_A']}").status == 404
        check_accessibility(page)
        page.context.close()


def test_the_organisation_heatmap_for_a_workspace_admin(browser, world):  # noqa: F811
    storage, models, _ = world
    bmm = models["bmm"]
    with serve_web(storage, models) as web:
        page = signed_in_page(
            browser, web.base_url, storage, external_id="T1:UADMIN", workspace_admin=True
        )
        page.get_by_role("link", name="Organisation").click()
        assert page.locator("h1").inner_text() == "Organisation"
        teams = rows_of(page, "Teams and their latest phase")
        assert [t[0] for t in teams] == ["Team A", "Team B", "Team C <i>&amp; $x$"]
        assert teams[2][2] == "withheld: fewer than 5 answers"
        heatmap = page.locator("section", has=page.locator("h2", has_text="Teams and pillars"))
        assert heatmap.locator("svg[role=img]").count() == 1
        cells = rows_of(page, f"Average level per team and pillar: {bmm.name.en}")
        assert [c[0] for c in cells] == ["Team B", "Team C <i>&amp; $x$"]
        assert all(re.fullmatch(r"\d\.\d", value) for value in cells[0][1:])
        assert cells[1][1:] == ["fewer than 5 answers"] * len(bmm.pillars)
        assert page.locator("i").count() == 0  # a team's name is text, never markup
        groei = models["groeimodel"].name.en
        spread = rows_of(page, f"Answers per phase across the organisation: {groei}")
        assert sum(int(n) for _, n in spread) == 6  # team A's latest round only
        check_accessibility(page)
        save_screenshot(page, "organisation")

        status, text = download(page, "/organisation/export.json")
        exported = {team["team"]: team for team in json.loads(text)}
        assert status == 200
        assert exported["Team C <i>&amp; $x$"]["round"]["withheld"]
        assert exported["Team C <i>&amp; $x$"]["round"]["pillar_averages"] == []
        shown = {p: f"{v:.1f}" for p, v in exported["Team B"]["round"]["pillar_averages"]}
        assert [shown[p.id] for p in bmm.pillars] == cells[0][1:]
        status, text = download(page, "/organisation/export.csv")
        lines = list(csv.reader(io.StringIO(text)))
        assert [line[0] for line in lines[1:]] == [t[0] for t in teams]
        page.context.close()


class TelegramGroups(Messenger):
    """Telegram's side for the pulse core: a bot cannot list a group, so members join."""

    channel = "telegram"

    async def members(self, team):
        return None


def test_a_telegram_group_admin_sees_their_groups_and_a_member_only_their_team(
    browser,  # noqa: F811
    tmp_path,
    models,
    scan,
):
    storage = Storage(tmp_path / "telegram.db")
    service = AssessmentService(storage, models, scan=scan)
    clock = Clock(T0)
    pulse = PulseService(service, PulseSettings(min_responses=3), clock=clock)
    groups = TelegramGroups()
    for group, title, members in (("-100", "Sales", "12345"), ("-200", "Support", "6789")):
        groups.leads[group] = f"9{group}"
        words = ["start", "groeimodel", "weekly", "tue", "10:00"]
        run(pulse.command(groups, group, title, groups.leads[group], words, "en"))
        for member in members:
            pulse.join("telegram", group, title, member, "en")
    run_round(pulse, service, clock, groups, "-100", [(m, 1) for m in "12345"])
    sales = pulse.store.pulse("telegram", "-100").team_id
    support = pulse.store.pulse("telegram", "-200").team_id
    try:
        with serve_web(storage, models) as web:
            owner = {"channel": "telegram", "workspace_admin": True, "admin_of_groups": ("-100",)}
            page = signed_in_page(browser, web.base_url, storage, external_id="9-100", **owner)
            page.get_by_role("link", name="Organisation").click()
            teams = rows_of(page, "Teams and their latest phase")
            assert [t[0] for t in teams] == ["Sales"]
            assert teams[0][2] == models["groeimodel"].phases[1].name.en
            assert page.goto(f"{web.base_url}/teams/{support}").status == 404
            page.set_viewport_size({"width": 390, "height": 844})  # a phone
            page.goto(f"{web.base_url}/teams/{sales}")
            assert page.locator("svg[role=img][aria-labelledby=trend]").count() == 1
            check_accessibility(page)
            save_screenshot(page, "team-phone")
            page.context.close()

            page = signed_in_page(
                browser, web.base_url, storage, external_id="6", channel="telegram"
            )
            page.goto(web.base_url + "/teams")
            assert [r[0] for r in rows_of(page, "Your teams")] == ["Support"]
            assert page.goto(f"{web.base_url}/teams/{sales}").status == 404
            assert page.goto(f"{web.base_url}/organisation").status == 404
            page.context.close()
    finally:
        storage.close()


def test_the_exports_rows_are_the_pages_without_drawing_their_radars(tmp_path):
    models = load_models()
    storage = Storage(tmp_path / "bot.db")
    chat = Chat(AssessmentService(storage, models), user=MEMBER, channel="slack", lang="en")
    for _ in range(2):
        chat.start("bmm")
        while (ask := chat.question) is not None:
            chat.press(ask.choices[0].payload)
    results = DashboardStore(storage).my_results("slack", MEMBER)
    storage.close()
    shown = result_rows(results, models, "en")
    exported = result_rows(results, models, "en", charts=False)
    assert len(shown) == 2 and all(row.radar is not None for row in shown)
    assert exported == [replace(row, radar=None) for row in shown]
