"""Starting the Telegram bot: missing or malformed settings stop `maturity-bot telegram` with one
clear line and exit code 2 before any network call, a token the server refuses does too (without
printing it), and the real command, pointed at a Bot API-compatible server, runs a whole
assessment for a client that sends /start and presses the first button each time."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from bot.cli import main
from flows.i18n import t
from tests.fake_telegram import TOKEN, FakeTelegram, TgUser
from tests.telegram_rig import start_command, stop_command

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fake():
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def tg_env(monkeypatch, tmp_path):
    """No Telegram settings from the developer's environment or a .env file."""
    for name in list(os.environ):
        if name.startswith("TELEGRAM_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def run_cli(capsys, tmp_path: Path, *args: str) -> tuple[int, str]:
    code = main(["telegram", "--db", str(tmp_path / "bot.db"), *args])
    return code, capsys.readouterr().err


def test_a_missing_token_stops_with_a_clear_line(tg_env, capsys, tmp_path):
    code, err = run_cli(capsys, tmp_path)
    assert code == 2
    assert err.startswith("maturity-bot: error: TELEGRAM_BOT_TOKEN is not set")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    "token",
    ["not-a-token", "123456:tooshort", "abc:" + "A" * 35, TOKEN + "x", TOKEN.replace("_", "!")],
)
def test_a_malformed_token_stops_before_any_network_call(tg_env, capsys, tmp_path, fake, token):
    tg_env.setenv("TELEGRAM_BOT_TOKEN", token)
    tg_env.setenv("TELEGRAM_BASE_URL", fake.base_url)
    code, err = run_cli(capsys, tmp_path)
    assert code == 2
    assert "TELEGRAM_BOT_TOKEN is malformed" in err and err.count("\n") == 1
    assert token not in err
    assert fake.calls == []


@pytest.mark.parametrize(
    ("name", "value", "args"),
    [
        ("TELEGRAM_BASE_URL", "ftp://127.0.0.1/bot", ()),
        ("TELEGRAM_BASE_FILE_URL", "127.0.0.1/file/bot", ()),
        ("TELEGRAM_WEBHOOK_SECRET", "has spaces!", ("--webhook", "https://example.org/hook")),
    ],
)
def test_a_malformed_setting_is_named(tg_env, capsys, tmp_path, fake, name, value, args):
    tg_env.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    if name != "TELEGRAM_BASE_URL":
        tg_env.setenv("TELEGRAM_BASE_URL", fake.base_url)
    tg_env.setenv(name, value)
    code, err = run_cli(capsys, tmp_path, *args)
    assert code == 2
    assert name in err and err.count("\n") == 1
    assert fake.calls == []


def test_a_malformed_webhook_url_is_named(tg_env, capsys, tmp_path, fake):
    tg_env.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    tg_env.setenv("TELEGRAM_BASE_URL", fake.base_url)
    code, err = run_cli(capsys, tmp_path, "--webhook", "example.org/hook")
    assert code == 2 and "--webhook" in err
    assert fake.calls == []


def test_a_refused_token_stops_without_printing_it(tg_env, capsys, tmp_path, fake):
    other = "987654321:" + "B" * 35  # well-formed, but not the server's bot
    tg_env.setenv("TELEGRAM_BOT_TOKEN", other)
    tg_env.setenv("TELEGRAM_BASE_URL", fake.base_url)
    code, err = run_cli(capsys, tmp_path)
    assert code == 2
    assert "refused TELEGRAM_BOT_TOKEN" in err.splitlines()[-1]
    assert other not in err and other.split(":")[1] not in err
    assert [(c.method, c.status) for c in fake.calls] == [("getMe", 401)]


