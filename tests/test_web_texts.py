"""The dashboard's text lookups answer as flows.i18n does: every text in nl and en, and English
for a language the bot does not speak."""

from __future__ import annotations

import pytest

from bot.web.chat_texts import CHAT_TEXTS, chat_text
from bot.web.pages.texts import PAGE_TEXTS, pt
from bot.web.texts import TEXTS, text
from flows.model_schema import LANGUAGES


@pytest.mark.parametrize("table", [TEXTS, PAGE_TEXTS, CHAT_TEXTS])
def test_every_web_text_is_in_every_language(table):
    assert [key for key, entry in table.items() if set(entry) != set(LANGUAGES)] == []


def test_an_unknown_language_gets_english_as_in_the_chat():
    assert text("de", "nav.sign_out") == TEXTS["nav.sign_out"]["en"]
    assert text("de", "report.pdf", PAGE_TEXTS) == PAGE_TEXTS["report.pdf"]["en"]
    assert pt("my_title", "de") == PAGE_TEXTS["my_title"]["en"]
    assert pt("report.measured", "de", date="2026-03-02") == "Measured on 2026-03-02"
    assert chat_text("dashboard_failed", "de") == CHAT_TEXTS["dashboard_failed"]["en"]


def test_a_missing_key_shows_itself_on_the_page():
    assert text("nl", "no.such.key") == "no.such.key"
