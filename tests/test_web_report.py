"""The board report in a real browser (Chromium through Playwright): the page shows the report's
headings in the viewer's language, Chromium prints it to a PDF with those headings, the
"Download as PDF" link gives a real PDF (WeasyPrint) with them too, it passes the accessibility
check, and it needs a session and a team the viewer may see.

The results and initiatives behind it are made the way a person makes them: by answering in the
chat (the real service), not by writing rows."""

from __future__ import annotations

import io
import re
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader

from bot.service import AssessmentService
from bot.storage import Storage
from bot.storage.web_sessions import WebSessionStore
from bot.web.chat_texts import chat_text
from flows.i18n import t
from flows.model_loader import load_models
from tests.helpers import Chat
from tests.web_rig import (
    browser,  # noqa: F401 (a fixture; tests take it as a parameter)
    check_accessibility,
    open_sign_in_link,
    save_screenshot,
    serve_web,
    signed_in_page,
    viewer_of,
)

MODELS = load_models()
HEADINGS = ("standing", "holding_back", "roadmap", "initiatives")
USER = "T1:U1"


def headings(lang: str) -> list[str]:
    return [t(f"report_heading_{key}", lang) for key in HEADINGS]


def play(storage: Storage, lang: str, user: str = USER) -> None:
    """Answer Altimeter at its first options and the BMM with one pillar behind, and add two
    initiatives, as a person in Slack would."""
    service = AssessmentService(storage, MODELS)
    chat = Chat(service, user=user, channel="slack", lang=lang)
    for model_id in ("altimeter", "bmm"):
        model = MODELS[model_id]
        chat.start(model_id)
        for question in model.questions:
            ask = chat.question
            assert ask is not None and ask.question_id == question.id
            last = len(ask.choices) - 1
            position = 0 if model_id == "altimeter" or question.pillar == "people" else last
            chat.press(ask.choices[position].payload)
        assert chat.result is not None
    word = "toevoegen" if lang == "nl" else "add"
    chat.type(f"/initiatives {word} Webcare; X; supporting; customer satisfaction")
    chat.type(f"/initiatives {word} Blog; website; talking")


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-"), data[:20]
    text = " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_board_report_shows_prints_and_downloads_in_the_viewers_language(
    browser,  # noqa: F811
    tmp_path: Path,
    lang: str,
):
    storage = Storage(tmp_path / "bot.db")
    play(storage, lang)
    with serve_web(storage, MODELS) as web:
        page = signed_in_page(browser, web.base_url, storage, external_id=USER, lang=lang)
        page.goto(web.base_url + "/report")
        assert page.locator("html").get_attribute("lang") == lang
        shown = page.locator("h2").all_inner_texts()
        for heading in headings(lang):
            assert heading in shown
        body = page.locator("main").inner_text()
        assert MODELS["altimeter"].name.get(lang) in body
        assert "Webcare" in body and t("report_quarter", lang, number=1) in body
        assert page.locator("svg[role=img]").count() >= 1  # the BMM radar
        check_accessibility(page)
        save_screenshot(page, f"report-{lang}")

        printed = pdf_text(page.pdf(format="A4"))
        for heading in headings(lang):
            assert heading in printed
        assert "Webcare" in printed
        assert ("Afmelden" if lang == "nl" else "Sign out") not in printed
        page.emulate_media(media="print")  # printed: no menu, no buttons, the report only
        assert not page.locator("header.site-header").is_visible()
        assert not page.locator(".report-actions").is_visible()
        assert page.locator("#report-title").is_visible()
        page.emulate_media(media="screen")

        label = "Download als PDF" if lang == "nl" else "Download as PDF"
        with page.expect_download() as info:
            page.get_by_role("link", name=label).click()
        download = info.value
        assert download.suggested_filename.endswith(".pdf")
        text = pdf_text(Path(download.path()).read_bytes())
        assert t("report_title", lang, organisation=t("report_org_default", lang)) in text
        for heading in headings(lang):
            assert heading in text
        page.context.close()


