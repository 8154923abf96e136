"""OAuth mode end to end ("Add to Slack", many workspaces): the real Bolt app with our OAuth
settings and stores behind web_app on 127.0.0.1, a browser's requests with httpx, and the fake
Slack issuing a token per workspace and refusing a call that names another workspace's channel.
"""

from __future__ import annotations

import logging
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import httpx
import pytest

from bot.errors import UsageError
from bot.pulse.service import PulseSettings
from bot.service import AssessmentService
from bot.settings import Settings
from bot.slack.build import build_app
from bot.slack.http import EVENTS_PATH, web_app
from bot.slack.oauth import (
    INSTALL_PATH,
    REDIRECT_PATH,
    InstallationStoreOverStorage,
    bot_scopes,
    oauth_settings,
)
from bot.slack.pacing import Pacing
from bot.slack.platform import slack_secrets
from bot.slack.pulse import SlackPulse
from bot.slack.run import app_from_settings
from bot.slack.texts import st
from bot.slack.web_client import make_client
from bot.storage import Storage
from bot.storage.installations import Installations
from tests.fake_slack import Call, FakeSlack, Message, SlackSender, serve_asgi
from tests.test_slack_http import is_question, is_result

SECRET = "test-signing-secret"
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "oauth-client-secret"
COOKIE = "slack-app-oauth-state"


class Hosted:
    """The hosted app in OAuth mode over one database, and a browser."""

    def __init__(
        self,
        fake: FakeSlack,
        target: str,
        models: Any,
        max_pending: int = 1000,
        *,
        pulse_settings: PulseSettings | None = None,
        clock: Any = None,
    ) -> None:
        """With `pulse_settings`, the team pulse runs too, reaching each workspace with its own
        token (its loop runs; its scheduler does not: `tick` runs it at a chosen moment)."""
        self.fake = fake
        self.models = models
        self.stack = ExitStack()
        self.storage = Storage(target)
        self.stack.callback(self.storage.close)
        executor = ThreadPoolExecutor(max_workers=4)
        self.stack.callback(executor.shutdown, wait=True)
        self.service = AssessmentService(self.storage, models)
        client = make_client(None, fake.api_url)
        installations = InstallationStoreOverStorage(self.storage)
        settings = oauth_settings(
            self.storage, CLIENT_ID, CLIENT_SECRET, installations=installations
        )
        self.pulse: SlackPulse | None = None
        if pulse_settings is not None:
            self.pulse = SlackPulse.create(
                self.service,
                client,
                pulse_settings,
                pacing=Pacing().scaled(50),  # the pacing path runs; the tests stay fast
                installations=installations,
                scheduled=False,
            )
            if clock is not None:
                self.pulse.pulse.clock = clock
            self.pulse.start()
            self.stack.callback(self.pulse.stop)
        app = build_app(
            self.service,
            client,
            SECRET,
            executor=executor,
            oauth=settings,
            max_pending=max_pending,
            pulse=self.pulse,
        )
        self.url = self.stack.enter_context(serve_asgi(web_app(app, self.storage)))
        self.browser = httpx.Client(base_url=self.url, follow_redirects=False, timeout=10)
        self.stack.callback(self.browser.close)
        self.send = SlackSender(self.url + EVENTS_PATH, SECRET, fake)
        self.stack.callback(self.send.close)

    def start_install(self) -> tuple[str, str]:
        """GET /slack/install: Slack's authorize URL and the state it carries."""
        response = self.browser.get(INSTALL_PATH)
        assert response.status_code == 302, response.text
        location = response.headers["location"]
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
        return location, query["state"]

    def finish_install(
        self, state: str, code: str, cookie: str | None = None, language: str = ""
    ) -> httpx.Response:
        """Slack sends the browser back with the code and the state. (The cookie is `Secure`,
        so httpx keeps it off plain http: the browser's cookie is sent as a header here.)"""
        if cookie is None:
            cookie = self.browser.cookies.get(COOKIE) or ""
        return self.browser.get(
            REDIRECT_PATH,
            params={"code": code, "state": state},
            headers={"Cookie": f"{COOKIE}={cookie}", "Accept-Language": language},
        )

    def install(self, team: str) -> str:
        _, state = self.start_install()
        answer = self.finish_install(state, self.fake.oauth_code(team))
        assert answer.status_code == 200, answer.text
        token = self.fake.token_of(team)
        assert token is not None
        return token

    # ---- a member of a workspace ------------------------------------------------------------
    def question(self, team: str, user: str, after: int) -> Message:
        call = self.fake.wait_for(
            "chat.postMessage",
            lambda c: is_question(c) and c.response.get("channel") == f"D{team}{user}",
            after=after,
        )
        return self.fake.posted(call)

    def assessment(self, team: str, user: str, model_id: str, option: int) -> Call:
        mark = self.fake.mark()
        command = self.send.command(f"start {model_id}", user, team=team, channel=f"D{team}{user}")
        assert command.status_code == 200
        message = self.question(team, user, mark)
        count = len(self.models[model_id].questions)
        for number in range(1, count + 1):
            mark = self.fake.mark()
            elements = next(b for b in message.blocks if b.get("block_id") == "answers")
            element = elements["elements"][0]
            action = {"action_id": element["action_id"], "block_id": "b", "type": element["type"]}
            if element["type"] == "static_select":
                action["selected_option"] = element["options"][option]
            else:
                element = elements["elements"][option]
                action.update(
                    action_id=element["action_id"], value=element["value"], text=element["text"]
                )
            reply = self.send.action(user, action, message=message, team=team)
            assert reply.status_code == 200
            if number < count:
                message = self.question(team, user, mark)
        return self.fake.wait_for(
            "chat.postMessage",
            lambda c: is_result(c) and c.response.get("channel") == f"D{team}{user}",
            after=mark,
        )

    def close(self) -> None:
        self.stack.close()


