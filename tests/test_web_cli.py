"""`maturity-bot web`: the operator's errors as one line and exit code 2, and the real command
serving the dashboard (a subprocess with only the settings given here)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.cli import main
from bot.storage import Storage
from bot.web.signin import sign_in_link
from tests.helpers import one_error_line
from tests.web_rig import free_port, serve_app, viewer_of, web_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (None, "MATURITY_WEB_URL is not set"),
        ("ftp://maturity.example.org", "MATURITY_WEB_URL must be the dashboard's public base URL"),
        ("https://maturity.example.org/dash", "without a path"),
        ("https://", "MATURITY_WEB_URL must be"),
    ],
)
def test_a_missing_or_bad_web_url_is_one_line_and_exit_2(clean_env, capsys, url, says):
    if url is not None:
        clean_env.setenv("MATURITY_WEB_URL", url)
    assert main(["web", "--db", "web.db"]) == 2
    assert says in one_error_line(capsys)
    assert not Path("web.db").exists()  # refused before a database file is made


def test_a_bad_port_is_one_line_and_exit_2(clean_env, capsys):
    clean_env.setenv("MATURITY_WEB_URL", "https://maturity.example.org")
    assert main(["web", "--port", "70000"]) == 2
    assert "--port must be from 1 to 65535" in one_error_line(capsys)


def test_the_command_serves_the_dashboard(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MATURITY_", "SLACK_"))}
    env.update(
        MATURITY_DB=str(tmp_path / "bot.db"),
        MATURITY_WEB_URL=f"http://127.0.0.1:{port}",
        PYTHONPATH=str(ROOT),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "web", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "maturity-bot web did not start"
            time.sleep(0.05)
        page = httpx.get(base + "/", headers={"Accept-Language": "nl-NL,nl;q=0.9"})
        assert page.status_code == 401
        assert "Meld je aan vanuit de chat" in page.text
        assert httpx.get(base + "/static/style.css").status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_over_https_the_cookie_is_secure_and_host_only(tmp_path):
    storage = Storage(tmp_path / "bot.db")
    settings = web_settings("https://maturity.example.org")
    from bot.web.app import web_app

    with serve_app(web_app(storage, settings)) as base:
        link = sign_in_link(storage, settings, viewer_of("T1:U1"))
        assert link.startswith("https://maturity.example.org/signin/")
        token = link.rsplit("/", 1)[1]
        answer = httpx.post(base + "/signin", data={"token": token})
        assert answer.status_code == 303 and answer.headers["location"] == "/"
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith("__Host-maturity_session=")
        for part in ("HttpOnly", "Secure", "Path=/", "SameSite=lax"):
            assert part in cookie
        assert answer.headers["cache-control"] == "no-store"
        cross = httpx.post(
            base + "/signin", data={"token": token}, headers={"Sec-Fetch-Site": "cross-site"}
        )
        assert cross.status_code == 403
        huge = httpx.post(base + "/signin", data={"token": "a" * 100_000})
        assert huge.status_code == 413  # refused before it is read
    storage.close()


@pytest.mark.parametrize("hours", ["0", "-1", "nan", "eight"])
def test_bad_session_hours_stop_every_command_with_one_line(clean_env, capsys, hours):
    clean_env.setenv("MATURITY_WEB_SESSION_HOURS", hours)
    assert main(["models"]) == 2
    assert "MATURITY_WEB_SESSION_HOURS" in one_error_line(capsys)
