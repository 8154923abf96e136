"""Sign-in to the dashboard from the chat, in a real browser (Chromium through Playwright).

Slack: the real Bolt app in HTTP mode, with the dashboard mounted in the same server (as
`maturity-bot slack --http` serves it), against the fake Web API; `/maturity dashboard` is
posted signed as Slack signs it, the link is read from the DM the fake recorded and opened in
Chromium. The sign-in pages are checked with axe-core and saved as screenshots."""

# ruff: noqa: F811 - `browser` is a fixture imported from tests/web_rig.py
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from starlette.routing import Mount, Route

from bot.service import AssessmentService
from bot.slack.build import build_app
from bot.slack.http import EVENTS_PATH, web_app
from bot.slack.web_client import make_client
from bot.storage import Storage
from bot.storage.web_sessions import WebSessionStore
from bot.web.app import web_routes
from tests.fake_slack import BOT_TOKEN, TEAM_ID, FakeSlack, SlackSender
from tests.web_rig import (  # noqa: F401 (browser is a fixture)
    browser,
    check_accessibility,
    free_port,
    open_sign_in_link,
    save_screenshot,
    serve_app,
    serve_web,
    signed_in_page,
    viewer_of,
    web_settings,
)

SECRET = "test-signing-secret"
LINK = re.compile(r"http://127\.0\.0\.1:\d+/signin/[A-Za-z0-9_-]+")


class SlackWithDashboard:
    """`maturity-bot slack --http` with MATURITY_WEB_URL: Slack and the dashboard, one server."""

    def __init__(self, fake: FakeSlack, storage: Storage, models, *, web: bool = True) -> None:
        self.fake = fake
        self.storage = storage
        self.stack = ExitStack()
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        settings = web_settings(self.base_url if web else "")
        executor = ThreadPoolExecutor(max_workers=4)
        self.stack.callback(executor.shutdown, wait=True)
        service = AssessmentService(storage, models)
        client = make_client(BOT_TOKEN, fake.api_url)
        app = build_app(service, client, SECRET, executor=executor, web_settings=settings)
        server = web_app(app, storage, settings=settings)
        self.stack.enter_context(serve_app(server, port))
        self.send = SlackSender(self.base_url + EVENTS_PATH, SECRET, fake)
        self.stack.callback(self.send.close)

    def dashboard_link(self, user: str, word: str = "dashboard") -> str:
        """Type `/maturity <word>`; the link in the DM the bot posted."""
        mark = self.fake.mark()
        assert self.send.command(word, user).status_code == 200
        call = self.fake.wait_for(
            "chat.postMessage", lambda c: "/signin/" in str(c.params.get("text")), after=mark
        )
        assert call.params["channel"] == f"D{user}"
        found = LINK.search(call.params["text"])
        assert found is not None, call.params["text"]
        return found.group(0)

    def close(self) -> None:
        self.stack.close()


@pytest.fixture
def slack(tmp_path, models):
    storage = Storage(tmp_path / "bot.db")
    with FakeSlack() as fake:
        fake.add_user("UADMIN", is_admin=True)
        fake.add_user("UMEMBER")
        rig = SlackWithDashboard(fake, storage, models)
        yield rig
        rig.close()
    storage.close()


def session_rows(storage: Storage) -> list[dict]:
    return storage._rows(
        "select external_id, workspace, workspace_admin, lang from web_sessions order by created_at"
    )


