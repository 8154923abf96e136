"""Neutral replies as Telegram messages (HTML text + inline keyboards): pure functions, no I/O,
so every layout and every limit is unit-tested.

The adapter (bot/telegram/app.py) decides where a message goes and when; how it looks is decided
here. Telegram's limits shape the layout: a message holds 4096 characters (counted after the HTML
is parsed), a photo caption 1024, a button's callback_data 64 bytes, a callback toast 200
characters. Answer labels run up to ~90 characters, more than a phone shows on a button, so when
a label is long the options are listed numbered in the text and the buttons carry the numbers.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import (
    CallbackQueryLimit,
    InlineKeyboardButtonLimit,
    MessageLimit,
    ParseMode,
)

from bot.telegram.texts import LANGUAGE_NAMES, tt
from flows.events import Kind, payload_command
from flows.model_schema import LANGUAGES
from flows.replies import Answered, Ask, Choice, ResultCard, Say, bar

PARSE_MODE = ParseMode.HTML
MESSAGE_LIMIT = int(MessageLimit.MAX_TEXT_LENGTH)
CAPTION_LIMIT = int(MessageLimit.CAPTION_LENGTH)
CALLBACK_LIMIT = int(InlineKeyboardButtonLimit.MAX_CALLBACK_DATA)
TOAST_LIMIT = int(CallbackQueryLimit.ANSWER_CALLBACK_QUERY_TEXT_LENGTH)
LABEL_ON_BUTTON = 30
"""Labels up to this length go on the buttons; longer ones are listed, buttons show numbers."""
NUMBERS_PER_ROW = 5

OWN_PREFIX = "tg:"
"""callback_data of the adapter's own buttons; the core's payloads use other tags (a, m, e, c)."""
DATA_FORGET_YES = "tg:forget:yes"
DATA_FORGET_NO = "tg:forget:no"
DATA_LANG = "tg:lang:"
"""+ a language code."""
DATA_PULSE_JOIN = "tg:pulse:join"
"""The group's "Join the pulse" button; the group is the pressed message's chat."""

COMMAND_MENU = (
    "start",
    "assess",
    "models",
    "scan",
    "back",
    "skip",
    "stop",
    "resume",
    "review",
    "result",
    "history",
    "remind",
    "initiatives",
    "pulse",
    "lang",
    "help",
    "forget",
    "export",
    "dashboard",
    "report",
)
"""The commands Telegram offers in its menu (setMyCommands), in this order."""
DUTCH_COMMANDS = {
    "assess": None,  # /start does the same, and is what Telegram itself offers first
    "models": "modellen",
    "back": "terug",
    "skip": "overslaan",
    "resume": "hervat",
    "review": "overzicht",
    "result": "resultaat",
    "history": "geschiedenis",
    "remind": "herinner",
    "initiatives": "initiatieven",
    "lang": "taal",
    "help": "hulp",
    "forget": "vergeet",
    "export": "exporteer",
    "report": "rapport",
}
"""The Dutch menu's own names (the Dutch help uses them too; the bot takes both); a command
not named here is the same word in Dutch (start, scan, stop, pulse, dashboard); None leaves it
out of the Dutch menu."""

_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class TelegramMessage:
    """The arguments of a sendMessage: HTML text and an optional inline keyboard."""

    text: str
    markup: InlineKeyboardMarkup | None = None


# ---- text helpers --------------------------------------------------------------------------------
def esc(text: str) -> str:
    """HTML parse mode reserves <, > and &; model texts contain '&'."""
    return html.escape(text, quote=False)


def visible(html_text: str) -> str:
    """What the user reads: the HTML without tags, with entities as characters."""
    return html.unescape(_TAG.sub("", html_text))


def telegram_length(text: str) -> int:
    """Telegram counts UTF-16 code units (an emoji outside the BMP counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def visible_length(html_text: str) -> int:
    return telegram_length(visible(html_text))


def truncate(text: str, limit: int) -> str:
    """Plain text cut to `limit` (Telegram's count), with an ellipsis when cut."""
    if telegram_length(text) <= limit:
        return text
    return _split_plain(text, limit - 1)[0].rstrip() + "…"


def _split_plain(text: str, limit: int) -> list[str]:
    """Plain text in pieces of at most `limit` UTF-16 units, never splitting a character."""
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for char in text:
        width = telegram_length(char)
        if current and size + width > limit:
            parts.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    if current:
        parts.append("".join(current))
    return parts


def chunk(lines: Sequence[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """HTML lines (each closes its own tags) joined into messages of at most `limit` visible
    characters, cut between lines; a single longer line is cut hard as plain text.

    Worked out once per text: a question's lines are the same for everyone who reaches it, and
    measuring them is a good part of what rendering a question costs."""
    return list(_chunk(tuple(lines), limit))


@lru_cache(maxsize=1024)
def _chunk(lines: tuple[str, ...], limit: int) -> tuple[str, ...]:
    pieces: list[str] = []
    for line in lines:
        if visible_length(line) <= limit:
            pieces.append(line)
            continue
        pieces += [esc(part) for part in _split_plain(visible(line), limit)]
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for piece in pieces:
        length = visible_length(piece)
        added = length + (1 if current else 0)
        if current and size + added > limit:
            chunks.append("\n".join(current).strip("\n"))
            current, size, added = [], 0, length
        current.append(piece)
        size += added
    if current:
        chunks.append("\n".join(current).strip("\n"))
    return tuple(c for c in chunks if c.strip()) or ("",)


def callback(payload: str) -> str:
    """A payload as callback_data; the model schema keeps ids short enough, this proves it."""
    if not payload or len(payload.encode("utf-8")) > CALLBACK_LIMIT:
        raise ValueError(f"callback_data must be 1-{CALLBACK_LIMIT} bytes: {payload!r}")
    return payload


def toast(text: str) -> str:
    """A callback answer (the short notice on top of the chat) within Telegram's 200 chars."""
    return truncate(text, TOAST_LIMIT)


# ---- keyboards -----------------------------------------------------------------------------------
def button(text: str, payload: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=callback(payload))


def numbered(choices: Sequence[Choice]) -> bool:
    """Whether the choices are listed in the text with number buttons (a label is too long)."""
    return any(len(c.label) > LABEL_ON_BUTTON for c in choices)


def choice_rows(choices: Sequence[Choice]) -> list[list[InlineKeyboardButton]]:
    """One button per short choice; number buttons in even rows when labels are long."""
    if not choices:
        return []
    if not numbered(choices):
        return [[button(c.label, c.payload)] for c in choices]
    buttons = [button(str(i), c.payload) for i, c in enumerate(choices, 1)]
    rows = math.ceil(len(buttons) / NUMBERS_PER_ROW)
    per_row = math.ceil(len(buttons) / rows)
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


def choice_lines(choices: Sequence[Choice]) -> list[str]:
    if not numbered(choices):
        return []
    return [""] + [f"<b>{i}.</b> {esc(c.label)}" for i, c in enumerate(choices, 1)]


def markup(rows: Sequence[Sequence[InlineKeyboardButton]]) -> InlineKeyboardMarkup | None:
    return InlineKeyboardMarkup([list(r) for r in rows if r]) if any(rows) else None


def messages(lines: Sequence[str], rows: Sequence[Sequence[InlineKeyboardButton]] = ()):
    """Lines as one or more messages; the keyboard goes under the last one."""
    chunks = chunk(lines)
    keyboard = markup(rows)
    return [
        TelegramMessage(text, keyboard if i == len(chunks) - 1 else None)
        for i, text in enumerate(chunks)
    ]


# ---- replies -------------------------------------------------------------------------------------
def messages_for(reply: Say | Ask | ResultCard, lang: str) -> list[TelegramMessage]:
    """A reply as new chat messages. (Answered edits a message instead: `answered_text`.)"""
    if isinstance(reply, Ask):
        return ask_messages(reply, lang)
    if isinstance(reply, ResultCard):
        return result_messages(reply)
    return say_messages(reply)


def say_messages(reply: Say) -> list[TelegramMessage]:
    first = ("⚠️ " if reply.is_error else "") + esc(reply.text)
    lines = [*first.split("\n"), *choice_lines(reply.choices)]
    return messages(lines, choice_rows(reply.choices))


def ask_messages(reply: Ask, lang: str) -> list[TelegramMessage]:
    lines = [f"<i>{esc(reply.header)}</i>", f"<b>{esc(reply.text)}</b>"]
    if reply.help:
        lines.append(f"<i>{esc(reply.help)}</i>")
    lines += choice_lines(reply.choices)
    rows = choice_rows(reply.choices)
    rows.append(navigation_row(reply.extra_choices, lang))
    return messages(lines, rows)


def navigation_row(extra: Sequence[Choice], lang: str) -> list[InlineKeyboardButton]:
    """Back, skip (where the core offers it) and pause under a question, as buttons: typing
    /back works too, but a button is where the thumb already is."""
    back, stop = _back_and_stop(lang)
    return [back, *(button(c.label, c.payload) for c in extra), stop]


@lru_cache(maxsize=len(LANGUAGES))
def _back_and_stop(lang: str) -> tuple[InlineKeyboardButton, InlineKeyboardButton]:
    """The same two buttons under every question (PTB's buttons are immutable, so shared)."""
    return (
        button(tt("back_button", lang), payload_command(Kind.BACK)),
        button(tt("stop_button", lang), payload_command(Kind.STOP)),
    )


def result_messages(card: ResultCard) -> list[TelegramMessage]:
    """Phase, explanation, holding-back answers and next actions; the chart is a separate photo."""
    lines = [f"<b>{esc(card.title)}</b>", esc(card.summary)]
    if card.pillar_levels:
        lines.append("")
        lines += [
            f"<code>{bar(level, total)}</code> {esc(name)}: <b>{esc(level_name)}</b>"
            for name, level_name, level, total in card.pillar_levels
        ]
    if card.explanation:
        lines.append("")
        lines += [f"<i>{esc(line)}</i>" for line in card.explanation]
    for section in card.sections:
        lines += ["", f"<b>{esc(section.header)}</b>"]
        lines += [f"• {esc(line)}" for line in section.lines]
    lines += ["", f"<i>{esc(card.footer)}</i>"]
    return messages(lines, choice_rows(card.follow_up))


def answered_text(reply: Answered) -> str:
    """What a question message becomes once answered: question and answer, no buttons, so the
    chat reads as a clean transcript."""
    return chunk([f"✓ {esc(reply.text)}"])[0]


def settled_text(html_text: str, label: str | None) -> str:
    """A pressed message's text with what was pressed as a note (its buttons go: after a menu
    choice, back or pause they would only produce 'stale' presses)."""
    if not label:
        return html_text
    settled = f"{html_text}\n\n→ <i>{esc(label)}</i>"
    return settled if visible_length(settled) <= MESSAGE_LIMIT else html_text


def pressed_label(keyboard: InlineKeyboardMarkup | None, data: str, text: str | None = None):
    """The text on the button that carries `data`, for the settled message's note; for a
    number button, the numbered line of the message `text` it stands for."""
    if keyboard is None:
        return None
    for row in keyboard.inline_keyboard:
        for key in row:
            if key.callback_data == data:
                return _numbered_line(text or "", key.text) or key.text
    return None


def _numbered_line(text: str, number: str) -> str | None:
    if not number.isdigit():
        return None
    prefix = f"{number}. "
    return next((line[len(prefix) :] for line in text.split("\n") if line.startswith(prefix)), None)


def chart_caption(title: str) -> str:
    return esc(truncate(title, CAPTION_LIMIT))


# ---- the adapter's own messages ------------------------------------------------------------------
def notice(text: str) -> TelegramMessage:
    """A plain adapter message (confirmations, notices)."""
    return messages(esc(text).split("\n"))[0]


def notices(text: str) -> list[TelegramMessage]:
    """A plain text of any length (a team report, a group reply), as one or more messages."""
    return messages(esc(text).split("\n"))


def join_messages(text: str, label: str) -> list[TelegramMessage]:
    """A group message ending in the pulse's join button (a bot cannot list a group's members,
    so pressing it is how a member asks for the pulse)."""
    return messages(esc(text).split("\n"), [[button(label, DATA_PULSE_JOIN)]])


def forget_confirm(lang: str) -> TelegramMessage:
    """Erasure asks first: one stray /forget must not wipe a year of results."""
    rows = [
        [button(tt("forget_yes", lang), DATA_FORGET_YES)],
        [button(tt("forget_no", lang), DATA_FORGET_NO)],
    ]
    return TelegramMessage(esc(tt("forget_confirm", lang)), markup(rows))


def language_choice(lang: str) -> TelegramMessage:
    """/lang without a language: one button per language, named in itself."""
    rows = [[button(LANGUAGE_NAMES.get(code, code), DATA_LANG + code)] for code in LANGUAGES]
    return TelegramMessage(esc(tt("language_prompt", lang)), markup(rows))


def private_notice(lang: str, username: str | None) -> TelegramMessage:
    """For a group: assessments are private, here is the way to the private chat."""
    link = f"https://t.me/{username}" if username else None
    return link_notice(tt("private_only", lang), lang, link)


def link_notice(text: str, lang: str, link: str | None) -> TelegramMessage:
    """A notice with a button that opens the private chat with the bot (`link`: t.me/...)."""
    rows = [[InlineKeyboardButton(tt("private_button", lang), url=link)]] if link else []
    return TelegramMessage(esc(text), markup(rows))


def own_action(data: str) -> tuple[str, str] | None:
    """('forget', 'yes') for the adapter's own buttons; None for the core's payloads."""
    if not data.startswith(OWN_PREFIX):
        return None
    action, _, value = data.removeprefix(OWN_PREFIX).partition(":")
    return action, value


def command_menu(lang: str) -> list[BotCommand]:
    """The command list Telegram shows for `lang` (setMyCommands with language_code): in
    Dutch with the Dutch names, as the Dutch help gives them."""
    menu = []
    for name in COMMAND_MENU:
        shown = DUTCH_COMMANDS.get(name, name) if lang == "nl" else name
        if shown is not None:
            menu.append(BotCommand(shown, tt(f"cmd_{name}", lang)))
    return menu
