"""Starting the Slack app: Socket Mode builds with both tokens, missing or malformed settings stop
`maturity-bot slack` with one clear line and exit code 2, and the real command serves HTTP."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.settings import Settings
from bot.slack.build import socket_mode_handler
from bot.slack.http import EVENTS_PATH
from bot.slack.oauth import BOT_SCOPES
from bot.slack.platform import REDIRECT_PATH
from bot.slack.render import SLASH_COMMAND
from bot.slack.run import app_from_settings
from tests.fake_slack import BOT_TOKEN, FakeSlack, SlackSender

APP_TOKEN = "xapp-1-A0FAKE-1-fakeapptoken"
SIGNING_SECRET = "startup-signing-secret"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fake():
    with FakeSlack() as server:
        yield server


@pytest.fixture
def slack_env(monkeypatch, tmp_path):
    """No Slack settings from the developer's environment or a .env file."""
    for name in list(os.environ):
        if name.startswith("SLACK_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def run_cli(capsys, *args: str) -> tuple[int, str]:
    code = main(["slack", *args])
    return code, capsys.readouterr().err


def test_socket_mode_builds_with_both_tokens(fake, service):
    settings = Settings(
        _env_file=None,
        slack_bot_token=BOT_TOKEN,
        slack_app_token=APP_TOKEN,
        slack_api_url=fake.api_url,
    )
    app, app_token = app_from_settings(settings, service, http=False)
    handler = socket_mode_handler(app, app_token)
    try:
        assert handler.app is app
        assert handler.client.app_token == APP_TOKEN
        assert handler.client.web_client.base_url == fake.api_url
    finally:
        handler.client.close()
    [check] = fake.calls
    assert check.method == "auth.test"
    assert check.headers["Authorization"] == f"Bearer {BOT_TOKEN}"


@pytest.mark.parametrize(
    ("env", "args", "named"),
    [
        ({}, [], "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN}, [], "SLACK_APP_TOKEN is not set"),
        ({"SLACK_APP_TOKEN": APP_TOKEN}, [], "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN}, ["--http"], "SLACK_SIGNING_SECRET is not set"),
        ({"SLACK_BOT_TOKEN": "xoxp-user", "SLACK_APP_TOKEN": APP_TOKEN}, [], "start with xoxb-"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": "xoxb-x"}, [], "start with xapp-"),
        (
            {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_APP_TOKEN": APP_TOKEN,
                "SLACK_API_URL": "ftp://x",
            },
            [],
            "SLACK_API_URL must be an http(s) URL",
        ),
    ],
)
def test_missing_or_malformed_settings_stop_with_one_clear_line(
    slack_env, capsys, tmp_path, env, args, named
):
    for name, value in env.items():
        slack_env.setenv(name, value)
    code, err = run_cli(capsys, "--db", str(tmp_path / "bot.db"), *args)
    assert code == 2
    assert named in err
    assert err.startswith("maturity-bot: error: ") and err.count("\n") == 1
    for secret in (BOT_TOKEN, APP_TOKEN, "xoxp-user"):
        assert secret not in err


def test_a_refused_bot_token_stops_without_showing_it(slack_env, capsys, tmp_path, fake):
    fake.fail("auth.test", error="invalid_auth")
    slack_env.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    slack_env.setenv("SLACK_APP_TOKEN", APP_TOKEN)
    slack_env.setenv("SLACK_API_URL", fake.api_url)
    code, err = run_cli(capsys, "--db", str(tmp_path / "bot.db"))
    assert code == 2
    assert "Slack refused the bot token" in err and "invalid_auth" in err
    assert BOT_TOKEN not in err and APP_TOKEN not in err


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_slack_command_serves_signed_requests_over_http(fake, tmp_path):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url.rstrip("/"),  # the missing slash is added
        "MATURITY_DB": str(tmp_path / "bot.db"),
    }
    command = [sys.executable, "-m", "bot", "slack", "--http", "--port", str(port)]
    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stdout.read()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the HTTP server did not come up"
                time.sleep(0.05)
        sender = SlackSender(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET, fake)
        try:
            assert sender.command("start groeimodel", "U9").status_code == 200
            assert sender.command("start groeimodel", "U9", secret="wrong").status_code == 401
        finally:
            sender.close()
        fake.wait_for("chat.postMessage", lambda c: "Question 1" in c.params.get("text", ""))
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert BOT_TOKEN not in output and SIGNING_SECRET not in output
    assert (tmp_path / "bot.db").exists()


# ---- the app manifest ---------------------------------------------------------------------------
SCOPES_FOR_METHOD = {
    "chat_postMessage": {"chat:write"},
    "chat_update": {"chat:write"},
    "conversations_open": {"im:write"},
    "conversations_members": {"channels:read", "groups:read"},  # public and private channels
    "conversations_info": {"channels:read", "groups:read"},
    "users_info": {"users:read"},
    "users_list": {"users:read"},
    "files_upload_v2": {"files:write"},
    "views_publish": set(),  # needs no scope
    "auth_test": set(),
}


@pytest.mark.parametrize("name", ["manifest.yml", "manifest.distributed.yml"])
def test_the_manifest_creates_the_app_the_bot_expects(name):
    """manifest.yml: one organisation's own app (Socket Mode); manifest.distributed.yml: the
    hosted app that workspaces install with "Add to Slack" (HTTP, OAuth redirect, uninstall
    events, org-wide installs on Grid). The same command, Home tab and scopes in both."""
    manifest = yaml.safe_load((ROOT / name).read_text("utf-8"))
    features, settings = manifest["features"], manifest["settings"]
    distributed = name == "manifest.distributed.yml"
    [command] = features["slash_commands"]
    assert command["command"] == SLASH_COMMAND
    assert features["app_home"]["home_tab_enabled"] is True
    assert features["app_home"]["messages_tab_enabled"] is True
    assert features["app_home"]["messages_tab_read_only_enabled"] is False
    assert settings["socket_mode_enabled"] is not distributed
    assert settings["org_deploy_enabled"] is distributed
    assert settings["interactivity"]["is_enabled"] is True
    uninstalls = {"app_uninstalled", "tokens_revoked"} if distributed else set()
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_home_opened",
        "message.im",
        *uninstalls,
    }
    redirects = manifest["oauth_config"].get("redirect_urls", [])
    assert [url.startswith("https://") and url.endswith(REDIRECT_PATH) for url in redirects] == (
        [True] if distributed else []
    )
    for url in (
        command["url"],
        settings["interactivity"]["request_url"],
        settings["event_subscriptions"]["request_url"],
    ):
        assert url.startswith("https://") and url.endswith(EVENTS_PATH)
    info = manifest["display_information"]
    assert len(info["description"]) <= 140 and 175 <= len(info["long_description"]) <= 4000

    # every Web API method the adapters call is covered by a scope in the manifest, and no
    # scope is asked for that nothing uses
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    source = "\n".join(path.read_text("utf-8") for path in (ROOT / "bot" / "slack").glob("*.py"))
    used = set(re.findall(r"client\.(\w+)\(", source))
    assert used <= set(SCOPES_FOR_METHOD), f"add the scope for {used - set(SCOPES_FOR_METHOD)}"
    needed = set().union(*(SCOPES_FOR_METHOD[m] for m in used))
    assert needed | {"commands", "im:history"} == scopes == set(BOT_SCOPES)
