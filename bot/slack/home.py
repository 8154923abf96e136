"""The Slack App Home tab as Block Kit: a pure function of the models and the user's results, so
the view is unit-tested and its digest (what decides whether to publish) is stable.

Kept apart from bot/slack/render.py (messages) because the Home tab is a view, not a message:
its own limit (100 blocks), its own action ids, and it is published only when it changed
(`view_digest`, compared by bot/slack/app.py with the digest of the view published last).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from bot.slack.render import (
    HEADER_TEXT,
    SECTION_TEXT,
    context,
    escape,
    mrkdwn,
    plain,
    sections,
    truncate,
)
from bot.slack.texts import st
from flows.engine_data import HistoryPage
from flows.events import payload_history
from flows.i18n import t
from flows.model_schema import MaturityModel
from flows.results import PastResult, phase_name

ACTION_HOME_START = "mb:home:"
"""+ model id: a start button in the App Home tab."""
ACTION_HOME_OLDER = "mb:older"
"""The Home tab's "older results" button: its value is /history's next page (flows.events)."""
HOME_BLOCKS = 100


def home_view(
    models: Mapping[str, MaturityModel],
    latest: Sequence[PastResult],
    recent: HistoryPage,
    lang: str,
    extra: Sequence[dict[str, Any]] = (),
    dashboard: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The Home tab: per model its latest result (`latest`: one per model) and a start button,
    then the newest page of the history (`recent`) and, when there is more, the way to it;
    `extra` blocks last (a workspace admin's settings), never cut off by the block limit;
    `dashboard` blocks (bot/slack/dashboard.py's button) under the introduction."""
    newest = {past.model_id: past for past in reversed(latest)}  # the newest wins
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(st("home_title", lang), HEADER_TEXT)},
        *sections(mrkdwn(st("home_intro", lang))),
        *dashboard,
        {"type": "divider"},
        {"type": "header", "text": plain(st("home_models", lang), HEADER_TEXT)},
    ]
    blocks += [model_block(model, newest.get(model.id), lang) for model in models.values()]
    blocks += [
        {"type": "divider"},
        {"type": "header", "text": plain(st("home_history", lang), HEADER_TEXT)},
    ]
    blocks += history_blocks(models, recent, lang)
    return {"type": "home", "blocks": blocks[: HOME_BLOCKS - len(extra)] + list(extra)}


def model_block(model: MaturityModel, past: PastResult | None, lang: str) -> dict[str, Any]:
    """A model's line, its latest result (or "not taken yet") and its start button."""
    line = t(
        "model_line",
        lang,
        name=model.name.get(lang),
        author=model.author,
        year=model.year,
        count=len(model.questions),
    )
    if past is None:
        status = st("home_not_taken", lang)
    else:
        status = st(
            "home_latest",
            lang,
            phase=escape(phase_name(model, past.result.phase_id, lang)),
            date=past.finished_at[:10],
        )
    return {
        "type": "section",
        "block_id": f"model:{model.id}",
        "text": {"type": "mrkdwn", "text": truncate(f"*{escape(line)}*\n{status}", SECTION_TEXT)},
        "accessory": {
            "type": "button",
            "action_id": f"{ACTION_HOME_START}{model.id}",
            "text": plain(st("home_start", lang)),
            "value": model.id,
            "style": "primary",
        },
    }


def history_blocks(
    models: Mapping[str, MaturityModel], recent: HistoryPage, lang: str
) -> list[dict[str, Any]]:
    """The newest page of results; with older ones, how many there are and a button that
    shows the next page in the DM (as `/maturity history 2` would)."""
    lines = []
    for past in recent.results:
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
    if not lines:
        return sections(escape(st("home_history_empty", lang)))
    if not recent.has_more:
        return sections("\n".join(lines))
    last = recent.first + len(recent.results) - 1
    header = t("history_page_header", lang, first=recent.first, last=last, total=recent.total)
    button = {
        "type": "button",
        "action_id": ACTION_HOME_OLDER,
        "text": plain(t("history_older_button", lang)),
        "value": payload_history(recent.number + 1),
    }
    return [
        context(escape(header)),
        *sections("\n".join(lines)),
        context(mrkdwn(t("history_more", lang, page=recent.number + 1))),
        {"type": "actions", "block_id": "history_more", "elements": [button]},
    ]


def view_digest(view: dict[str, Any]) -> str:
    """What identifies a published view: equal digests, equal views, so no publish is needed."""
    canonical = json.dumps(view, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
