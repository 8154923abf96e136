"""Telegram rendering as pure functions: every shipped model's questions and results fit
Telegram's limits (4096 characters, 64-byte callback_data) and parse as Telegram parses HTML;
long texts are cut between lines; the adapter's own texts exist in every language."""

from __future__ import annotations

import logging
import re

import pytest
from telegram import InlineKeyboardMarkup

from bot.errors import UsageError
from bot.telegram.app import RedactSecrets, check_token, command_word, file_url_for
from bot.telegram.render import (
    CALLBACK_LIMIT,
    DATA_FORGET_NO,
    DATA_FORGET_YES,
    MESSAGE_LIMIT,
    TelegramMessage,
    answered_text,
    callback,
    chunk,
    command_menu,
    forget_confirm,
    language_choice,
    messages_for,
    own_action,
    pressed_label,
    private_notice,
    settled_text,
    telegram_length,
    toast,
    visible,
)
from bot.telegram.texts import TEXTS
from flows.events import Event, Kind, from_payload
from flows.i18n import placeholders, t
from flows.model_schema import LANGUAGES
from flows.replies import Answered, Ask, Choice, ResultCard, Say
from tests.fake_telegram import COMMAND_RE, TOKEN, parse_html


def check(message: TelegramMessage) -> str:
    """What Telegram would accept: HTML that parses, the length limit, short callback data.
    Returns the text as the user reads it."""
    text, _ = parse_html(message.text)
    assert text.strip() and telegram_length(text) <= MESSAGE_LIMIT
    if message.markup is not None:
        for row in message.markup.inline_keyboard:
            for key in row:
                assert key.text
                if key.callback_data is not None:
                    assert 1 <= len(key.callback_data.encode()) <= CALLBACK_LIMIT
    return text


def buttons(message: TelegramMessage) -> list[tuple[str, str | None]]:
    rows = message.markup.inline_keyboard if message.markup else ()
    return [(key.text, key.callback_data) for row in rows for key in row]


def run_model(service, model, lang: str, option: int) -> list:
    """Every reply of a whole assessment through the real service, answering by button."""
    user = f"render-{model.id}-{lang}-{option}"
    service.set_language("telegram", user, lang)
    replies = list(
        service.handle("telegram", user, Event(Kind.CHOOSE, model.id, direct=True)).replies
    )
    for _ in model.questions:
        ask = next(r for r in reversed(replies) if isinstance(r, Ask))
        choice = ask.choices[min(option, len(ask.choices) - 1)]
        replies += service.handle("telegram", user, from_payload(choice.payload)).replies
    return replies


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("option", [0, 99])
def test_every_model_renders_within_telegrams_limits(service, models, lang, option):
    for model in models.values():
        replies = run_model(service, model, lang, option)
        asks = [r for r in replies if isinstance(r, Ask)]
        assert len(asks) == len(model.questions)
        for reply in replies:
            if isinstance(reply, Answered):
                parse_html(answered_text(reply))
                continue
            for message in messages_for(reply, lang):
                check(message)
        assert any(isinstance(r, ResultCard) for r in replies), model.id


def test_a_question_lists_long_answers_and_numbers_its_buttons(models):
    question = models["groeimodel"].questions[0]
    payloads = [f"a:0123456789ab:{question.id}:{o.id}" for o in question.options]
    ask = Ask(
        "0123456789ab",
        question.id,
        "Question 1 of 12",
        question.text.en,
        tuple(Choice(o.label.en, p) for o, p in zip(question.options, payloads, strict=True)),
        help="Think & answer <honestly>",
        extra_choices=(Choice("Skip", "c:skip"),),
    )
    (message,) = messages_for(ask, "en")
    text = check(message)
    assert text.splitlines()[:2] == ["Question 1 of 12", question.text.en]
    assert "Think & answer <honestly>" in text
    for number, option in enumerate(question.options, 1):
        assert f"{number}. {option.label.en}" in text
    keys = buttons(message)
    count = len(question.options)
    assert keys[:count] == [(str(n), p) for n, p in enumerate(payloads, 1)]
    assert [k[1] for k in keys[count:]] == ["c:back", "c:skip", "c:stop"]