def test_the_command_runs_an_assessment_against_a_bot_api_server(tmp_path, fake, models):
    """The acceptance check: /start, then the first button every time, gives the first phase
    of the first model; SIGTERM stops the bot cleanly; the token is never logged."""
    process = start_command(fake, tmp_path)
    try:
        fake.wait_for("getUpdates", timeout=30, status=None)
        user = TgUser(3001)
        footer = t("result_footer", "en")
        mark = fake.mark()
        fake.send(user, "/start")
        presses = 0
        while True:
            shown = fake.wait_message(
                user.id, lambda m: bool(m.buttons) or footer in m.shown(), after=mark
            )
            if footer in shown.shown():
                break
            mark = fake.mark()
            fake.press(user, shown, index=0)
            presses += 1
            assert presses < 100
        model = next(iter(models.values()))
        title = t("result_title", "en", model=model.name.en, phase=model.phases[0].name.en)
        assert shown.text.startswith(title)
        assert presses == len(model.questions) + 2  # the model, "Start", every question
    finally:
        out, err = stop_command(process)
    assert process.returncode == 0, err
    assert "polling Telegram as @" in err
    assert TOKEN not in out + err and TOKEN.split(":")[1] not in out + err


def test_a_webhook_port_in_use_is_named(tg_env, capsys, tmp_path, fake):
    tg_env.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    tg_env.setenv("TELEGRAM_BASE_URL", fake.base_url)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        url = f"http://127.0.0.1:{port}/hook"
        code, err = run_cli(capsys, tmp_path, "--webhook", url, "--port", str(port))
    assert code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in err.splitlines()[-1]


def test_the_command_in_webhook_mode_serves_updates_and_refuses_bodies_that_are_not(tmp_path, fake):
    """`maturity-bot telegram --webhook URL`: the URL and secret are set with Telegram, a real
    update is handled, a body that is not JSON gets 400, a body over MATURITY_MAX_BODY_BYTES
    gets 413, SIGTERM stops it cleanly, and neither the token nor the secret is logged."""
    import httpx

    from tests.fake_telegram import post_webhook
    from tests.telegram_rig import free_port

    port = free_port()
    secret = "hook-secret_" + "7" * 20
    url = f"http://127.0.0.1:{port}/tg/hook"
    process = start_command(
        fake,
        tmp_path,
        "--webhook",
        url,
        "--port",
        str(port),
        TELEGRAM_WEBHOOK_SECRET=secret,
        MATURITY_MAX_BODY_BYTES="4096",
    )
    try:
        fake.wait_for("setWebhook", timeout=30)
        assert fake.webhook == {"url": url, "secret_token": secret}
        headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret}
        assert httpx.post(url, content=b"{not json", headers=headers).status_code == 400
        big = b'{"update_id": 5, "x": "' + b"y" * 5000 + b'"}'
        assert httpx.post(url, content=big, headers=headers).status_code == 413
        user = TgUser(3002)
        mark = fake.mark()
        assert post_webhook(url, fake.send(user, "/help", deliver=False), secret).status_code == 200
        fake.wait_message(user.id, lambda m: t("help", "en").split("\n")[0] in m.text, after=mark)
    finally:
        out, err = stop_command(process)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert "webhook: listening on" in err
    assert secret not in out + err and TOKEN.split(":")[1] not in out + err


def test_webhook_workers_serve_the_dashboard_beside_the_webhook(tmp_path, fake):
    """`--workers 2` with MATURITY_WEB_URL: every worker serves the dashboard's pages on the
    webhook's port, as one process does (a signed-out visitor gets the sign-in page, not 404);
    the command menu is the bot's, registered once by the parent, not once per worker."""
    import time

    import httpx

    from flows.model_schema import LANGUAGES
    from tests.telegram_rig import free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start_command(
        fake,
        tmp_path,
        "--webhook",
        f"{base}/tg/hook",
        "--port",
        str(port),
        "--workers",
        "2",
        MATURITY_WEB_URL=base,
    )
    try:
        fake.wait_for("setWebhook", count=2, timeout=60)  # both workers are up
        workers: dict[str, int] = {}
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline:
            with httpx.Client(base_url=base, timeout=10) as http:  # a new connection each time
                worker = http.get("/readyz").json()["worker"]
                workers[worker] = http.get("/").status_code
        assert len(workers) == 2
        assert set(workers.values()) == {401}
        assert len(fake.calls_to("setMyCommands")) == len(LANGUAGES) + 1  # each, and the rest
    finally:
        out, err = stop_command(process)
    assert process.returncode == 0, err
    assert "Traceback" not in err
