"""Bad environments (issue 9): a wrong setting, a database we must not touch, a full disk.

Each gives one line and exit code 2, or (a full disk while running) a clear reply in the user's
language while the bot keeps going; nothing already stored is lost or half-written. Real SQLite
files, real subprocesses and real file-size limits throughout.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from bot.cli import main
from bot.settings import Settings
from flows.pulse import MIN_RESPONSES_FLOOR

SECRET = "123456:not-to-be-printed-anywhere"


@pytest.fixture
def clean_env(tmp_path, monkeypatch):
    """No .env from the developer's tree and no settings from the developer's shell."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("MATURITY_", "SLACK_", "TELEGRAM_")):
            monkeypatch.delenv(name)
    return monkeypatch


def one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("maturity-bot: error: ")
    return lines[0]


# ---- 1. settings --------------------------------------------------------------------------
BAD_SETTINGS = [
    ("MATURITY_PULSE_MIN_RESPONSES", "abc"),
    ("MATURITY_PULSE_MIN_RESPONSES", "2.5"),
    ("MATURITY_PULSE_MIN_RESPONSES", "5.0"),
    ("MATURITY_PULSE_MIN_RESPONSES", str(MIN_RESPONSES_FLOOR - 1)),
    ("MATURITY_PULSE_MIN_RESPONSES", "-5"),
    ("MATURITY_PULSE_MIN_RESPONSES", ""),
    ("MATURITY_PULSE_DEADLINE_HOURS", "soon"),
    ("MATURITY_PULSE_DEADLINE_HOURS", "-1"),
    ("MATURITY_PULSE_DEADLINE_HOURS", "0"),
    ("MATURITY_PULSE_DEADLINE_HOURS", "nan"),
    ("MATURITY_PULSE_DEADLINE_HOURS", "inf"),
    ("MATURITY_PULSE_DEADLINE_HOURS", "1e300"),
    ("MATURITY_PULSE_REMIND_HOURS", "-0.5"),
    ("MATURITY_PULSE_REMIND_HOURS", "0"),
    ("MATURITY_PULSE_REMIND_HOURS", "NaN"),
    ("MATURITY_PULSE_REMIND_HOURS", "-inf"),
    ("MATURITY_MAX_BODY_BYTES", "1023"),
    ("MATURITY_MAX_BODY_BYTES", "67108865"),
    ("MATURITY_MAX_BODY_BYTES", "1.5"),
    ("MATURITY_MAX_BODY_BYTES", "lots"),
    ("MATURITY_TIMEZONE", "Mars/Olympus_Mons"),
    ("MATURITY_TIMEZONE", "../../etc/passwd"),
    ("MATURITY_LANG", "fr"),
]


@pytest.mark.parametrize("command", ["models", "console"])
@pytest.mark.parametrize(("name", "value"), BAD_SETTINGS)
def test_a_bad_setting_stops_every_command_with_one_line(
    clean_env, tmp_path, capsys, command, name, value
):
    clean_env.setenv(name, value)
    clean_env.setattr(sys, "stdin", io.StringIO("1\n"))
    db = tmp_path / "never.db"
    assert main([command, "--db", str(db)]) == 2
    line = one_error_line(capsys)
    assert name in line
    assert not db.exists()  # refused before anything was made


def test_the_line_says_what_is_allowed(clean_env, capsys):
    clean_env.setenv("MATURITY_PULSE_MIN_RESPONSES", "2.5")
    assert main(["models"]) == 2
    assert f"whole number of at least {MIN_RESPONSES_FLOOR}" in one_error_line(capsys)
    clean_env.setenv("MATURITY_PULSE_MIN_RESPONSES", "5")
    clean_env.setenv("MATURITY_PULSE_DEADLINE_HOURS", "soon")
    assert main(["models"]) == 2
    assert "number of hours above 0" in one_error_line(capsys)
    clean_env.setenv("MATURITY_PULSE_DEADLINE_HOURS", "48")
    clean_env.setenv("MATURITY_MAX_BODY_BYTES", "12")
    assert main(["models"]) == 2
    assert "from 1024 to 67108864" in one_error_line(capsys)


def test_two_bad_settings_are_still_one_line_and_no_secret_is_echoed(clean_env, capsys):
    clean_env.setenv("TELEGRAM_BOT_TOKEN", SECRET)
    clean_env.setenv("SLACK_SIGNING_SECRET", SECRET)
    clean_env.setenv("MATURITY_PULSE_MIN_RESPONSES", "abc")
    clean_env.setenv("MATURITY_PULSE_REMIND_HOURS", "nan")
    assert main(["models"]) == 2
    line = one_error_line(capsys)
    assert "MATURITY_PULSE_MIN_RESPONSES" in line and "MATURITY_PULSE_REMIND_HOURS" in line
    assert SECRET not in line


def test_a_bad_setting_in_the_env_file_is_named_too(clean_env, tmp_path, capsys):
    (tmp_path / ".env").write_text(
        f"TELEGRAM_BOT_TOKEN={SECRET}\nMATURITY_PULSE_DEADLINE_HOURS=tomorrow\n", "utf-8"
    )
    assert main(["models"]) == 2
    line = one_error_line(capsys)
    assert "MATURITY_PULSE_DEADLINE_HOURS" in line and SECRET not in line


def test_the_anonymity_floor_itself_and_the_limits_are_accepted(clean_env, capsys):
    clean_env.setenv("MATURITY_PULSE_MIN_RESPONSES", str(MIN_RESPONSES_FLOOR))
    clean_env.setenv("MATURITY_PULSE_DEADLINE_HOURS", "0.5")
    clean_env.setenv("MATURITY_PULSE_REMIND_HOURS", "8760")
    clean_env.setenv("MATURITY_MAX_BODY_BYTES", "1024")
    clean_env.setenv("MATURITY_TIMEZONE", "America/New_York")
    clean_env.setenv("MATURITY_LANG", "nl_NL")
    assert main(["models"]) == 0
    assert capsys.readouterr().err == ""
    settings = Settings()
    assert settings.maturity_pulse_min_responses == MIN_RESPONSES_FLOOR
    assert settings.maturity_max_body_bytes == 1024


def test_a_bad_setting_in_a_real_process_is_one_line_and_exit_2(tmp_path):
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("MATURITY_", "SLACK_", "TELEGRAM_"))
    }
    env["MATURITY_PULSE_MIN_RESPONSES"] = "2.5"
    env["TELEGRAM_BOT_TOKEN"] = SECRET
    run = subprocess.run(
        [sys.executable, "-m", "bot", "models"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert run.returncode == 2
    assert run.stdout == ""
    assert len(run.stderr.splitlines()) == 1, run.stderr
    assert "MATURITY_PULSE_MIN_RESPONSES" in run.stderr and SECRET not in run.stderr