@pytest.fixture
def fake():
    with FakeSlack() as server:
        server.oauth_client = (CLIENT_ID, CLIENT_SECRET)
        yield server


@pytest.fixture
def hosted(fake, database_target, models):
    app = Hosted(fake, database_target, models)
    yield app
    app.close()


# ---- installing --------------------------------------------------------------------------------
def test_add_to_slack_stores_the_workspace_token(hosted, fake, caplog):
    caplog.set_level(logging.DEBUG)
    location, state = hosted.start_install()
    assert location.startswith("https://slack.com/oauth/v2/authorize?")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    assert query["client_id"] == CLIENT_ID
    assert query["scope"].split(",") == bot_scopes() and not query.get("user_scope")
    assert hosted.browser.cookies.get(COOKIE) == state  # the state is bound to this browser

    answer = hosted.finish_install(state, fake.oauth_code("T1", installer="U9"))
    assert answer.status_code == 200, answer.text
    [exchange] = fake.calls_to("oauth.v2.access")
    assert exchange.ok
    row = Installations(hosted.storage).find(None, "T1")
    assert row is not None and row.bot_token == fake.token_of("T1")
    assert (row.bot_user_id, row.bot_id, row.installer_user_id) == ("UBOTT1", "BT1", "U9")
    assert row.bot_scopes == "chat:write,commands,im:history,users:read"
    assert fake.token_of("T1") not in answer.text
    assert st("install_done", "en") in answer.text  # the browser asked for no language
    assert hosted.send.command("help", "U9", team="T1").status_code == 200
    fake.wait_for("chat.postMessage", lambda c: c.team == "T1")
    assert "oauth.v2.access" in caplog.text  # the Web API calls were logged, without secrets
    assert fake.token_of("T1") not in caplog.text and CLIENT_SECRET not in caplog.text


