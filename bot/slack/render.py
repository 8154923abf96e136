"""Neutral replies as Slack Block Kit: pure functions, no I/O, so every layout is unit-tested.

The adapter (bot/slack/app.py) only decides where a message goes; how it looks is decided here.
Slack's limits shape the layout (https://docs.slack.dev/reference/block-kit): a button or select
option shows at most 75 characters, a section 3000, a header 150, an actions block 25 elements,
a message 50 blocks and a Home view 100. Option labels of the models run up to ~90 characters,
so when a label would be cut, the full options are listed numbered above the buttons.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.slack.texts import st
from flows.events import COMMANDS, Kind, payload_command
from flows.replies import Answered, Ask, Choice, Reply, ResultCard, Say, bar, plain_text

SLASH_COMMAND = "/maturity"

# Action ids: Bolt routes a press by its action_id; the button's value carries the neutral
# payload (flows.events.payload_*), so the adapter turns it back with `from_payload`.
ACTION_PREFIX = "mb:"
ACTION_CHOICE = "mb:choice:"
"""+ the option's index: an answer or menu button."""
ACTION_SELECT = "mb:select"
"""The static select used instead of buttons when there are many choices."""
ACTION_NAV = "mb:nav:"
"""+ back / stop / extra index: navigation under a question."""
ACTION_FORGET_YES = "mb:forget:yes"
ACTION_FORGET_NO = "mb:forget:no"

MAX_BUTTONS = 5
"""More answer options than this become a static select: a wall of buttons is hard to read."""
MAX_FOLLOW_UP_BUTTONS = 8
"""A result's follow-ups (the next model, a reminder, the board report) are short and read as
one row of buttons up to this many; a select would hide them behind a click."""
BUTTON_TEXT = 75
HEADER_TEXT = 150
SECTION_TEXT = 3000
FALLBACK_TEXT = 3000
MESSAGE_BLOCKS = 50
QUESTION_BLOCK = "question"
"""The block_id of a question's first block: where a message that holds more than the
question (bot/slack/compose.py) is cut when the question is answered."""

_COMMAND_WORD = re.compile(r"(?<![\w/])/([a-z]+)\b")


@dataclass(frozen=True)
class SlackMessage:
    """The arguments of a chat.postMessage / chat.update: fallback text and blocks."""

    text: str
    blocks: tuple[dict[str, Any], ...]

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": list(self.blocks)}


# ---- text helpers ------------------------------------------------------------------------------
def escape(text: str) -> str:
    """Slack mrkdwn reserves &, < and > (links, mentions); model texts contain '&'. Every text
    we send passes here, the top-level `text` too (Slack parses it for notifications): a
    user's typed `<!channel>` or `<@U123>` then shows as typed and never pings anyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Slack sends typed '&', '<' and '>' escaped; the engine matches answers on the real text."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def slack_commands(text: str) -> str:
    """'/back' -> '/maturity back': Slack reserves a leading slash for slash commands, so the
    core's commands are reached as words after our one command."""

    def replace(match: re.Match[str]) -> str:
        word = match.group(1)
        return f"{SLASH_COMMAND} {word}" if word in COMMANDS else match.group(0)

    return _COMMAND_WORD.sub(replace, text)


def mrkdwn(text: str) -> str:
    return escape(slack_commands(text))


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def plain(text: str, limit: int = BUTTON_TEXT) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text, limit), "emoji": True}


