"""Per-workspace settings (issue 14): the store on both backends, and end to end through the real
Bolt app in HTTP mode against the fake Slack Web API with signed requests: `/maturity settings`
for admins only, K never below 3, a known time zone, the values kept over a restart, a pulse
in that workspace running with its K and time zone, and another workspace keeping the operator's
defaults."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import pytest

from bot.storage import Storage
from bot.storage.workspaces import WorkspaceSettings, WorkspaceStore
from tests.fake_slack import TEAM_ID, Call, FakeSlack
from tests.test_slack_pulse import (
    ADMIN,
    MEMBERS,
    OUTSIDER,
    OWNER,
    TEAM,
    PulseRig,
    posts_to,
)

OTHER_WORKSPACE = "T0OTHER"
DUE_NEW_YORK = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday 10:00 in New York


# ---- the store, on SQLite and PostgreSQL ---------------------------------------------------------
def test_the_store_keeps_each_workspace_apart_and_unsets_a_value(database_target):
    storage = Storage(database_target)
    try:
        store = WorkspaceStore(storage)
        assert store.workspace_settings("T1") == WorkspaceSettings()
        store.set_workspace_setting("T1", "min_responses", 4)
        store.set_workspace_setting("T1", "timezone", "America/New_York")
        store.set_workspace_setting("T1", "lang", "nl")
        store.set_workspace_setting("T1", "pulse_admins", ("U1", "U2"))
        store.set_workspace_setting("T2", "pulse_admins", ())
        assert store.workspace_settings("T1") == WorkspaceSettings(
            lang="nl", pulse_admins=("U1", "U2"), min_responses=4, timezone="America/New_York"
        )
        assert store.workspace_settings("T2") == WorkspaceSettings(pulse_admins=())
        store.set_workspace_setting("T1", "timezone", None)  # back to the operator's
        assert store.workspace_settings("T1").timezone is None
        with pytest.raises(ValueError):
            store.set_workspace_setting("T1", "updated_at; drop table users", "x")
    finally:
        storage.close()
    reopened = Storage(database_target)
    try:
        assert WorkspaceStore(reopened).workspace_settings("T1").min_responses == 4
    finally:
        reopened.close()


# ---- end to end ---------------------------------------------------------------------------------
@pytest.fixture
def fake():
    with FakeSlack() as server:
        for user in MEMBERS:
            server.add_user(user)
        server.add_user(ADMIN, is_admin=True)
        server.add_user(OWNER, is_owner=True)
        server.add_user(OUTSIDER)
        server.add_channel(TEAM, MEMBERS, creator="U1")
        server.add_channel("C0OTHER", ["U2", "U3"], creator="U2")
        server.add_channel("C0SECOND", ["U4", ADMIN], creator="U4")
        yield server


@pytest.fixture
def rig(fake, tmp_path, models, scan):
    running = PulseRig(fake, tmp_path / "pulse.db", models, scan)
    yield running
    running.stop()


def settings(
    rig: PulseRig, user: str, words: str = "", team: str = TEAM_ID, command: str = "settings"
) -> Call:
    """`/maturity settings <words>` typed in the user's DM; the reply only they see."""
    mark = rig.fake.mark()
    text = f"{command} {words}".strip()
    assert rig.send.command(text, user, team=team).status_code == 200
    reply = rig.fake.wait_for(f"/response/{user}", after=mark)
    assert reply.params["response_type"] == "ephemeral"
    return reply


