"""Channel commands refuse bad settings before they create a database file."""

from __future__ import annotations

import pytest

from bot.cli import main

SETTINGS = (
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_API_URL",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_BASE_URL",
    "TELEGRAM_BASE_FILE_URL",
)


@pytest.mark.parametrize(
    "argv, setting",
    [
        (["slack"], "SLACK_BOT_TOKEN"),
        (["slack", "--http"], "SLACK_BOT_TOKEN"),
        (["telegram"], "TELEGRAM_BOT_TOKEN"),
    ],
)
def test_missing_token_stops_before_the_database_exists(
    tmp_path, monkeypatch, capsys, argv, setting
):
    monkeypatch.chdir(tmp_path)  # no .env from the developer's tree
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    db = tmp_path / "never.db"
    assert main([*argv, "--db", str(db)]) == 2
    assert setting in capsys.readouterr().err
    assert not db.exists()
