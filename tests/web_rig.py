"""The dashboard under test, in a real browser: the web app on a free 127.0.0.1 port (uvicorn in
a thread), Chromium driven by Playwright (the system's /usr/bin/chromium, never a download),
sign-in through the real link code, axe-core's accessibility check, and screenshots.

In a test module:

    from tests.web_rig import browser, check_accessibility, save_screenshot, serve_web
    from tests.web_rig import signed_in_page  # noqa: F401 (browser is a fixture)

    def test_something(browser, tmp_path):
        storage = Storage(tmp_path / "bot.db")
        with serve_web(storage) as web:
            page = signed_in_page(browser, web.base_url, storage, external_id="T1:U1")
            ...
            check_accessibility(page)
            save_screenshot(page, "my-page")
            page.context.close()

`serve_app(app)` serves any ASGI app (e.g. Slack's HTTP app with the routes mounted) the same way.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from bot.settings import Settings
from bot.slack.member import SlackMember
from bot.storage import Storage
from bot.web.app import web_app
from bot.web.signin import sign_in_link
from bot.web.viewer import Viewer
from tests.helpers import unavailable

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BLOCKING_IMPACTS = ("serious", "critical")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def web_settings(base_url: str, **values: Any) -> Settings:
    """Settings with only what a test gives (no .env, no developer's environment)."""
    return Settings(_env_file=None, maturity_web_url=base_url, **values)


@contextlib.contextmanager
def serve_app(app: Any, port: int | None = None) -> Iterator[str]:
    """Serve the ASGI `app` on 127.0.0.1 in a thread until the block ends; yields its base URL."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    thread = threading.Thread(target=server.run, name=f"web-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the web server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass(frozen=True)
class WebServer:
    base_url: str
    storage: Storage
    settings: Settings


@contextlib.contextmanager
def serve_web(storage: Storage, models: dict | None = None, **settings: Any) -> Iterator[WebServer]:
    """`maturity-bot web`'s app (bot/web/app.py web_app) over `storage`, with MATURITY_WEB_URL
    set to where it listens and any other settings given (e.g. maturity_web_session_hours)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    config = web_settings(base_url, **settings)
    with serve_app(web_app(storage, config, models), port):
        yield WebServer(base_url, storage, config)


def viewer_of(
    external_id: str = "T1:U1",
    *,
    channel: str = "slack",
    lang: str = "en",
    workspace: str | None = None,
    workspace_admin: bool = False,
    admin_of_groups: tuple[str, ...] = (),
) -> Viewer:
    """A Viewer; a Slack one's workspace defaults to the workspace key of its id (`T1` of
    `T1:U1`, `E1:T1` of a Grid member `E1:T1:U1`, as bot/slack/member.py parses it)."""
    if workspace is None and channel == "slack" and ":" in external_id:
        workspace = SlackMember.parse(external_id).team
    return Viewer(channel, external_id, lang, workspace, workspace_admin, admin_of_groups)


def sign_in_url(storage: Storage, base_url: str, viewer: Viewer) -> str:
    """A real sign-in link for `viewer`, issued by the code the chat commands use."""
    link = sign_in_link(storage, web_settings(base_url), viewer)
    assert link is not None
    return link


def open_sign_in_link(browser: Any, link: str) -> Any:
    """Open `link` in a new browser context and press "continue": the page after sign-in (or
    the refusal page, when the link is refused). Close it with `page.context.close()`."""
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(link)
    button = page.locator("form[action$='/signin'] button[type=submit]")
    if button.count():
        button.click()
        page.wait_for_load_state()
    return page


def signed_in_page(
    browser: Any, base_url: str, storage: Storage, viewer: Viewer | None = None, **viewer_like: Any
) -> Any:
    """A page in a new browser context, signed in as `viewer` (or `viewer_of(**viewer_like)`)
    through a real sign-in link; it shows the page sign-in lands on ("home")."""
    who = viewer or viewer_of(**viewer_like)
    page = open_sign_in_link(browser, sign_in_url(storage, base_url, who))
    cookies = page.context.cookies()
    assert any("maturity_session" in c["name"] for c in cookies), page.content()[:2000]
    return page


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium for one test module (/usr/bin/chromium; skipped, saying why, when it
    or Playwright is missing, but never in CI: .ci/run installs both).

    Per module, not per session: Playwright's sync API keeps an event loop running in the main
    thread while it is started, so every later test that calls `asyncio.run` would fail ("cannot
    be called from a running event loop"). A module's copy is stopped before the next module's
    starts, so there is never a second instance either."""
    why = None
    if not Path(CHROMIUM).exists():
        why = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        why = why or "playwright is not installed (pip install -e '.[test]')"
    if why is not None:
        unavailable(why)
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


def check_accessibility(page: Any) -> None:
    """Run axe-core in the page; fail on every serious or critical violation, listing them."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    if bad:
        lines = [
            f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(str(node["target"]) for node in v["nodes"][:5])
            for v in bad
        ]
        raise AssertionError(f"accessibility violations on {page.url}:\n" + "\n".join(lines))


def save_screenshot(page: Any, name: str) -> Path:
    """A full-page PNG in test-artifacts/screenshots/<name>.png, for review (not committed)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