def test_short_choices_go_on_the_buttons_themselves():
    say = Say("Ready to begin?", (Choice("Start", "c:begin"), Choice("Other model", "c:menu")))
    (message,) = messages_for(say, "en")
    assert check(message) == "Ready to begin?"
    assert buttons(message) == [("Start", "c:begin"), ("Other model", "c:menu")]
    assert [len(row) for row in message.markup.inline_keyboard] == [1, 1]


def test_many_numbered_choices_make_even_rows():
    say = Say(
        "Pick", tuple(Choice(f"A rather longer label, number {i:02d}", f"m:{i}") for i in range(13))
    )
    (message,) = messages_for(say, "en")
    assert [len(row) for row in message.markup.inline_keyboard] == [5, 5, 3]


def test_an_error_is_marked():
    (message,) = messages_for(Say("That went wrong", is_error=True), "en")
    assert check(message) == "⚠️ That went wrong"


def test_a_long_text_is_cut_between_lines_with_the_keyboard_last():
    lines = [f"Line {i}: growth & <maturity> {'x' * 80}" for i in range(200)]
    say = Say("\n".join(lines), (Choice("OK", "c:continue"),))
    messages = messages_for(say, "en")
    assert len(messages) > 1
    texts = [check(m) for m in messages]
    assert "\n".join(texts).splitlines() == lines  # nothing lost, nothing cut mid-line
    assert [m.markup is not None for m in messages] == [False] * (len(messages) - 1) + [True]


def test_one_very_long_line_is_cut_hard_and_emoji_count_double():
    emoji = "😀" * 5000  # 10,000 UTF-16 units
    pieces = chunk([emoji])
    assert len(pieces) == 3
    assert all(telegram_length(visible(p)) <= MESSAGE_LIMIT for p in pieces)
    assert "".join(pieces) == emoji
    amp = chunk(["&" * 5000])  # escaping does not count: Telegram counts what it shows
    assert [len(visible(p)) for p in amp] == [4096, 904]


def test_a_result_card_reads_in_order(service, models):
    replies = run_model(service, models["bmm"], "en", 0)
    card = next(r for r in replies if isinstance(r, ResultCard))
    (message,) = messages_for(card, "en")
    text = check(message)
    assert text.startswith(card.title + "\n" + card.summary)
    for name, level_name, _, _ in card.pillar_levels:
        assert f"{name}: {level_name}" in text
    order = [card.explanation[0], *(s.header for s in card.sections), card.footer]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)
    for section in card.sections:
        for line in section.lines:
            assert f"• {line}" in text


def test_answered_and_settled_texts():
    assert answered_text(Answered("a", "q", "Plan? → None & no <idea>")) == (
        "✓ Plan? → None &amp; no &lt;idea&gt;"
    )
    assert settled_text("<b>Pick</b>", "Model & co") == "<b>Pick</b>\n\n→ <i>Model &amp; co</i>"
    assert settled_text("<b>Pick</b>", None) == "<b>Pick</b>"
    huge = "x" * MESSAGE_LIMIT
    assert settled_text(huge, "label") == huge


def test_the_pressed_label_of_a_number_button_is_its_listed_line():
    say = Say(
        "Choose:", tuple(Choice(f"Model number {i} with a long name", f"m:{i}") for i in (1, 2))
    )
    (message,) = messages_for(say, "en")
    text = check(message)
    assert pressed_label(message.markup, "m:2", text) == "Model number 2 with a long name"
    short = InlineKeyboardMarkup.from_button(buttons_of("Start", "c:begin"))
    assert pressed_label(short, "c:begin", "Ready?") == "Start"
    assert pressed_label(None, "c:begin") is None


def buttons_of(text: str, data: str):
    from telegram import InlineKeyboardButton

    return InlineKeyboardButton(text, callback_data=data)


def test_callback_data_over_64_bytes_is_refused():
    assert callback("a" * 64) == "a" * 64
    with pytest.raises(ValueError):
        callback("é" * 33)  # 66 bytes
    with pytest.raises(ValueError):
        callback("")


