"""The sign-in links and sessions (bot/storage/web_sessions.py) on both backends: only hashes
stored, a link good once and for ten minutes, a session until its expiry or sign-out, expired
rows cleaned, and /forget taking a person's links and sessions with the rest."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from bot.storage import Storage
from bot.storage.web_sessions import WebSessionStore
from bot.web.viewer import Viewer, WebSession

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ADMIN = Viewer("slack", "T1:U1", "nl", "T1", True)
GROUP_OWNER = Viewer("telegram", "42", "en", None, True, ("-1001", "-1002"))


@pytest.fixture
def store(database_target):
    storage = Storage(database_target)
    yield WebSessionStore(storage)
    storage.close()


def count(store: WebSessionStore, table: str) -> int:
    return store.connection._rows(f"select count(*) as n from {table}")[0]["n"]


def test_a_link_is_stored_as_its_hash_and_signs_in_once(store):
    token = store.issue_link(ADMIN, now=T0)
    rows = store.connection._rows("select token_hash, external_id, used_at from web_links")
    assert rows == [
        {"token_hash": hashlib.sha256(token.encode()).hexdigest(), "external_id": "T1:U1",
         "used_at": None}
    ]  # fmt: skip
    session = store.redeem_link(token, session_hours=8, now=T0 + timedelta(minutes=3))
    assert isinstance(session, WebSession)
    assert session.viewer == ADMIN
    stored = store.connection._rows("select id_hash, csrf_secret from web_sessions")
    assert stored[0]["id_hash"] == hashlib.sha256(session.session_id.encode()).hexdigest()
    assert session.session_id not in str(stored)
    again = store.redeem_link(token, session_hours=8, now=T0 + timedelta(minutes=4))
    assert again.state == "used" and again.lang == "nl"
    assert count(store, "web_sessions") == 1


def test_a_link_expires_after_ten_minutes_and_unknown_ones_are_refused(store):
    token = store.issue_link(GROUP_OWNER, now=T0)
    assert store.link_state(token, now=T0 + timedelta(minutes=9)).state == "valid"
    late = store.redeem_link(token, session_hours=8, now=T0 + timedelta(minutes=10, seconds=1))
    assert late.state == "expired" and late.lang == "en"
    assert store.redeem_link("made-up", session_hours=8, now=T0).state == "unknown"
    assert count(store, "web_sessions") == 0


def test_a_session_lives_until_its_expiry_or_sign_out(store):
    token = store.issue_link(GROUP_OWNER, now=T0)
    session = store.redeem_link(token, session_hours=2, now=T0)
    found = store.session(session.session_id, now=T0 + timedelta(hours=1))
    assert found is not None and found.viewer.admin_of_groups == ("-1001", "-1002")
    assert found.csrf_token == session.csrf_token
    assert store.session(session.session_id, now=T0 + timedelta(hours=2)) is None
    other = store.redeem_link(store.issue_link(ADMIN, now=T0), session_hours=2, now=T0)
    store.end_session(other.session_id)
    assert store.session(other.session_id, now=T0) is None


def test_expired_rows_are_cleaned_when_links_are_issued(store):
    old = store.issue_link(ADMIN, now=T0)
    store.redeem_link(old, session_hours=1, now=T0)
    store.issue_link(ADMIN, now=T0 + timedelta(days=2))
    assert count(store, "web_links") == 1  # the old link went a day after it expired
    assert count(store, "web_sessions") == 0  # the session ran out long ago


def test_forget_deletes_a_persons_links_and_sessions(store):
    from bot.storage.users import User

    storage = store.connection
    with storage.transaction():
        user = storage.user("slack", "T1:U1", "nl")
    store.redeem_link(store.issue_link(ADMIN), session_hours=8)
    store.issue_link(ADMIN)
    store.issue_link(GROUP_OWNER)
    with storage.transaction():
        assert storage.forget_user(User(user.id, "slack", "T1:U1", "nl"))
    rows = storage._rows("select external_id from web_links union all "
                         "select external_id from web_sessions")  # fmt: skip
    assert rows == [{"external_id": "42"}]  # only the other person's link is left


def test_purging_a_workspace_deletes_its_members_links_and_sessions(store):
    from bot.storage.purge import Uninstalls

    store.redeem_link(store.issue_link(ADMIN), session_hours=8)  # T1:U1, never assessed
    other = Viewer("slack", "T2:U1", "en", "T2", False)
    store.issue_link(other)
    counts = Uninstalls(store.connection).purge_workspace("T1")
    assert counts["web_links"] == 1 and counts["web_sessions"] == 1
    rows = store.connection._rows("select external_id from web_links union all "
                                  "select external_id from web_sessions")  # fmt: skip
    assert rows == [{"external_id": "T2:U1"}]


def test_export_holds_a_persons_sign_ins_without_their_secrets(store):
    from bot.storage.users import User

    session = store.redeem_link(store.issue_link(ADMIN, now=T0), session_hours=8, now=T0)
    exported = store.connection.export_user(User(0, "slack", "T1:U1", "nl"))
    assert [row["used_at"] for row in exported["dashboard_sign_in_links"]] == [T0.isoformat()]
    assert exported["dashboard_sessions"] == [
        {"lang": "nl", "workspace": "T1", "workspace_admin": 1, "admin_of_groups": "",
         "created_at": T0.isoformat(), "expires_at": (T0 + timedelta(hours=8)).isoformat()}
    ]  # fmt: skip
    assert session.session_id not in str(exported) and session.csrf_token not in str(exported)