def test_the_report_needs_a_session_and_a_team_one_may_see(browser, tmp_path: Path):  # noqa: F811
    storage = Storage(tmp_path / "bot.db")
    play(storage, "en")
    with serve_web(storage, MODELS) as web:
        context = browser.new_context(locale="en-GB")
        anonymous = context.new_page()
        for path in ("/report", "/report.pdf"):
            response = anonymous.request.get(web.base_url + path)
            assert response.status == 401
            assert not response.body().startswith(b"%PDF")
        context.close()

        page = signed_in_page(browser, web.base_url, storage, external_id=USER, lang="en")
        for path in ("/report?team=999", "/report.pdf?team=999", "/report?team=abc"):
            response = page.request.get(web.base_url + path)
            assert response.status == 404, path
            assert not response.body().startswith(b"%PDF")
        page.context.close()


def test_someone_without_results_gets_a_report_that_says_what_to_do(
    browser,  # noqa: F811
    tmp_path: Path,
):
    """...titled with the Slack workspace's name where the app was installed (OAuth mode)."""
    from bot.storage.installations import InstallationRow, Installations

    storage = Storage(tmp_path / "bot.db")
    row = InstallationRow(
        "", "T1", 0, "A1", "xoxb-secret", "B1", "UBOT", "chat:write", "U1", "Bakkerij Jansen",
        None, "2026-11-01T00:00:00+00:00",
    )  # fmt: skip
    Installations(storage).save(row)
    with serve_web(storage, MODELS) as web:
        page = signed_in_page(browser, web.base_url, storage, external_id="T1:U9", lang="nl")
        page.goto(web.base_url + "/report")
        title = t("report_title", "nl", organisation="Bakkerij Jansen")
        assert page.locator("h1").inner_text() == title
        body = page.locator("main").inner_text()
        assert t("report_none_standing", "nl") in body
        assert t("report_none_initiatives", "nl").split(".")[0] in body
        check_accessibility(page)
        page.context.close()


SIGNIN_TO_REPORT = re.compile(r"http://127\.0\.0\.1:\d+/signin/[A-Za-z0-9_-]+\?to=report")


def report_offer(message) -> dict:
    """The follow-up element that offers the board report (a button, or an option of the
    select when the result offers many things), as a block_actions action."""
    for block in message.blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            base = {"action_id": element["action_id"], "block_id": block.get("block_id", "b")}
            if element.get("value") == "c:report":
                return {**base, "type": "button", "value": "c:report", "text": element["text"]}
            for option in element.get("options", []):
                if option["value"] == "c:report":
                    return {**base, "type": "static_select", "selected_option": option}
    raise AssertionError(f"no board report offer in {message.blocks}")


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_slack_result_offers_the_board_report_and_its_link_opens_it(
    browser,  # noqa: F811
    tmp_path: Path,
    lang: str,
):
    """/maturity result shows the card with "make a board report"; pressing it posts a sign-in
    link in the DM that lands on the report, in the person's language."""
    from tests.fake_slack import TEAM_ID, FakeSlack
    from tests.test_web_signin import SlackWithDashboard

    storage = Storage(tmp_path / "bot.db")
    play(storage, lang, user=f"{TEAM_ID}:UREP")
    with FakeSlack() as fake:
        fake.add_user("UREP")
        rig = SlackWithDashboard(fake, storage, MODELS)
        try:
            mark = fake.mark()
            assert rig.send.command("result", "UREP").status_code == 200
            card = fake.wait_for(
                "chat.postMessage", lambda c: "c:report" in str(c.params.get("blocks")), after=mark
            )
            message = fake.posted(card)
            label = t("report_button", lang)
            assert label in " ".join(message.shown())

            mark = fake.mark()
            assert (
                rig.send.action("UREP", report_offer(message), message=message).status_code == 200
            )
            sent = fake.wait_for(
                "chat.postMessage", lambda c: "/signin/" in str(c.params.get("text")), after=mark
            )
            assert sent.params["channel"] == "DUREP"
            link = SIGNIN_TO_REPORT.search(sent.params["text"])
            assert link is not None, sent.params["text"]
            assert sent.params["text"] == chat_text("report_link", lang, link=link.group(0))

            page = open_sign_in_link(browser, link.group(0))
            assert page.url == rig.base_url + "/report"
            shown = page.locator("h2").all_inner_texts()
            assert all(heading in shown for heading in headings(lang))
            page.context.close()
        finally:
            rig.close()
    storage.close()