def sections(text: str) -> list[dict[str, Any]]:
    """A mrkdwn text as one or more section blocks of at most 3000 characters, cut at lines."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > SECTION_TEXT:  # one very long line: cut it hard
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:SECTION_TEXT])
            line = line[SECTION_TEXT:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > SECTION_TEXT:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        chunks.append(current)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": chunk}} for chunk in chunks]


def context(*texts: str) -> dict[str, Any]:
    return {
        "type": "context",
        "elements": [
            {"type": "mrkdwn", "text": truncate(text, SECTION_TEXT)} for text in texts[:10]
        ],
    }


def fallback(reply: Reply) -> str:
    """The notification / screen-reader text of a message (Slack shows blocks when present)."""
    return notification(plain_text(reply))


def notification(text: str) -> str:
    """A message's top-level `text`: escaped like the blocks, since Slack parses it for
    mentions too; cut before escaping, so an entity is never cut in half."""
    return escape(truncate(slack_commands(text), FALLBACK_TEXT))


# ---- choices ---------------------------------------------------------------------------------
def choice_blocks(
    choices: Sequence[Choice], block_id: str, placeholder: str, max_buttons: int = MAX_BUTTONS
) -> list[dict[str, Any]]:
    """Buttons for a few short choices; a numbered list plus numbered buttons when a label would
    be cut; a numbered list plus a static select when there are more than `max_buttons`."""
    if not choices:
        return []
    use_select = len(choices) > max_buttons
    numbered = use_select or any(len(c.label) > BUTTON_TEXT for c in choices)
    blocks: list[dict[str, Any]] = []
    if numbered:
        listing = "\n".join(f"*{i}.* {mrkdwn(c.label)}" for i, c in enumerate(choices, 1))
        blocks += sections(listing)
    if use_select:
        element: dict[str, Any] = {
            "type": "static_select",
            "action_id": ACTION_SELECT,
            "placeholder": plain(placeholder),
            "options": [
                {"text": plain(f"{i}. {c.label}"), "value": c.payload}
                for i, c in enumerate(choices[:100], 1)
            ],
        }
        blocks.append({"type": "actions", "block_id": block_id, "elements": [element]})
        return blocks
    buttons = [
        {
            "type": "button",
            "action_id": f"{ACTION_CHOICE}{i}",
            "text": plain(f"{i}. {c.label}" if numbered else c.label),
            "value": c.payload,
        }
        for i, c in enumerate(choices, 1)
    ]
    blocks.append({"type": "actions", "block_id": block_id, "elements": buttons})
    return blocks


def navigation_block(extra: Sequence[Choice], lang: str) -> dict[str, Any]:
    """Back, skip (where the core offers it) and pause under a question: typed /back is not
    possible in Slack, so the DM needs these as buttons."""
    elements = [
        {
            "type": "button",
            "action_id": f"{ACTION_NAV}back",
            "text": plain(st("back_button", lang)),
            "value": payload_command(Kind.BACK),
        }
    ]
    elements += [
        {
            "type": "button",
            "action_id": f"{ACTION_NAV}extra:{i}",
            "text": plain(choice.label),
            "value": choice.payload,
        }
        for i, choice in enumerate(extra)
    ]
    elements.append(
        {
            "type": "button",
            "action_id": f"{ACTION_NAV}stop",
            "text": plain(st("stop_button", lang)),
            "value": payload_command(Kind.STOP),
        }
    )
    return {"type": "actions", "block_id": "nav", "elements": elements}


# ---- replies ---------------------------------------------------------------------------------
def message_for(reply: Say | Ask | ResultCard, lang: str) -> SlackMessage:
    """A reply as a new DM message. (Answered edits a message instead: `answered_message`.)"""
    if isinstance(reply, Ask):
        return ask_message(reply, lang)
    if isinstance(reply, ResultCard):
        return result_message(reply, lang)
    return say_message(reply, lang)


def say_message(reply: Say, lang: str) -> SlackMessage:
    text = mrkdwn(reply.text)
    if reply.is_error:
        text = f":warning: {text}"
    blocks = sections(text)
    blocks += choice_blocks(reply.choices, "choices", st("select_placeholder_menu", lang))
    return SlackMessage(fallback(reply), tuple(blocks))


def ask_message(reply: Ask, lang: str) -> SlackMessage:
    blocks = [{**context(mrkdwn(reply.header)), "block_id": QUESTION_BLOCK}]
    blocks += sections(f"*{mrkdwn(reply.text)}*")
    if reply.help:
        blocks.append(context(mrkdwn(reply.help)))
    blocks += choice_blocks(reply.choices, "answers", st("select_placeholder", lang))
    blocks.append(navigation_block(reply.extra_choices, lang))
    return SlackMessage(fallback(reply), tuple(blocks))


def answered_message(reply: Answered) -> SlackMessage:
    """What a question message becomes once answered: the question and the answer, no buttons,
    so the DM reads as a clean transcript."""
    text = f"✓ {mrkdwn(reply.text)}"
    return SlackMessage(notification(f"✓ {reply.text}"), tuple(sections(text)))


def result_message(card: ResultCard, lang: str) -> SlackMessage:
    """Phase, explanation, holding-back answers and next actions; the chart is a separate file."""
    blocks: list[dict[str, Any]] = [{"type": "header", "text": plain(card.title, HEADER_TEXT)}]
    blocks += sections(mrkdwn(card.summary))
    if card.pillar_levels:
        lines = [
            f"`{bar(level, total)}` {escape(name)}: *{escape(level_name)}*"
            for name, level_name, level, total in card.pillar_levels
        ]
        blocks += sections("\n".join(lines))
    if card.explanation:
        blocks += sections("\n".join(mrkdwn(line) for line in card.explanation))
    for section in card.sections:
        lines = [f"*{mrkdwn(section.header)}*"] + [f"• {mrkdwn(line)}" for line in section.lines]
        blocks += sections("\n".join(lines))
    blocks.append(context(mrkdwn(card.footer)))
    blocks += choice_blocks(
        card.follow_up, "follow_up", st("select_placeholder_menu", lang), MAX_FOLLOW_UP_BUTTONS
    )
    summary = notification(f"{card.title}\n{card.summary}")  # the blocks say the rest
    return SlackMessage(summary, tuple(blocks[:MESSAGE_BLOCKS]))


def text_message(text: str) -> SlackMessage:
    """A plain adapter message (confirmations, notices)."""
    return SlackMessage(notification(text), tuple(sections(mrkdwn(text))))


def settled_message(blocks: Iterable[dict[str, Any]], text: str, note: str | None) -> SlackMessage:
    """A pressed message without its buttons, with what was pressed as a note: after a menu
    choice, back or pause the old buttons would only produce 'stale' answers. `text` is the
    message's text as Slack hands it back (escaped): it is escaped again only after unescaping,
    so nothing turns live and nothing is escaped twice."""
    kept = [block for block in blocks if block.get("type") != "actions"]
    text = escape(unescape(text))
    if note:
        kept.append(context(f"→ {escape(note)}"))
    if not kept:
        kept = sections(text or "…")
    return SlackMessage(text or "…", tuple(kept))


def forget_confirm_message(lang: str) -> SlackMessage:
    """Erasure asks first: one stray `/maturity forget` must not wipe a year of results."""
    buttons = [
        {
            "type": "button",
            "action_id": ACTION_FORGET_YES,
            "style": "danger",
            "text": plain(st("forget_yes", lang)),
            "value": "yes",
        },
        {
            "type": "button",
            "action_id": ACTION_FORGET_NO,
            "text": plain(st("forget_no", lang)),
            "value": "no",
        },
    ]
    text = st("forget_confirm", lang)
    blocks = sections(escape(text)) + [
        {"type": "actions", "block_id": "forget", "elements": buttons}
    ]
    return SlackMessage(escape(text), tuple(blocks))
