"""Typed text made safe to store and to echo: one function, applied where text enters the domain.

Text a person types reaches a terminal (the console), a database and other people's chats.
Terminal escape sequences would recolour, hide or rewrite the console's output (or plant a
hyperlink); NUL and other control characters break line-based tools and logs; Unicode bidi
overrides and isolates make a name read differently from what it is (the "Trojan Source"
trick); lone surrogates cannot even be stored in SQLite. None of them carries meaning in an
initiative name or an answer, so they are removed, not escaped. Newlines and tabs are kept
by `clean_text` (a message may have several lines); `one_line` is for fields that are one line.

Escaping for a channel's markup (Slack mrkdwn, Telegram HTML) is a different job, done where
the text is rendered: the same clean text is safe in every channel only once escaped for it.
"""

from __future__ import annotations

import re
import unicodedata

BIDI_CONTROLS = frozenset(
    "\u061c"  # Arabic letter mark
    "\u200e\u200f"  # left-to-right / right-to-left mark
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings, pop, overrides
    "\u2066\u2067\u2068\u2069"  # isolates
)
"""Invisible characters that reorder how the text around them is displayed."""

KEPT_WHITESPACE = frozenset("\n\t")

_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, erasing (ESC [ ... m)
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC: window titles, hyperlinks (ESC ] ... BEL)
    r"|\x1b[PX^_][^\x1b]*\x1b\\"  # DCS, SOS, PM, APC strings (ESC P ... ESC \)
    r"|\x1b[ -/]*[0-~]"  # the other escape sequences (ESC c resets the terminal)
)
_LINE_BREAK = re.compile(r"\r\n?|[\u2028\u2029\x85]")
_WHITESPACE_RUN = re.compile(r"\s+")


def _unsafe(char: str) -> bool:
    if char in KEPT_WHITESPACE:
        return False
    # Cc: C0 and C1 controls, DEL, NUL; Cs: lone surrogates (not storable as UTF-8)
    return char in BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cs")


def clean_text(text: str) -> str:
    """`text` without escape sequences, control characters (newlines and tabs stay, any line
    break becomes a newline) and bidi controls. Idempotent; ordinary text comes out unchanged."""
    text = _LINE_BREAK.sub("\n", text)
    text = _ESCAPE_SEQUENCE.sub("", text)
    return "".join(char for char in text if not _unsafe(char))


def one_line(text: str) -> str:
    """`clean_text` for a one-line field (a name, a goal): any run of whitespace, newlines and
    tabs included, becomes one space, and the ends are trimmed."""
    return _WHITESPACE_RUN.sub(" ", clean_text(text)).strip()
