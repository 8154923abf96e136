"""One turn's replies as few Slack messages as Slack allows: pure functions, no I/O.

Why: every chat.postMessage is a Web API call, paced at a workspace-wide few per second for a
pulse (bot/slack/pacing.py) and a round trip and CPU on every answer. A pulse invitation was
three messages (the invitation, the model's intro, the first question), so a round cost three
posts per member; an answer with a note before the next question cost two. Now consecutive
replies share one message:

- texts, notes and the confirmation of a typed answer gather in order;
- the first reply with buttons (a question, a menu, a result with its follow-up) closes the
  message, so its buttons are at the bottom where a question's answers belong, action and block
  ids stay unique, and a press settles exactly one message; a divider sets it off from the text
  before it;
- a chart is a file, uploaded after the message it belongs to, so it closes the message too;
- a message is split only where Slack's limit of 50 blocks would be passed (each section is
  already at most 3000 characters, bot/slack/render.py).

The top-level `text` (notifications, screen readers) is every part's fallback in order. When a
question that shares its message with text before it is answered, only the question's part
becomes the answer (`answered_update`): the invitation above it stays.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from bot.channel import Chart
from bot.slack.render import (
    FALLBACK_TEXT,
    MESSAGE_BLOCKS,
    QUESTION_BLOCK,
    SlackMessage,
    answered_message,
    message_for,
    notification,
    truncate,
    unescape,
)
from flows.replies import Answered, Reply, ResultCard, Say

Sent = SlackMessage | Chart
"""What a turn sends, in order: a message (chat.postMessage) or a chart (a file upload)."""


def turn_messages(replies: Iterable[Reply], lang: str) -> list[Sent]:
    """The replies of one turn (the pressed message already settled) as the messages and
    charts to send, in order."""
    sent: list[Sent] = []
    parts: list[SlackMessage] = []
    for reply in replies:
        part = answered_message(reply) if isinstance(reply, Answered) else message_for(reply, lang)
        parts.append(part)
        chart = reply.chart if isinstance(reply, Say | ResultCard) else None
        if chart is not None or interactive(part):
            sent += pack(parts)
            parts = []
        if chart is not None:
            sent.append(chart)
    return sent + pack(parts)


def interactive(message: SlackMessage) -> bool:
    """Whether the message has something to press: then nothing may follow it in its message."""
    return any(b.get("type") == "actions" or "accessory" in b for b in message.blocks)


def pack(parts: Sequence[SlackMessage]) -> list[SlackMessage]:
    """Consecutive parts as few messages of at most 50 blocks as they fit in, in order; a part
    that is too long by itself is cut into messages of 50 blocks."""
    messages: list[SlackMessage] = []
    blocks: list[dict[str, Any]] = []
    texts: list[str] = []
    for part in parts:
        divider = [{"type": "divider"}] if blocks and interactive(part) else []
        if blocks and len(blocks) + len(divider) + len(part.blocks) <= MESSAGE_BLOCKS:
            blocks += [*divider, *part.blocks]
            texts.append(part.text)
            continue
        if blocks:
            messages.append(merged(texts, blocks))
        blocks, texts = list(part.blocks), [part.text]
        while len(blocks) > MESSAGE_BLOCKS:
            messages.append(merged(texts, blocks[:MESSAGE_BLOCKS]))
            blocks = blocks[MESSAGE_BLOCKS:]
    if blocks or texts:
        messages.append(merged(texts, blocks))
    return messages


def merged(texts: Sequence[str], blocks: Sequence[dict[str, Any]]) -> SlackMessage:
    """One message of several parts. The parts' texts are escaped: unescaped before joining
    and escaped once after, so a cut never halves an entity and nothing is escaped twice."""
    if len(texts) == 1:
        return SlackMessage(texts[0], tuple(blocks))
    return SlackMessage(notification("\n\n".join(unescape(t) for t in texts)), tuple(blocks))


def answered_update(blocks: Sequence[dict[str, Any]], answered: Answered) -> SlackMessage:
    """What a pressed question's message becomes once answered: the question's part becomes
    "✓ question → answer" without buttons; whatever came before it in the same message (an
    invitation, a note, an earlier typed answer) stays as it was."""
    own = answered_message(answered)
    start = next((i for i, b in enumerate(blocks) if b.get("block_id") == QUESTION_BLOCK), 0)
    kept = list(blocks[:start])
    if not kept:
        return own
    before = "\n".join(unescape(text) for text in block_texts(kept))
    answer = f"✓ {answered.text}"
    if not before:
        return SlackMessage(own.text, (*kept, *own.blocks))
    room = max(FALLBACK_TEXT - len(answer) - 2, 1)  # the answer is never what is cut off
    text = notification(f"{truncate(before, room)}\n\n{answer}")
    return SlackMessage(text, (*kept, *own.blocks))


def block_texts(blocks: Iterable[dict[str, Any]]) -> list[str]:
    """The texts a user reads in sections, headers and context blocks (as sent: mrkdwn)."""
    texts: list[str] = []
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict) and isinstance(text.get("text"), str):
            texts.append(text["text"])
        for element in block.get("elements") or ():
            if block.get("type") == "context" and isinstance(element.get("text"), str):
                texts.append(element["text"])
    return texts
