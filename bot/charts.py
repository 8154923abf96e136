"""Charts shared by every channel (a file path, or PNG bytes to upload)."""

from __future__ import annotations

import io
import math
from pathlib import Path

from flows.pulse import PulseChart
from flows.replies import ChartSpec, MatrixChart


def radar_png(spec: ChartSpec) -> bytes:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 6), dpi=100)
    try:
        draw_radar(fig, spec)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight")
    finally:
        fig.clear()
    return buffer.getvalue()


def draw_radar(fig, spec: ChartSpec) -> None:
    """The radar on `fig`, whatever it is saved as (PNG for the chat, SVG for the web pages)."""
    count = len(spec.labels)
    angles = [2 * math.pi * i / count for i in range(count)]
    values = list(spec.values)
    top = len(spec.level_names)
    ax = fig.add_subplot(projection="polar")
    ax.set_theta_offset(math.pi / 2)
    ax.set_theta_direction(-1)
    ax.plot([*angles, angles[0]], [*values, values[0]], color="#1f6feb", linewidth=2)
    ax.fill([*angles, angles[0]], [*values, values[0]], color="#1f6feb", alpha=0.25)
    ax.set_xticks(angles)
    ax.set_xticklabels([wrap(label) for label in spec.labels], fontsize=9)
    ax.tick_params(axis="x", pad=14)
    ax.set_ylim(0, top)
    ax.set_yticks(range(1, top + 1))
    ax.set_yticklabels(spec.level_names, fontsize=8, color="#555555")
    ax.set_title(spec.title, pad=24, fontsize=12)


def matrix_png(spec: MatrixChart) -> bytes:
    """Objectives down, goals across; each cell shows its initiatives, shaded by how many."""
    from matplotlib.figure import Figure

    counts = [[len(cell) for cell in row] for row in spec.cells]
    width = max(6.0, 1.2 + 2.2 * len(spec.columns))
    fig = Figure(figsize=(width, 4.8), dpi=100)
    try:
        ax = fig.add_subplot()
        top = max(3, max(max(r) for r in counts))
        ax.imshow(counts, cmap="Blues", vmin=0, vmax=top, aspect="auto")
        ax.set_xticks(range(len(spec.columns)))
        ax.set_xticklabels([wrap(c, 18) for c in spec.columns], fontsize=9)
        ax.set_yticks(range(len(spec.rows)))
        ax.set_yticklabels(spec.rows, fontsize=10)
        ax.xaxis.tick_top()
        for r, row in enumerate(spec.cells):
            for c, names in enumerate(row):
                if names:
                    ax.text(
                        c,
                        r,
                        "\n".join(wrap(n, 18) for n in names[:3]),
                        ha="center",
                        va="center",
                        fontsize=8,
                    )
        ax.set_title(spec.title, pad=36, fontsize=12)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight")
    finally:
        fig.clear()
    return buffer.getvalue()


def pulse_png(spec: PulseChart) -> bytes:
    """Left: how the respondents spread over the phases; right: the team's median over rounds."""
    from matplotlib.figure import Figure

    labels = [wrap(label, 14) for label in spec.phase_labels]
    fig = Figure(figsize=(10, 4.2), dpi=100)
    try:
        left = fig.add_subplot(1, 2, 1)
        left.bar(range(len(labels)), spec.distribution, color="#1f6feb")
        left.set_xticks(range(len(labels)))
        left.set_xticklabels(labels, fontsize=8)
        left.set_ylabel(spec.count_label, fontsize=9)
        left.yaxis.get_major_locator().set_params(integer=True)
        right = fig.add_subplot(1, 2, 2)
        if spec.trend:
            right.plot(
                [d for d, _ in spec.trend],
                [m + 1 for _, m in spec.trend],
                marker="o",
                color="#1f6feb",
            )
        levels = len(spec.level_names)
        right.set_ylim(0.5, levels + 0.5)
        right.set_yticks(range(1, levels + 1))
        right.set_yticklabels([wrap(name, 14) for name in spec.level_names], fontsize=8)
        right.tick_params(axis="x", labelrotation=30, labelsize=8)
        fig.suptitle(spec.title, fontsize=12)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight")
    finally:
        fig.clear()
    return buffer.getvalue()


def save_radar(spec: ChartSpec, directory: Path) -> Path:
    return save_png(radar_png(spec), directory, f"radar-{spec.key}.png")


def save_matrix(spec: MatrixChart, directory: Path) -> Path:
    return save_png(matrix_png(spec), directory, f"{spec.key}.png")


def save_png(data: bytes, directory: Path, name: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(data)
    return path


def wrap(label: str, width: int = 16) -> str:
    """A label broken into lines of about `width` characters (for ticks and legends)."""
    words, lines, line = label.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines)
