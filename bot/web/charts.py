"""The dashboard's charts: drawn on the server with matplotlib as SVG and inlined in the page, so
they need no script, no file of their own and no external host, and scale on a phone.

Each chart is an `<svg role="img" aria-labelledby=...>` pointing at its text alternative (a
sentence and a data table the page renders beside it). A value the anonymity rule withholds
(a round or a heatmap cell under K) is drawn as a marked gap with the caller's words, never as a
number: the callers pass None there, and none is computed here either.

Charts take words already in the viewer's language (as bot/charts.py does for the chat's PNGs):
nothing here translates. The radar is bot/charts.py's own drawing, saved as SVG.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

from bot.charts import draw_radar, wrap
from flows.replies import ChartSpec

matplotlib.use("Agg")
matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: smaller, and sharp at any size
matplotlib.rcParams["svg.hashsalt"] = "maturity-bot"  # the same chart, the same markup

BLUE = "#1f5fbf"
GREY = "#6b6b6b"
WITHHELD = "#d9d9d9"
MAX_TICKS = 13
"""Dates under a trend at most: every round's date sits in the table beside the chart."""
_ID = re.compile(r'(\bid="|href="#|url\(#)([^")]+)')


@dataclass(frozen=True)
class TrendPoint:
    """One closed round on the trend: its median and spread, or None for both when withheld."""

    label: str
    """Under the round (its date)."""
    median: int | None
    """Phase index (0-based), None when the round was withheld."""
    distribution: tuple[int, ...] = ()
    """Respondents per phase (empty when withheld)."""


def radar_svg(spec: ChartSpec, label_id: str) -> str:
    """A pillar model's result, as the chat's radar (bot/charts.py) but as SVG."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 6))
    draw_radar(fig, spec)
    return _svg(fig, label_id)


def trend_svg(
    points: Sequence[TrendPoint],
    level_names: Sequence[str],
    withheld_label: str,
    label_id: str,
) -> str:
    """The team's phase over rounds: the median as a line, the spread of the answers as a bar
    from the lowest to the highest phase answered with a dot per phase sized by its count; a
    withheld round is a grey band with `withheld_label` and no value."""
    from matplotlib.figure import Figure

    levels = len(level_names)
    fig = Figure(figsize=(min(11.0, max(6.0, 0.5 * len(points) + 3)), 4.2))
    ax = fig.add_subplot()
    xs, medians = [], []
    for x, point in enumerate(points):
        if point.median is None:
            ax.axvspan(x - 0.4, x + 0.4, color=WITHHELD, zorder=0)
            ax.text(x, 0.6, wrap(withheld_label, 10), ha="center", va="bottom", fontsize=8)
            continue
        answered = [i for i, n in enumerate(point.distribution) if n]
        if answered:
            ax.vlines(x, min(answered) + 1, max(answered) + 1, color=GREY, linewidth=6, alpha=0.35)
            ax.scatter(
                [x] * len(answered),
                [i + 1 for i in answered],
                s=[30 + 30 * point.distribution[i] for i in answered],
                color=GREY,
                alpha=0.6,
                zorder=2,
            )
        xs.append(x)
        medians.append(point.median + 1)
    if xs:
        ax.plot(xs, medians, marker="o", color=BLUE, linewidth=2.5, markersize=8, zorder=3)
    ax.set_xlim(-0.6, max(len(points), 1) - 0.4)
    every = max(1, -(-len(points) // MAX_TICKS))  # a readable axis at any number of rounds
    ax.set_xticks(range(0, len(points), every))
    ax.set_xticklabels([p.label for p in points][::every], fontsize=8, rotation=30)
    ax.set_ylim(0.5, levels + 0.5)
    ax.set_yticks(range(1, levels + 1))
    ax.set_yticklabels([wrap(name, 16) for name in level_names], fontsize=8)
    ax.grid(axis="y", color="#e5e5e5")
    _plain(ax)
    return _svg(fig, label_id)


def bars_svg(labels: Sequence[str], values: Sequence[float], maximum: float, label_id: str) -> str:
    """Horizontal bars with their values (per-pillar averages on a 1..maximum scale)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 0.6 * len(labels) + 1.2))
    ax = fig.add_subplot()
    rows = range(len(labels))
    ax.barh(rows, values, color=BLUE)
    for row, value in zip(rows, values, strict=True):
        ax.text(value + maximum * 0.01, row, f"{value:.1f}", va="center", fontsize=9)
    ax.set_yticks(rows)
    ax.set_yticklabels([wrap(label, 22) for label in labels], fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, maximum * 1.08)
    _plain(ax)
    return _svg(fig, label_id)