def test_a_toast_fits_telegrams_200_characters():
    assert toast("short") == "short"
    long = toast("word " * 100)
    assert telegram_length(long) <= 200 and long.endswith("…")


def test_the_adapters_own_messages(models):
    for lang in LANGUAGES:
        confirm = forget_confirm(lang)
        check(confirm)
        assert [data for _, data in buttons(confirm)] == [DATA_FORGET_YES, DATA_FORGET_NO]
        languages = language_choice(lang)
        check(languages)
        assert [data for _, data in buttons(languages)] == [f"tg:lang:{c}" for c in LANGUAGES]
        notice = private_notice(lang, "some_bot")
        check(notice)
        assert notice.markup.inline_keyboard[0][0].url == "https://t.me/some_bot"
    assert own_action(DATA_FORGET_YES) == ("forget", "yes")
    assert own_action("tg:lang:nl") == ("lang", "nl")
    assert own_action("a:x:y:z") is None
    assert from_payload("tg:lang:nl").kind is Kind.STALE  # never mistaken for a core payload


def test_every_adapter_text_exists_in_every_language():
    for key, texts in TEXTS.items():
        assert set(texts) == set(LANGUAGES), key
        assert len({frozenset(placeholders(text)) for text in texts.values()}) == 1, key


def test_the_command_menu_is_valid_for_telegram():
    for lang in LANGUAGES:
        menu = command_menu(lang)
        assert len({c.command for c in menu}) == len(menu)
        for command in menu:
            assert COMMAND_RE.fullmatch(command.command)
            assert 1 <= len(command.description) <= 256


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("/start", ("start", None, "")),
        ("/Assess@Maturity_Bot groeimodel", ("assess", "Maturity_Bot", "groeimodel")),
        ("/lang  nl ", ("lang", None, "nl")),
        ("hello", None),
    ],
)
def test_command_words(text, parsed):
    assert command_word(text) == parsed


def test_token_shape():
    assert check_token(_secret(TOKEN)) == TOKEN
    assert check_token(_secret(f"  {TOKEN}\n")) == TOKEN
    for bad in (None, "", "123", "123:" + "a" * 34, "x23:" + "a" * 35):
        with pytest.raises(UsageError):
            check_token(_secret(bad) if bad is not None else None)


def _secret(value: str):
    from pydantic import SecretStr

    return SecretStr(value)


def test_a_self_hosted_servers_file_url():
    assert file_url_for("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"
    assert file_url_for("http://127.0.0.1:8081/bot/") == "http://127.0.0.1:8081/file/bot"
    assert file_url_for("http://host/custom/{token}") is None
    assert file_url_for(None) is None


def test_the_token_is_redacted_from_log_lines_and_tracebacks(caplog):
    logger = logging.getLogger("test.telegram.redact")
    redact = RedactSecrets(TOKEN)
    caplog.handler.addFilter(redact)
    try:
        logger.warning("calling %s", f"http://x/bot{TOKEN}/getMe")
        try:
            raise RuntimeError(f"failed at /bot{TOKEN}/sendMessage")
        except RuntimeError:
            logger.exception("boom")
    finally:
        caplog.handler.removeFilter(redact)
    rendered = caplog.text
    assert TOKEN not in rendered
    assert re.search(r"bot<redacted>/getMe", rendered)
    assert "bot<redacted>/sendMessage" in rendered


def test_the_dutch_menu_names_the_commands_the_dutch_help_gives_and_the_bot_takes():
    from bot.telegram.updates import DASHBOARD_WORDS, EXPORT_WORDS, FORGET_WORDS
    from flows.events import COMMANDS

    dutch = [c.command for c in command_menu("nl")]
    assert {"geschiedenis", "terug", "hulp", "rapport", "vergeet"} <= set(dutch)
    assert not {"history", "back", "help", "report", "forget", "assess"} & set(dutch)
    taken = set(COMMANDS) | FORGET_WORDS | EXPORT_WORDS | DASHBOARD_WORDS | {"pulse"}
    assert set(dutch) <= taken
    help_nl = t("help", "nl")
    for command in ("terug", "overslaan", "overzicht", "hervat", "resultaat", "geschiedenis"):
        assert f"/{command}" in help_nl and command in dutch