def test_a_forged_or_reused_state_is_refused(hosted, fake):
    # a state we never issued, even with a matching cookie: refused by our state store
    forged = hosted.finish_install(
        "forged", fake.oauth_code("T1"), cookie="forged", language="nl-NL,nl;q=0.9,en;q=0.8"
    )
    assert forged.status_code != 200
    assert st("install_failed", "nl") in forged.text  # in the browser's language
    assert fake.calls_to("oauth.v2.access") == []  # refused before the code is exchanged

    _, state = hosted.start_install()
    assert hosted.finish_install(state, fake.oauth_code("T1")).status_code == 200
    reused = hosted.finish_install(state, fake.oauth_code("T2"), cookie=state)
    assert reused.status_code != 200
    assert len(fake.calls_to("oauth.v2.access")) == 1
    assert [row.team_id for row in Installations(hosted.storage).rows()] == ["T1"]

    other_browser = httpx.Client(base_url=hosted.url, follow_redirects=False)
    with other_browser:  # a state issued to another browser (no cookie) is refused too
        _, state = hosted.start_install()
        stolen = other_browser.get(
            REDIRECT_PATH, params={"code": fake.oauth_code("T2"), "state": state}
        )
    assert stolen.status_code != 200
    assert len(fake.calls_to("oauth.v2.access")) == 1


# ---- two workspaces -----------------------------------------------------------------------------
def test_two_workspaces_each_use_their_own_token_and_see_only_their_own(hosted, fake, models):
    token_1, token_2 = hosted.install("T1"), hosted.install("T2")
    assert token_1 != token_2
    start = fake.mark()

    model = models["groeimodel"]
    first = hosted.assessment("T1", "U1", "groeimodel", option=0)
    second = hosted.assessment("T2", "U1", "groeimodel", option=-1)  # each question's last
    fake.wait_for("views.publish", lambda c: c.team == "T2", after=start)

    made = [c for c in fake.calls[start:] if not c.method.startswith("/")]  # the Web API's
    assert made and fake.wrong_workspace == []
    assert all(c.team in ("T1", "T2") for c in made), {c.method: c.team for c in made}
    for call in made:  # every call carries the token of the workspace it is about
        channel = str(call.params.get("channel") or call.params.get("channel_id") or "")
        if channel.startswith("D"):
            assert channel.startswith(f"D{call.team}"), (call.method, channel, call.team)
    first_phase = model.phases[0].name.en
    assert first_phase in first.text_of_blocks() and first.team == "T1"
    assert second.team == "T2" and first_phase not in second.text_of_blocks()
    home_1 = Call("v", {"view": fake.team_views[("T1", "U1")]}, {}).text_of_blocks()
    home_2 = Call("v", {"view": fake.team_views[("T2", "U1")]}, {}).text_of_blocks()
    assert first_phase in home_1 and first_phase not in home_2
    assert home_1 != home_2
    with hosted.storage.reading():
        users = hosted.storage.execute(
            "select u.external_id, count(r.assessment_id) from users u "
            "left join results r on r.user_id = u.id group by u.external_id order by 1"
        ).fetchall()
    assert [tuple(row) for row in users] == [("T1:U1", 1), ("T2:U1", 1)]


def test_a_workspaces_token_is_checked_with_auth_test_once_not_per_request(hosted, fake, models):
    """Bolt's authorize finds each request's token in our store, and keeps what auth.test said
    about it: a whole assessment (a command and a press per question) costs one auth.test."""
    hosted.install("T1")
    mark = fake.mark()
    hosted.assessment("T1", "U1", "groeimodel", option=0)
    assert len(models["groeimodel"].questions) > 1
    assert len([c for c in fake.calls[mark:] if c.method == "auth.test"]) == 1


def test_a_workspace_that_did_not_install_gets_no_answer(hosted, fake):
    hosted.install("T1")
    mark = fake.mark()
    assert hosted.send.command("start groeimodel", "U1", team="T3").status_code == 200
    assert hosted.send.command("start groeimodel", "U1", team="T1").status_code == 200
    fake.wait_for("chat.postMessage", lambda c: c.team == "T1", after=mark)
    made = [c for c in fake.calls[mark:] if not c.method.startswith("/")]
    assert made and all(c.team == "T1" for c in made), [(c.method, c.team) for c in made]