def test_a_link_from_a_slack_dm_opens_the_dashboard_once(browser, slack):
    link = slack.dashboard_link("UADMIN")
    page = open_sign_in_link(browser, link)
    assert page.url == slack.base_url + "/"
    assert page.locator("h1").inner_text() == "My results"
    assert page.get_by_role("button", name="Sign out").is_visible()
    assert session_rows(slack.storage) == [
        {"external_id": f"{TEAM_ID}:UADMIN", "workspace": TEAM_ID, "workspace_admin": 1,
         "lang": "en"}
    ]  # fmt: skip
    cookie = next(c for c in page.context.cookies() if c["name"] == "maturity_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]
    stored = slack.storage._rows("select token_hash, used_at from web_links")
    assert len(stored) == 1 and link.rsplit("/", 1)[1] not in stored[0]["token_hash"]
    assert stored[0]["used_at"] is not None
    check_accessibility(page)
    save_screenshot(page, "dashboard-home-en")
    page.context.close()

    again = open_sign_in_link(browser, link)  # a second browser, the same link
    assert again.locator("h1").inner_text() == "This link was already used"
    assert "/maturity dashboard" in again.locator("main").inner_text()
    assert not any(c["name"] == "maturity_session" for c in again.context.cookies())
    check_accessibility(again)
    save_screenshot(again, "signin-link-used-en")
    again.context.close()
    assert len(session_rows(slack.storage)) == 1


def test_a_member_is_not_a_workspace_admin_and_the_home_tab_has_the_button(browser, slack):
    link = slack.dashboard_link("UMEMBER")
    page = open_sign_in_link(browser, link)
    assert page.locator("h1").inner_text() == "My results"
    assert [row["workspace_admin"] for row in session_rows(slack.storage)] == [0]
    page.context.close()

    mark = slack.fake.mark()
    assert slack.send.home_opened("UMEMBER").status_code == 200
    view = slack.fake.wait_for("views.publish", after=mark).view
    buttons = [e for b in view["blocks"] if b.get("type") == "actions" for e in b["elements"]]
    dashboard = next(e for e in buttons if e["action_id"] == "mb:dashboard")
    assert dashboard["text"]["text"] == "Dashboard"
    mark = slack.fake.mark()
    action = {"action_id": "mb:dashboard", "block_id": "dashboard", "type": "button"}
    assert slack.send.action("UMEMBER", action).status_code == 200
    call = slack.fake.wait_for(
        "chat.postMessage", lambda c: "/signin/" in str(c.params.get("text")), after=mark
    )
    assert call.params["channel"] == "DUMEMBER"


def test_an_expired_link_is_refused_in_the_persons_language(browser, tmp_path):
    storage = Storage(tmp_path / "bot.db")
    sessions = WebSessionStore(storage)
    with serve_web(storage) as web:
        old = datetime.now(UTC) - timedelta(minutes=11)
        token = sessions.issue_link(viewer_of("T1:U1", lang="nl"), now=old)
        page = open_sign_in_link(browser, f"{web.base_url}/signin/{token}")
        assert page.locator("html").get_attribute("lang") == "nl"
        assert page.locator("h1").inner_text() == "Deze link is verlopen"
        assert "/maturity dashboard" in page.locator("main").inner_text()
        check_accessibility(page)
        save_screenshot(page, "signin-link-expired-nl")
        # pressing "continue" on a page opened just before it expired: refused too
        fresh = sessions.issue_link(viewer_of("T1:U1"), now=old + timedelta(seconds=1))
        state = sessions.redeem_link(fresh, session_hours=8)
        assert getattr(state, "state", None) == "expired"
        page.context.close()
    assert storage._rows("select count(*) as n from web_sessions")[0]["n"] == 0
    storage.close()


def test_a_link_is_valid_for_ten_minutes(tmp_path):
    storage = Storage(tmp_path / "bot.db")
    sessions = WebSessionStore(storage)
    issued = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    token = sessions.issue_link(viewer_of("T1:U1"), now=issued)
    assert (
        sessions.link_state(token, now=issued + timedelta(minutes=9, seconds=59)).state == "valid"
    )
    assert sessions.link_state(token, now=issued + timedelta(minutes=10)).state == "expired"
    storage.close()


def made_up(parameter: re.Match) -> str:
    """A value a path parameter's convertor accepts (int, float, path, str)."""
    kind = parameter.group(0).strip("{}").partition(":")[2]
    return {"int": "1", "float": "1.0", "uuid": "00000000-0000-0000-0000-000000000001"}.get(
        kind, "x1"
    )


def get_routes(routes, prefix: str = "") -> list[str]:
    """Every GET path registered in the dashboard, parameters filled with a made-up value."""
    paths = []
    for route in routes:
        if isinstance(route, Mount):
            if route.name == "static":
                continue
            inner = getattr(route.app, "routes", None) or route.routes
            paths += get_routes(inner, prefix + route.path)
        elif isinstance(route, Route) and "GET" in (route.methods or ()):
            paths.append(prefix + re.sub(r"\{[^}]+\}", made_up, route.path))
    return paths


def test_no_page_is_reachable_without_a_session(browser, tmp_path):
    storage = Storage(tmp_path / "bot.db")
    with serve_web(storage) as web:
        paths = get_routes(web_routes(storage, web.settings))
        assert "/" in paths
        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        for path in paths:
            if path.startswith("/signin/"):
                continue  # the link page itself: refused as an unknown link, tested above
            response = page.goto(web.base_url + path)
            assert response.status == 401, path
            assert page.locator("h1").inner_text() == "Sign in from the chat", path
        check_accessibility(page)
        save_screenshot(page, "signin-required-en")
        response = page.goto(web.base_url + "/signin/not-a-link")
        assert response.status == 404
        assert page.locator("h1").inner_text() == "This link does not work"
        context.close()
    storage.close()


def test_sign_out_ends_the_session_and_a_post_without_the_token_is_refused(browser, tmp_path):
    storage = Storage(tmp_path / "bot.db")
    with serve_web(storage) as web:
        page = signed_in_page(browser, web.base_url, storage, external_id="T1:U9", lang="nl")
        assert page.locator("h1").inner_text() == "Mijn resultaten"

        forged = page.context.request.post(web.base_url + "/signout", form={"csrf_token": "x"})
        assert forged.status == 403
        assert "Verzoek geweigerd" in forged.text()
        missing = page.context.request.post(web.base_url + "/signout", form={})
        assert missing.status == 403
        assert len(session_rows(storage)) == 1  # still signed in
        page.reload()
        assert page.locator("h1").inner_text() == "Mijn resultaten"

        page.get_by_role("button", name="Afmelden").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "Je bent afgemeld"
        assert session_rows(storage) == []
        assert not any("maturity_session" in c["name"] for c in page.context.cookies())
        response = page.goto(web.base_url + "/")
        assert response.status == 401
        # signed out, the page speaks the browser's language (this one is set to en-GB)
        assert page.locator("h1").inner_text() == "Sign in from the chat"
        page.context.close()
    storage.close()


def test_a_session_expires_on_the_server(tmp_path):
    storage = Storage(tmp_path / "bot.db")
    sessions = WebSessionStore(storage)
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    token = sessions.issue_link(viewer_of("T1:U1"), now=start)
    session = sessions.redeem_link(token, session_hours=8, now=start + timedelta(minutes=1))
    sid = session.session_id
    assert sessions.session(sid, now=start + timedelta(hours=8)) is not None
    assert sessions.session(sid, now=start + timedelta(hours=8, minutes=1, seconds=1)) is None
    storage.close()


def test_typed_in_a_channel_the_link_still_goes_to_the_dm(slack):
    mark = slack.fake.mark()
    assert slack.send.command("dashboard", "UMEMBER", channel="C1").status_code == 200
    call = slack.fake.wait_for(
        "chat.postMessage", lambda c: "/signin/" in str(c.params.get("text")), after=mark
    )
    assert call.params["channel"] == "DUMEMBER"
    posted = [c.params.get("channel") for c in slack.fake.calls_to("chat.postMessage", mark)]
    assert "C1" not in posted


def test_without_a_web_url_the_command_says_the_dashboard_is_not_set_up(tmp_path, models):
    storage = Storage(tmp_path / "bot.db")
    with FakeSlack() as fake:
        fake.add_user("U1", locale="nl-NL")
        rig = SlackWithDashboard(fake, storage, models, web=False)
        try:
            mark = fake.mark()
            assert rig.send.command("dashboard", "U1").status_code == 200
            call = fake.wait_for("chat.postMessage", after=mark)
            assert call.params["text"].startswith("Het dashboard is hier nog niet ingericht")
            assert storage._rows("select count(*) as n from web_links") == [{"n": 0}]
            mark = fake.mark()
            assert rig.send.home_opened("U1").status_code == 200
            view = fake.wait_for("views.publish", after=mark).view
            assert "mb:dashboard" not in str(view)
            page = httpx.get(rig.base_url + "/")
            assert page.status_code == 404  # nothing of the dashboard is served
        finally:
            rig.close()
    storage.close()


def test_opening_a_link_uses_it_only_when_the_button_is_pressed(browser, tmp_path):
    """A chat's link preview fetches the link: that GET must not spend it."""
    storage = Storage(tmp_path / "bot.db")
    with serve_web(storage) as web:
        sessions = WebSessionStore(storage)
        token = sessions.issue_link(viewer_of("T1:U1", lang="nl"))
        assert httpx.get(f"{web.base_url}/signin/{token}").status_code == 200  # the preview
        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        page.goto(f"{web.base_url}/signin/{token}")
        assert page.locator("h1").inner_text() == "Aanmelden bij het dashboard"
        check_accessibility(page)
        save_screenshot(page, "signin-continue-nl")
        page.get_by_role("button", name="Doorgaan naar het dashboard").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "Mijn resultaten"
        context.close()
    storage.close()