def test_an_admin_sets_k_time_zone_admins_and_language_others_are_refused(rig, fake):
    shown = settings(rig, ADMIN).params["text"]
    assert "K, the fewest answers a pulse result is shown from: 5 (the bot's default)" in shown
    assert "Time zone of pulses: Europe/Amsterdam (the bot's default)" in shown
    assert "/maturity settings k 4" in shown  # how to change them

    refused = settings(rig, OUTSIDER, "k 4").params["text"]
    assert refused.startswith("Only a workspace admin or owner may see and change")
    assert settings(rig, "U2").params["text"].startswith("Only a workspace admin or owner")
    assert rig.rows("select count(*) from workspace_settings") == [(0,)]

    too_low = settings(rig, ADMIN, "k 2").params["text"]
    assert "K must be a whole number of at least 3" in too_low and "K stays 5" in too_low
    assert "at least 3" in settings(rig, OWNER, "k two").params["text"]
    assert rig.rows("select count(*) from workspace_settings") == [(0,)]
    assert settings(rig, OWNER, "k 4").params["text"] == "Saved: K is now 4."

    assert "I cannot set that: colour" in settings(rig, ADMIN, "colour red").params["text"]
    assert "Time zone of pulses" in settings(rig, ADMIN, "timezone").params["text"]  # shown
    unknown = settings(rig, ADMIN, "timezone Mars/Olympus").params["text"]
    assert unknown.startswith("Mars/Olympus is not a known time zone")
    saved = settings(rig, ADMIN, "tijdzone America/New_York").params["text"]  # the Dutch word
    assert saved == "Saved: the time zone is now America/New_York."
    saved = settings(rig, ADMIN, "admins @u3 U5").params["text"]  # a handle, an id
    assert saved == "Saved: the list of pulse admins is now <@U3>, <@U5>."
    assert "I do not know @nobody" in settings(rig, ADMIN, "admins @nobody").params["text"]
    assert "nl, en" in settings(rig, ADMIN, "language fr").params["text"]
    saved = settings(rig, ADMIN, "taal nl").params["text"]
    assert saved == "Saved: the language for new members is now nl."
    assert rig.rows(
        "select lang, pulse_admins, min_responses, timezone from workspace_settings"
    ) == [("nl", "U3,U5", 4, "America/New_York")]

    # the admin too was never stored: Dutch from now on, as a member the bot has not met
    assert settings(rig, ADMIN, "k 4").params["text"] == "Opgeslagen: K is nu 4."
    # a member the bot has not met starts in the workspace's language, not their Slack locale
    assert settings(rig, "U6").params["text"].startswith("Alleen een beheerder of eigenaar")
    rig.dm_command("U7", "help")
    rig.fake.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "DU7")
    assert rig.rows("select lang from users where external_id = ?", f"{TEAM_ID}:U7") == [("nl",)]

    # kept over a restart, and shown as the workspace's own values (in Dutch now)
    rig.restart()
    shown = settings(rig, ADMIN, command="instellingen").params["text"]
    assert "K, het minimum aantal antwoorden voor een pulseresultaat: 4\n" in shown
    assert "Tijdzone van pulses: America/New_York" in shown
    assert "Pulsebeheerders: <@U3>, <@U5>" in shown
    assert "Taal voor nieuwe leden: nl" in shown

    # "standaard" brings the bot's own value back
    reset = settings(rig, ADMIN, "tijdzone standaard").params["text"]
    assert reset == "Opgeslagen: voor de tijdzone geldt weer de instelling van de bot."
    assert rig.rows("select timezone from workspace_settings") == [(None,)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE semantics")
def test_a_setting_that_cannot_be_saved_tells_the_admin_so(rig, fake):
    """A full disk: the admin is told, in their language, that it was not saved; nothing is."""
    from flows.i18n import t
    from tests.test_bad_environments import files_limited_to

    settings(rig, ADMIN)  # the database is past the limit below by now
    with files_limited_to(4096):
        reply = settings(rig, ADMIN, "k 4").params["text"]
    assert reply == t("not_saved", "en")
    assert rig.rows("select count(*) from workspace_settings") == [(0,)]
    assert settings(rig, ADMIN, "k 4").params["text"] == "Saved: K is now 4."  # room again


def test_the_home_tab_shows_the_settings_to_admins_only(rig, fake):
    settings(rig, ADMIN, "k 4")
    for user, shown in ((ADMIN, True), (OUTSIDER, False)):
        mark = fake.mark()
        assert rig.send.home_opened(user).status_code == 200
        home = fake.wait_for(
            "views.publish", lambda c, u=user: c.params.get("user_id") == u, after=mark
        )
        text = str(home.params["view"])
        assert ("Workspace settings" in text) is shown
        assert ("the fewest answers a pulse result is shown from: 4" in text) is shown


def test_a_new_admins_home_tab_asks_users_info_once_for_locale_and_role(rig, fake):
    """A first contact's users.info (for their Slack locale) also says they are an owner: the
    Home tab's settings part does not ask Slack a second time."""
    mark = fake.mark()
    assert rig.send.home_opened(OWNER).status_code == 200
    home = fake.wait_for("views.publish", lambda c: c.params.get("user_id") == OWNER, after=mark)
    assert "Workspace settings" in str(home.params["view"])
    asked = [c for c in fake.calls_to("users.info", after=mark) if c.params["user"] == OWNER]
    assert len(asked) == 1


def test_a_pulse_runs_with_its_workspaces_k_time_zone_and_admins(rig, fake, models):
    settings(rig, ADMIN, "k 4")
    settings(rig, ADMIN, "timezone America/New_York")
    settings(rig, ADMIN, "admins U3")

    # U3 created no channel and is no workspace admin: the workspace's pulse admins let them
    started = rig.pulse_command("U3", "start altimeter monthly", channel="C0OTHER")
    assert "Pulse started" in started.params["text"]
    refused = rig.pulse_command("U5", "start altimeter monthly", channel="C0OTHER")
    assert "Only a workspace admin or owner" in refused.params["text"]

    reply = rig.pulse_command("U1", "start groeimodel weekly tue 10:00")
    text = reply.params["text"]
    assert "every week on Tuesday at 10:00 (America/New_York)" in text
    assert "from 4 answers on" in text
    assert rig.rows("select timezone from pulses p join teams t on t.id = p.team_id "
                    "where t.external_id = ?", TEAM) == [("America/New_York",)]  # fmt: skip

    mark = rig.tick_at(DUE_NEW_YORK - timedelta(minutes=5))  # 10:00 in Amsterdam long past
    assert [c for c in fake.calls[mark:] if c.method == "chat.postMessage"] == []
    mark = rig.tick_at(DUE_NEW_YORK + timedelta(seconds=20))
    invited = {user: fake.posted(posts_to(fake, f"D{user}", after=mark)[0]) for user in MEMBERS}
    for user in MEMBERS[:4]:  # 4 answers: below the operator's K of 5, at this workspace's K
        rig.answer_until_result(user, 1, invited[user])
    mark = rig.tick_at(DUE_NEW_YORK + timedelta(hours=49))
    [report] = posts_to(fake, TEAM, after=mark)
    text = report.text_of_blocks()
    assert "4 of 6 members answered" in text
    assert f"The group's phase (median): {models['groeimodel'].phases[1].name.en}" in text
    assert "results are shown from" not in text


def test_another_workspace_keeps_the_operators_defaults(rig, fake):
    settings(rig, ADMIN, "k 4")
    settings(rig, ADMIN, "timezone America/New_York")
    shown = settings(rig, ADMIN, team=OTHER_WORKSPACE).params["text"]
    assert "pulse result is shown from: 5 (the bot's default)" in shown
    assert "Time zone of pulses: Europe/Amsterdam (the bot's default)" in shown

    mark = fake.mark()
    response = rig.send.command(
        "pulse start groeimodel weekly tue 10:00",
        ADMIN,
        team=OTHER_WORKSPACE,
        channel="C0SECOND",
        channel_name="second",
    )
    assert response.status_code == 200
    text = fake.wait_for(f"/response/{ADMIN}", after=mark).params["text"]
    assert "every week on Tuesday at 10:00 (Europe/Amsterdam)" in text
    assert "from 5 answers on" in text
