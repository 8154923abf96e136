"""Telegram under load (issue 12): how many updates are handled at once is a setting
(MATURITY_TELEGRAM_CONCURRENCY), checked at start-up like every other, and used by the real
command; whatever it is, one user's updates are applied in the order they were sent, while
other users' updates are handled beside them. (How fast: bench/load_telegram.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import Settings
from bot.telegram.app import CONCURRENCY
from flows.i18n import t
from tests.fake_telegram import TOKEN, FakeTelegram, TgUser
from tests.telegram_rig import Rig, start_command, stop_command

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fake():
    with FakeTelegram() as server:
        yield server


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MATURITY_TELEGRAM_CONCURRENCY", "0"),
        ("MATURITY_TELEGRAM_CONCURRENCY", "-4"),
        ("MATURITY_TELEGRAM_CONCURRENCY", "2.5"),
        ("MATURITY_TELEGRAM_CONCURRENCY", "4.0"),
        ("MATURITY_TELEGRAM_CONCURRENCY", "many"),
        ("MATURITY_TELEGRAM_CONCURRENCY", ""),
        ("MATURITY_TELEGRAM_CONCURRENCY", "1025"),
        ("MATURITY_TELEGRAM_RATE", "-1"),
        ("MATURITY_TELEGRAM_RATE", "nan"),
        ("MATURITY_TELEGRAM_RATE", "inf"),
        ("MATURITY_TELEGRAM_RATE", "1001"),
        ("MATURITY_TELEGRAM_RATE", "fast"),
    ],
)
def test_a_bad_value_stops_the_bot_with_one_line(clean_env, capsys, tmp_path, fake, name, value):
    clean_env.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    clean_env.setenv("TELEGRAM_BASE_URL", fake.base_url)
    clean_env.setenv(name, value)
    db = tmp_path / "never.db"
    assert main(["telegram", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("maturity-bot: error: ") and err.count("\n") == 1, err
    assert name in err
    assert "Traceback" not in err
    assert fake.calls == []  # refused before any network call
    assert not db.exists()


def test_the_limits_themselves_are_accepted(clean_env):
    clean_env.setenv("MATURITY_TELEGRAM_CONCURRENCY", "1")
    clean_env.setenv("MATURITY_TELEGRAM_RATE", "0")
    assert Settings().maturity_telegram_concurrency == 1
    assert Settings().maturity_telegram_rate == 0
    clean_env.setenv("MATURITY_TELEGRAM_CONCURRENCY", "1024")
    clean_env.setenv("MATURITY_TELEGRAM_RATE", "1000")
    assert main(["models"]) == 0
    clean_env.delenv("MATURITY_TELEGRAM_CONCURRENCY")
    assert Settings().maturity_telegram_concurrency == CONCURRENCY  # one default, not two


def test_the_command_handles_as_many_updates_at_once_as_set(tmp_path, fake):
    """The real `maturity-bot telegram` with MATURITY_TELEGRAM_CONCURRENCY=3 (and its own pacing
    off, MATURITY_TELEGRAM_RATE=0): it says so when it starts polling, and answers."""
    process = start_command(
        fake, tmp_path, MATURITY_TELEGRAM_CONCURRENCY="3", MATURITY_TELEGRAM_RATE="0"
    )
    try:
        fake.wait_for("getUpdates", timeout=30, status=None)
        user = TgUser(3101)
        mark = fake.mark()
        fake.send(user, "/help")
        fake.wait_message(user.id, lambda m: t("help", "en").split("\n")[0] in m.text, after=mark)
    finally:
        out, err = stop_command(process)
    assert process.returncode == 0, err
    assert "3 updates at a time" in err


@pytest.mark.parametrize("concurrency", [1, 16, CONCURRENCY])
def test_each_users_answers_keep_their_order_while_users_are_handled_together(
    fake, tmp_path, models, concurrency
):
    """Three users type all their answers before the bot has answered any: each one's answers
    are stored as typed and confirmed in the order typed, whatever the concurrency."""
    rig = Rig(fake, tmp_path / "bot.db", models, concurrency=concurrency)
    try:
        assert rig.app.concurrent_updates == concurrency
        model = models["mi-partners"]
        users = [TgUser(4100 + n) for n in range(3)]
        for user in users:
            rig.question(user, after=rig.say(user, "/assess mi-partners"))
        mark = fake.mark()
        typed = {
            user.id: [1 + (i * (n + 2)) % len(q.options) for i, q in enumerate(model.questions)]
            for n, user in enumerate(users)
        }
        for i in range(len(model.questions)):  # interleaved, as users type at the same time
            for user in users:
                fake.send(user, str(typed[user.id][i]))
        for user in users:
            rig.message(user, t("result_footer", "en"), after=mark)
            numbers = typed[user.id]
            pairs = list(zip(model.questions, numbers, strict=True))
            assert rig.answers(user) == {q.id: q.options[n - 1].id for q, n in pairs}
            shown = [m.text or "" for m in fake.sent(user.id, after=mark)]
            confirmations = [text for text in shown if text.startswith("✓ ")]
            assert confirmations == [
                "✓ "
                + t("answer_recorded", "en", question=q.text.en, answer=q.options[n - 1].label.en)
                for q, n in pairs
            ]
    finally:
        rig.stop()
