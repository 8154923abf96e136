"""The Slack App Home tab as Block Kit: a pure function of the models and the user's results, so
the view is unit-tested and its digest (what decides whether to publish) is stable.

Kept apart from bot/slack/render.py (messages) because the Home tab is a view, not a message:
its own limit (100 blocks) and its own action ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.slack.render import HEADER_TEXT, SECTION_TEXT, escape, mrkdwn, plain, sections, truncate
from bot.slack.texts import st
from flows.i18n import t
from flows.model_schema import MaturityModel
from flows.results import PastResult, phase_name

ACTION_HOME_START = "mb:home:"
"""+ model id: a start button in the App Home tab."""
HOME_BLOCKS = 100
HOME_HISTORY = 20
"""History lines in the Home tab; /maturity history shows them all."""


def home_view(
    models: Mapping[str, MaturityModel], history: Sequence[PastResult], lang: str
) -> dict[str, Any]:
    """The Home tab: per model the latest result and a start button, then the history."""
    latest: dict[str, PastResult] = {}
    for past in history:  # newest first
        latest.setdefault(past.model_id, past)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(st("home_title", lang), HEADER_TEXT)},
        *sections(mrkdwn(st("home_intro", lang))),
        {"type": "divider"},
        {"type": "header", "text": plain(st("home_models", lang), HEADER_TEXT)},
    ]
    for model in models.values():
        line = t(
            "model_line",
            lang,
            name=model.name.get(lang),
            author=model.author,
            year=model.year,
            count=len(model.questions),
        )
        past = latest.get(model.id)
        if past is None:
            status = st("home_not_taken", lang)
        else:
            status = st(
                "home_latest",
                lang,
                phase=escape(phase_name(model, past.result.phase_id, lang)),
                date=past.finished_at[:10],
            )
        blocks.append(
            {
                "type": "section",
                "block_id": f"model:{model.id}",
                "text": {
                    "type": "mrkdwn",
                    "text": truncate(f"*{escape(line)}*\n{status}", SECTION_TEXT),
                },
                "accessory": {
                    "type": "button",
                    "action_id": f"{ACTION_HOME_START}{model.id}",
                    "text": plain(st("home_start", lang)),
                    "value": model.id,
                    "style": "primary",
                },
            }
        )
    blocks += [
        {"type": "divider"},
        {"type": "header", "text": plain(st("home_history", lang), HEADER_TEXT)},
    ]
    lines = []
    for past in history[:HOME_HISTORY]:
        model = models.get(past.model_id)
        if model is None:
            continue
        lines.append(
            escape(
                t(
                    "history_line",
                    lang,
                    date=past.finished_at[:10],
                    model=model.name.get(lang),
                    phase=phase_name(model, past.result.phase_id, lang),
                )
            )
        )
    blocks += sections("\n".join(lines) if lines else escape(st("home_history_empty", lang)))
    return {"type": "home", "blocks": blocks[:HOME_BLOCKS]}