def console_session(storage: Storage, lines: str, web=None) -> str:
    """Run the terminal bot over `lines` as user "ann" (nl); what it printed."""
    from bot.console import ConsoleChannel

    out = io.StringIO()
    service = AssessmentService(storage, MODELS)
    channel = ConsoleChannel(
        service, "ann", storage_dir(storage), out=out, lang="nl", web_settings=web
    )
    channel.run(io.StringIO(lines), model_id="groeimodel")
    return out.getvalue()


def storage_dir(storage: Storage) -> Path:
    return Path(storage.path).parent


def test_the_console_offers_the_report_and_prints_a_link_or_says_how_to_set_it_up(
    browser,  # noqa: F811
    tmp_path: Path,
):
    answers = "1\n" * len(MODELS["groeimodel"].questions)
    storage = Storage(tmp_path / "bot.db")
    shown = console_session(storage, answers + "/rapport\n")
    assert f"{t('report_button', 'nl')}: /report" in shown
    assert t("report_no_web", "nl") in shown

    with serve_web(storage, MODELS) as web:
        shown = console_session(storage, "/report\n", web.settings)
        link = re.search(r"http://127\.0\.0\.1:\d+/signin/[A-Za-z0-9_-]+\?to=report", shown)
        assert link is not None, shown
        assert t("report_no_web", "nl") not in shown
        assert chat_text("report_link", "nl", link=link.group(0)) in shown
        page = open_sign_in_link(browser, link.group(0))
        assert page.url == web.base_url + "/report"
        assert t("report_heading_standing", "nl") in page.locator("h2").all_inner_texts()
        assert MODELS["groeimodel"].name.get("nl") in page.locator("main").inner_text()
        page.context.close()


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_telegram_result_offers_the_board_report_and_its_link_opens_it(
    browser,  # noqa: F811
    tmp_path: Path,
    lang: str,
):
    """The result's "make a board report" button in a private chat sends a sign-in link that
    lands on the report; the real PTB Application against the fake Bot API."""
    from tests.fake_telegram import FakeTelegram, TgUser
    from tests.telegram_rig import Rig

    storage = Storage(tmp_path / "bot.db")
    with serve_web(storage, MODELS) as web, FakeTelegram() as fake:
        rig = Rig(fake, tmp_path / "bot.db", MODELS, web_settings=web.settings)
        try:
            user = TgUser(4242, language_code=lang)
            mark = rig.say(user, "/assess groeimodel")
            mark = rig.answer_all(user, "groeimodel", first=rig.question(user, after=mark))
            label = t("report_button", lang)
            result = fake.wait_message(
                user.id, lambda m: any(b.get("text") == label for b in m.buttons), after=mark
            )
            mark = rig.press(user, result, text=label)
            sent = rig.message(user, "/signin/", after=mark)
            link = SIGNIN_TO_REPORT.search(sent.shown())
            assert link is not None, sent.shown()
            assert chat_text("report_link", lang, link="").split(":")[0] in sent.shown()

            page = open_sign_in_link(browser, link.group(0))
            assert page.url == web.base_url + "/report"
            assert all(h in page.locator("h2").all_inner_texts() for h in headings(lang))
            assert MODELS["groeimodel"].name.get(lang) in page.locator("main").inner_text()
            page.context.close()
        finally:
            rig.stop()


