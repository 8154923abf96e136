"""The terminal channel, run as a real process: piped answers, kill and resume, bad input."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_bot(args, stdin_text, tmp_path, env_extra=None):
    env = {**os.environ, "MATURITY_CHART_DIR": str(tmp_path / "charts"), **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin_text,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )


def console(tmp_path, model_id, lines, lang="en", user="tester"):
    db = tmp_path / "bot.db"
    args = ["console", "--model", model_id, "--lang", lang, "--user", user, "--db", str(db)]
    return run_bot(args, "".join(f"{line}\n" for line in lines), tmp_path)


@pytest.mark.parametrize("model_id", ["groeimodel", "mi-partners", "altimeter", "bmm"])
def test_all_first_options_give_first_phase_and_all_last_the_last(tmp_path, models, model_id):
    model = models[model_id]
    first = console(tmp_path, model_id, ["1"] * len(model.questions), user="first")
    assert first.returncode == 0, first.stderr
    assert f"Result {model.name.en}: {model.phases[0].name.en}" in first.stdout
    last_answers = [str(len(q.options)) for q in model.questions]
    last = console(tmp_path, model_id, last_answers, user="last", lang="nl")
    assert last.returncode == 0, last.stderr
    assert f"Resultaat {model.name.nl}: {model.phases[-1].name.nl}" in last.stdout


def test_one_weak_bmm_pillar_caps_the_level_and_a_chart_is_written(tmp_path, models):
    model = models["bmm"]
    weak = model.pillars[3]
    answers = ["1" if q.pillar == weak.id else str(len(q.options)) for q in model.questions]
    run = console(tmp_path, "bmm", answers)
    assert f"Result {model.name.en}: {model.phases[0].name.en}" in run.stdout
    assert weak.name.en in run.stdout
    chart_line = next(line for line in run.stdout.splitlines() if line.startswith("[chart] "))
    chart = Path(chart_line.removeprefix("[chart] "))
    chart = chart if chart.is_absolute() else tmp_path / chart
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_history_lists_results_newest_first(tmp_path, models):
    console(tmp_path, "groeimodel", ["1"] * len(models["groeimodel"].questions))
    console(tmp_path, "altimeter", ["1"] * len(models["altimeter"].questions))
    run = run_bot(
        ["history", "--user", "tester", "--json", "--db", str(tmp_path / "bot.db")], "", tmp_path
    )
    rows = json.loads(run.stdout)
    assert [r["model_id"] for r in rows] == ["altimeter", "groeimodel"]
    assert rows[0]["phase_id"] == models["altimeter"].phases[0].id
    assert rows[0]["next_actions"][0]["en"] == models["altimeter"].phases[0].next_actions[0].en


def test_killing_the_process_mid_assessment_loses_nothing(tmp_path, models):
    model = models["mi-partners"]
    db = tmp_path / "bot.db"
    args = [
        sys.executable,
        "-m",
        "bot",
        "console",
        "--model",
        model.id,
        "--lang",
        "en",
        "--user",
        "k",
        "--db",
        str(db),
    ]
    proc = subprocess.Popen(
        args,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    seen = []

    def read_until(marker):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            seen.append(line)
            if marker in line:
                return
        raise AssertionError(f"never saw {marker!r}: {''.join(seen)[-2000:]}")

    read_until(f"Question 1 of {len(model.questions)}")
    for number in (2, 3, 4):
        proc.stdin.write("2\n")
        proc.stdin.flush()
        read_until(f"Question {number} of {len(model.questions)}")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    rows = sqlite3.connect(db).execute("select question_id, option_id from answers").fetchall()
    assert len(rows) == 3

    again = run_bot(args[3:], "", tmp_path)
    assert f"Question 4 of {len(model.questions)}" in again.stdout
    assert model.questions[3].text.en in again.stdout
    rest = [str(len(q.options)) for q in model.questions[3:]]
    done = run_bot(args[3:], "".join(f"{a}\n" for a in rest), tmp_path)
    assert "Result" in done.stdout
    answers = sqlite3.connect(db).execute("select count(*) from answers").fetchone()[0]
    assert answers == len(model.questions)


def test_unknown_model_and_bad_database_give_clear_errors(tmp_path):
    run = run_bot(["console", "--model", "nope", "--db", str(tmp_path / "x.db")], "", tmp_path)
    assert run.returncode == 2
    assert "unknown model 'nope'" in run.stderr and "Traceback" not in run.stderr

    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all" * 100)
    run = run_bot(["console", "--db", str(junk)], "", tmp_path)
    assert run.returncode == 2
    assert "not a valid SQLite database" in run.stderr and "Traceback" not in run.stderr

    run = run_bot(["console", "--db", str(tmp_path / "missing" / "x.db")], "", tmp_path)
    assert run.returncode == 2 and "does not exist" in run.stderr

    run = run_bot(["console", "--db", str(tmp_path)], "", tmp_path)
    assert run.returncode == 2 and "is a directory" in run.stderr


def test_unwritable_database_folder(tmp_path):
    if os.geteuid() == 0:  # CI runs as root, who may write anywhere but where the kernel refuses
        locked = Path("/proc")
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
    run = run_bot(["console", "--db", str(locked / "x.db")], "", tmp_path)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "cannot open the database" in run.stderr and run.stderr.count("\n") == 1


def test_menu_without_model_and_quit(tmp_path, models):
    run = run_bot(
        ["console", "--db", str(tmp_path / "m.db"), "--lang", "nl"], "/help\n/quit\n", tmp_path
    )
    assert run.returncode == 0
    assert "Kies een model" in run.stdout
    for model in models.values():
        assert model.name.nl in run.stdout
    assert "/terug" in run.stdout and "/back" not in run.stdout  # Dutch commands in Dutch