def columns_svg(labels: Sequence[str], counts: Sequence[int], label_id: str) -> str:
    """Vertical bars with their counts (how answers spread over a model's phases)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(max(5.0, 1.3 * len(labels)), 3.4))
    ax = fig.add_subplot()
    ax.bar(range(len(labels)), counts, color=BLUE)
    for x, count in enumerate(counts):
        ax.text(x, count, str(count), ha="center", va="bottom", fontsize=11)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels([wrap(label, 14) for label in labels], fontsize=10)
    ax.tick_params(axis="y", labelsize=10)
    ax.yaxis.get_major_locator().set_params(integer=True)
    _plain(ax)
    return _svg(fig, label_id)


def heatmap_svg(
    rows: Sequence[str],
    columns: Sequence[str],
    cells: Sequence[Sequence[float | None]],
    maximum: float,
    withheld_labels: Sequence[str],
    label_id: str,
) -> str:
    """Teams down, pillars across, each cell its average level; a withheld cell (None) is grey
    with its row's `withheld_labels` entry, never a number."""
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    fig = Figure(figsize=(max(6.0, 1.2 * len(columns) + 2.2), 0.6 * len(rows) + 1.4))
    ax = fig.add_subplot()
    colours = matplotlib.colormaps["Blues"]
    scale = Normalize(vmin=0, vmax=maximum)
    for r, row in enumerate(cells):
        for c, value in enumerate(row):
            shown = WITHHELD if value is None else colours(scale(value))
            ax.add_patch(matplotlib.patches.Rectangle((c, r), 1, 1, color=shown, ec="white"))
            text = withheld_labels[r] if value is None else f"{value:.1f}"
            dark = value is not None and scale(value) > 0.55
            ax.text(
                c + 0.5,
                r + 0.5,
                wrap(text, 12),
                ha="center",
                va="center",
                fontsize=9 if value is None else 12,
                color="white" if dark else "black",
            )
    ax.set_xlim(0, len(columns))
    ax.set_ylim(len(rows), 0)
    ax.set_xticks([c + 0.5 for c in range(len(columns))])
    ax.set_xticklabels([wrap(name, 14) for name in columns], fontsize=10)
    ax.xaxis.tick_top()
    ax.set_yticks([r + 0.5 for r in range(len(rows))])
    ax.set_yticklabels([wrap(_plain_text(name), 20) for name in rows], fontsize=10)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    return _svg(fig, label_id)


# ---- SVG for inlining -------------------------------------------------------------------------
def _plain_text(text: str) -> str:
    """A name someone typed (a team's), shown as typed: `$` would start matplotlib's maths."""
    return text.replace("$", r"\$")


def _plain(ax) -> None:
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)


def _svg(fig, label_id: str) -> str:
    """The figure as an `<svg>` element for a page: no XML prolog, its ids made unique to this
    chart (several charts share one document), labelled by `label_id`."""
    buffer = io.StringIO()
    try:
        fig.savefig(buffer, format="svg", bbox_inches="tight")
    finally:
        fig.clear()
    markup = buffer.getvalue()
    markup = markup[markup.index("<svg") :]
    markup = re.sub(r"<metadata>.*?</metadata>\s*", "", markup, flags=re.S)
    own = set(re.findall(r'\bid="([^"]+)"', markup))
    prefix = f"{label_id}-"
    markup = _ID.sub(
        lambda m: m.group(1) + (prefix + m.group(2) if m.group(2) in own else m.group(2)), markup
    )
    return markup.replace(
        "<svg ", f'<svg role="img" aria-labelledby="{label_id}" focusable="false" ', 1
    )
