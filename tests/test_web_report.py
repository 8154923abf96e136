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

import pytest
from pypdf import PdfReader

from bot.service import AssessmentService
from bot.storage import Storage
from flows.i18n import t
from flows.model_loader import load_models
from tests.helpers import Chat
from tests.web_rig import (
    browser,  # noqa: F401 (a fixture; tests take it as a parameter)
    check_accessibility,
    save_screenshot,
    serve_web,
    signed_in_page,
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
    storage = Storage(tmp_path / "bot.db")
    with serve_web(storage, MODELS) as web:
        page = signed_in_page(browser, web.base_url, storage, external_id="T1:U9", lang="nl")
        page.goto(web.base_url + "/report")
        body = page.locator("main").inner_text()
        assert t("report_none_standing", "nl") in body
        assert t("report_none_initiatives", "nl").split(".")[0] in body
        check_accessibility(page)
        page.context.close()
