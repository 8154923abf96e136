"""Neutral replies: what the bot says, before any channel decides how it looks.

Texts are already in the user's language; adapters only choose the form (buttons or numbered
lines, Block Kit or plain text). `plain_text` is the fallback every text-only channel uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Choice:
    label: str
    payload: str


@dataclass(frozen=True)
class MatrixChart:
    """The initiatives matrix as a picture; rendered by the channel side (matplotlib in bot/)."""

    title: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: tuple[tuple[tuple[str, ...], ...], ...]
    """cells[row][column]: the initiative names in that cell."""
    key: str


@dataclass(frozen=True)
class Say:
    """A message, optionally with choices (a menu) or a picture."""

    text: str
    choices: tuple[Choice, ...] = ()
    is_error: bool = False
    chart: MatrixChart | None = None


@dataclass(frozen=True)
class Ask:
    """One question of an assessment."""

    assessment_id: str
    question_id: str
    header: str
    text: str
    choices: tuple[Choice, ...]
    help: str | None = None
    extra_choices: tuple[Choice, ...] = ()
    """Navigation (skip) shown apart from the answers."""


@dataclass(frozen=True)
class Answered:
    """An answer was stored: channels that can edit messages replace the question's buttons."""

    assessment_id: str
    question_id: str
    text: str


@dataclass(frozen=True)
class ChartSpec:
    """A radar chart of levels per pillar; rendered by the channel side (matplotlib in bot/)."""

    title: str
    labels: tuple[str, ...]
    values: tuple[int, ...]
    """Level per pillar, 1-based."""
    level_names: tuple[str, ...]
    key: str
    """Stable name for the file (assessment id)."""


@dataclass(frozen=True)
class Section:
    header: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class ResultCard:
    """The outcome of an assessment: phase, why, and what to do next."""

    assessment_id: str
    model_id: str
    phase_id: str
    phase_name: str
    title: str
    summary: str
    explanation: tuple[str, ...]
    sections: tuple[Section, ...]
    footer: str
    pillar_levels: tuple[tuple[str, str, int, int], ...] = ()
    """(pillar name, level name, level number 1-based, number of levels) per pillar."""
    chart: ChartSpec | None = None
    follow_up: tuple[Choice, ...] = field(default_factory=tuple)


Reply = Say | Ask | Answered | ResultCard


def bar(level: int, total: int, width: int = 12) -> str:
    """A text bar for a level, for channels without images."""
    filled = round(width * level / total)
    return "█" * filled + "░" * (width - filled)


def plain_text(reply: Reply) -> str:
    """A reply as plain text with numbered options: for terminals and as a fallback."""
    if isinstance(reply, Say):
        lines = [reply.text]
        lines += [f"  {i}. {c.label}" for i, c in enumerate(reply.choices, 1)]
        return "\n".join(lines)
    if isinstance(reply, Ask):
        lines = [reply.header, reply.text]
        if reply.help:
            lines.append(f"({reply.help})")
        lines += [f"  {i}. {c.label}" for i, c in enumerate(reply.choices, 1)]
        lines += [f"  {c.label}: {command_for(c.payload)}" for c in reply.extra_choices]
        return "\n".join(lines)
    if isinstance(reply, Answered):
        return f"✓ {reply.text}"
    lines = [reply.title, reply.summary]
    lines += [
        f"  {name:<32} {bar(level, total)} {level_name}"
        for name, level_name, level, total in reply.pillar_levels
    ]
    lines += reply.explanation
    for section in reply.sections:
        lines.append("")
        lines.append(section.header)
        lines += [f"  - {line}" for line in section.lines]
    for choice in reply.follow_up:
        lines.append(f"→ {choice.label}: {command_for(choice.payload)}")
    lines += ["", reply.footer]
    return "\n".join(lines)


def command_for(payload: str) -> str:
    """The typed command that does what a button does, for channels without buttons."""
    tag, _, rest = payload.partition(":")
    if tag == "m":
        return f"/start {rest}"
    if tag == "c":
        return f"/{rest}"
    if tag == "r":
        return "/remind " + rest.replace(":", " ")
    return payload