# ---- settings ----------------------------------------------------------------------------------
def settings(**values: Any) -> Settings:
    base = {"slack_signing_secret": SECRET, "slack_client_id": CLIENT_ID}
    return Settings(_env_file=None, **{**base, **values})


def test_oauth_mode_needs_no_bot_token_and_builds_with_the_install_routes(fake, service):
    chosen = settings(slack_client_secret=CLIENT_SECRET, slack_api_url=fake.api_url)
    app, _ = app_from_settings(chosen, service, http=True)
    assert app.oauth_flow is not None and app.oauth_flow.install_path == INSTALL_PATH
    assert app.oauth_flow.redirect_uri_path == REDIRECT_PATH
    assert fake.calls == []  # no token to check: each workspace's is checked at install
    paths = {route.path for route in web_app(app, service.storage).routes}
    assert {EVENTS_PATH, INSTALL_PATH, REDIRECT_PATH} <= paths


@pytest.mark.parametrize(
    ("values", "http", "says"),
    [
        ({}, True, "SLACK_CLIENT_SECRET is not set"),
        (
            {"slack_client_id": None, "slack_client_secret": "cs-value"},
            True,
            "SLACK_CLIENT_ID is not set",
        ),
        ({"slack_client_secret": "cs-value"}, False, "need --http"),
        (
            {
                "slack_client_secret": "cs-value",
                "slack_redirect_uri": "ftp://x/slack/oauth_redirect",
            },
            True,
            "SLACK_REDIRECT_URI must be",
        ),
        (
            {"slack_client_secret": "cs-value", "maturity_pulse_admins": "T1:U1, U2"},
            True,
            "MATURITY_PULSE_ADMINS: in OAuth mode .* as T…:U2",
        ),
    ],
)
def test_oauth_settings_are_checked_in_one_line(values, http, says):
    with pytest.raises(UsageError, match=says) as refused:
        slack_secrets(settings(**values), http=http)
    assert "\n" not in str(refused.value) and "cs-value" not in str(refused.value)


def test_one_workspace_mode_still_needs_its_bot_token():
    chosen = Settings(_env_file=None, slack_signing_secret=SECRET)
    with pytest.raises(UsageError, match="SLACK_BOT_TOKEN is not set"):
        slack_secrets(chosen, http=True)


def test_a_busy_notice_reaches_its_workspace_with_that_workspaces_token(fake, tmp_path, models):
    """Refused before Bolt's authorize ran, the busy notice finds the workspace's token itself."""
    hosted = Hosted(fake, str(tmp_path / "busy.db"), models, max_pending=1)
    try:
        hosted.install("T1")
        gate = fake.hold("conversations.open")
        try:
            hosted.send.command("start groeimodel", "U1", team="T1", channel="DT1U1")
            fake.wait_held("conversations.open")  # U1's work holds the only place
            mark = fake.mark()
            event = {
                "type": "message",
                "channel": "DT1U2",
                "channel_type": "im",
                "user": "U2",
                "text": "hello",
                "ts": "1.000200",
            }
            assert hosted.send.event(event, team="T1").status_code == 200
            notice = fake.wait_for(
                "chat.postMessage",
                lambda c: c.params.get("channel") == "DT1U2",
                after=mark,
            )
        finally:
            gate.set()
        assert notice.ok and notice.team == "T1"
        assert notice.params["text"] == st("busy", "en")
        assert fake.wrong_workspace == []
    finally:
        hosted.stack.close()


def test_the_installed_page_speaks_the_browsers_language(hosted, fake):
    _, state = hosted.start_install()
    answer = hosted.finish_install(state, fake.oauth_code("T1"), language="nl-BE,en;q=0.5")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert st("install_done", "nl") in answer.text and '<html lang="nl">' in answer.text