def test_a_team_members_report_includes_the_teams_trend_and_withholds_a_round_under_k(
    browser,  # noqa: F811
    tmp_path: Path,
):
    """Team A ran three Groeimodel rounds, the second with too few answers (K=5): its member's
    report with ?team= shows the trend chart and only counts for that round; a person outside
    the team gets the same 404 as for a team that does not exist."""
    from bot.pulse.service import PulseService, PulseSettings
    from tests.test_web_pages import T0, Clock, Messenger, run, run_round

    storage = Storage(tmp_path / "bot.db")
    service = AssessmentService(storage, MODELS)
    team = [f"T1:UT{i}" for i in range(1, 7)]
    play(storage, "nl", user=team[0])
    clock = Clock(T0)
    pulse = PulseService(service, PulseSettings(min_responses=5), clock=clock)
    teams = Messenger()
    teams.teams["C_A"], teams.leads["C_A"] = team, "T1:LEAD"
    words = ["start", "groeimodel", "weekly", "tue", "10:00"]
    run(pulse.command(teams, "C_A", "Team A", "T1:LEAD", words, "nl"))
    run_round(pulse, service, clock, teams, "C_A", [(m, 0) for m in team[:5]])
    run_round(pulse, service, clock, teams, "C_A", [(m, 1) for m in team[:3]])
    run_round(pulse, service, clock, teams, "C_A", [(m, 99) for m in team])
    team_id = storage.db.execute("select id from teams where external_id = 'C_A'").fetchone()[0]
    phases = [p.name.get("nl") for p in MODELS["groeimodel"].phases]

    with serve_web(storage, MODELS) as web:
        page = signed_in_page(browser, web.base_url, storage, external_id=team[0], lang="nl")
        page.goto(web.base_url + "/report")
        page.get_by_label("Neem de pulstrend van een team op").select_option(label="Team A")
        page.get_by_role("button", name="Rapport bijwerken").click()
        page.wait_for_load_state()
        assert page.url == f"{web.base_url}/report?team={team_id}"
        heading = t("report_heading_team", "nl")
        assert heading in page.locator("h2").all_inner_texts()
        section = page.locator("section", has=page.locator(f"h2:text-is('{heading}')"))
        assert section.locator("svg[role=img]").count() == 1
        lines = section.locator("li").all_inner_texts()
        assert len(lines) >= 3
        withheld = lines[1]
        assert "3 van 6" in withheld and not any(name in withheld for name in phases)
        assert phases[0] in lines[0]
        check_accessibility(page)
        save_screenshot(page, "report-team-nl")

        printed = pdf_text(page.request.get(f"{web.base_url}/report.pdf?team={team_id}").body())
        assert heading in printed
        page.context.close()

        outsider = signed_in_page(browser, web.base_url, storage, external_id="T1:UX", lang="nl")
        for path in (f"/report?team={team_id}", f"/report.pdf?team={team_id}"):
            assert outsider.request.get(web.base_url + path).status == 404
        outsider.context.close()


def test_a_model_taken_twice_is_reported_at_its_newest_result(tmp_path: Path):
    """Over HTTP (no browser): the report stands on each model's latest result, not an older one."""
    storage = Storage(tmp_path / "bot.db")
    chat = Chat(AssessmentService(storage, MODELS), user=USER, channel="slack", lang="en")
    model = MODELS["groeimodel"]
    for position in (0, -1):  # first the least mature answers, then the most mature
        chat.start(model.id)
        while (ask := chat.question) is not None:
            chat.press(ask.choices[position].payload)
    first, last = (phase.name.get("en") for phase in (model.phases[0], model.phases[-1]))
    with serve_web(storage, MODELS) as web, httpx.Client(base_url=web.base_url) as client:
        token = WebSessionStore(storage).issue_link(viewer_of(USER))
        assert client.post("/signin", data={"token": token}).status_code == 303
        shown = client.get("/report").text
    storage.close()
    assert t("report_summary_model", "en", phase=last, model=model.name.get("en")) in shown
    assert t("report_summary_model", "en", phase=first, model=model.name.get("en")) not in shown
