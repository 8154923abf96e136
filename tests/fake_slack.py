"""A fake Slack for tests, on 127.0.0.1 with ephemeral ports: no internet needed.

Three parts, reusable by any Slack feature:
- `FakeSlack`: the Web API (`base_url` for slack_sdk's WebClient). It records every call and
  answers like Slack does (auth.test, chat.postMessage/update/postEphemeral, views.publish,
  users.info, users.list, conversations.open, conversations.members, conversations.info,
  apps.connections.open, the
  three steps of files upload v2, response_url posts), and can be told to fail a method (HTTP 429
  with Retry-After, 500, or an `ok: false` error) or to enforce a rate limit like Slack's.
  A workspace directory (`add_user`, `add_channel`) feeds users.list, users.info and
  conversations.members, paginated with cursors as Slack does.
  OAuth ("Add to Slack"): `oauth_code(team)` is what Slack's authorize page hands the browser;
  oauth.v2.access exchanges it (once) for a bot token of that workspace, distinct per workspace.
  A call with such a token is that workspace's (`Call.team`): DMs it opens are the workspace's
  own (`D<team><user>`), Home views are kept per workspace (`team_views`), and a call that names
  a channel of another workspace is refused `channel_not_found` and kept in `wrong_workspace`.
- `SlackSender`: what Slack sends to an app over HTTP: signed slash commands, block_actions and
  Events API callbacks (signature as Slack specifies: HMAC-SHA256 over `v0:timestamp:body`).
- `serve_asgi`: runs an ASGI app (e.g. the Bolt app behind Starlette) with uvicorn in a thread.
"""

from __future__ import annotations

import base64
import itertools
import json
import socket
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from slack_sdk.signature import SignatureVerifier

TEAM_ID = "T0FAKE"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
BOT_TOKEN = "xoxb-fake-bot-token"


@dataclass
class Call:
    """One request to the fake: the Web API method (or path) and its merged parameters."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    body: bytes = b""
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)
    """What the fake answered (chat.postMessage: the channel and ts it gave the message)."""
    team: str | None = None
    """The workspace whose OAuth-issued token the call carried (None: another token)."""

    @property
    def ok(self) -> bool:
        """Whether the call succeeded (HTTP 200 and not `ok: false`)."""
        return self.status == 200 and self.response.get("ok") is not False

    @property
    def blocks(self) -> list[dict[str, Any]]:
        blocks = self.params.get("blocks") or []
        return json.loads(blocks) if isinstance(blocks, str) else blocks

    @property
    def view(self) -> dict[str, Any]:
        view = self.params.get("view") or {}
        return json.loads(view) if isinstance(view, str) else view

    def text_of_blocks(self) -> str:
        """Every text a user would read in the blocks (sections, headers, buttons, options),
        with mrkdwn's &amp; &lt; &gt; shown as the characters."""
        return "\n".join(_texts(self.blocks or self.view.get("blocks") or []))


def _texts(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
            text = node["text"]
            if node["type"] == "mrkdwn":  # as the client shows it
                text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
            yield text
        for value in node.values():
            yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


@dataclass
class Failure:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    times: int


@dataclass
class Member:
    """A workspace user as users.list / users.info describe them (the fields the bot reads)."""

    id: str
    name: str
    is_bot: bool = False
    deleted: bool = False
    is_admin: bool = False
    is_owner: bool = False
    locale: str = "en-US"

    def as_json(self, include_locale: bool) -> dict[str, Any]:
        info: dict[str, Any] = {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "deleted": self.deleted,
            "is_bot": self.is_bot,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_primary_owner": False,
        }
        if include_locale:
            info["locale"] = self.locale
        return info


class _Bucket:
    """A GCRA token bucket: `rate` calls per second on average, `burst` at once."""

    def __init__(self, rate: float, burst: int) -> None:
        self.interval = 1.0 / rate
        self.tolerance = (burst - 1) * self.interval
        self.tat = 0.0

    def admit(self, now: float) -> float:
        """0 when the call is allowed (and counted); else the seconds until it would be."""
        tat = max(self.tat, now)
        if tat - now > self.tolerance:
            return tat - self.tolerance - now
        self.tat = tat + self.interval
        return 0.0


@dataclass
class RateLimit:
    rate: float
    burst: int
    per_channel: bool
    buckets: dict[str, _Bucket] = field(default_factory=dict)


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def shown(self) -> list[str]:
        """Every text a user reads in the message's blocks, in order (see `Call.text_of_blocks`)."""
        return list(_texts(self.blocks))


class FakeSlack:
    """The Slack Web API, faked: start it, give `api_url` to the WebClient, read `calls`."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.messages: dict[tuple[str, str], Message] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, bytes] = {}
        self.files: list[dict[str, Any]] = []
        self.locales: dict[str, str] = {}
        """users.info locale per user id (default en-US)."""
        self.directory: dict[str, Member] = {}
        """The workspace's users (add_user), for users.list and users.info."""
        self.channels: dict[str, list[str]] = {}
        """Channel id -> member user ids (add_channel), for conversations.members."""
        self.dm_ids: dict[str, str] = {}
        """User id -> their DM's channel id, where it is not the usual `D<user>` (move_dm)."""
        self.closed_dms: set[str] = set()
        """DM channel ids that no longer exist: posting there is `channel_not_found`."""
        self.creators: dict[str, str] = {}
        """Channel id -> the user who created it (add_channel), for conversations.info."""
        self.socket_url = "ws://127.0.0.1:9/"
        """What apps.connections.open answers (a closed port: Socket Mode keeps retrying)."""
        self.oauth_client: tuple[str, str] | None = None
        """(client id, client secret) oauth.v2.access requires, when set."""
        self.tokens: dict[str, str] = {}
        """Bot token -> workspace, for the tokens oauth.v2.access issued."""
        self.channel_teams: dict[str, str] = {}
        """Channel id -> the workspace it belongs to (the DMs workspace tokens opened)."""
        self.team_views: dict[tuple[str, str], dict[str, Any]] = {}
        """(workspace, user) -> the Home view published with that workspace's token."""
        self.wrong_workspace: list[Call] = []
        """Calls refused for naming a channel of another workspace than their token's."""
        self._codes: dict[str, dict[str, Any]] = {}
        self._token_ids = itertools.count(1)
        self._limits: dict[str, RateLimit] = {}
        self._failures: dict[str, list[Failure]] = {}
        self._holds: dict[str, threading.Event] = {}
        self._passing: dict[str, int] = {}
        self.held: Counter[str] = Counter()
        """Calls that arrived while their method was held (see `hold`), per method."""
        self._lock = threading.Condition()
        self._ts = itertools.count(1)
        self._file_ids = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body leave in two writes: without this, on a kept-alive connection
            # Nagle's algorithm holds the body until the client's delayed ACK (about 40 ms)
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                fake._handle(self)

            def do_POST(self) -> None:  # noqa: N802
                fake._handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    # ---- addresses -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    @property
    def api_url(self) -> str:
        """The WebClient's base_url (ends with a slash, as slack_sdk requires)."""
        return self.url + "api/"

    def response_url(self, name: str = "1") -> str:
        return f"{self.url}response/{name}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeSlack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- test controls ---------------------------------------------------------------------
    def fail(
        self,
        method: str,
        status: int | None = None,
        *,
        retry_after: int | None = None,
        error: str | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` calls of `method` fail: with HTTP `status` (default 429, with
        Retry-After), or, given only `error`, with status 200 and `{"ok": false, "error": ...}`
        as Slack answers a refused token."""
        if status is None:
            status = 200 if error else 429
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        body = {"ok": False, "error": error or ("ratelimited" if status == 429 else "fatal_error")}
        with self._lock:
            self._failures.setdefault(method, []).append(Failure(status, headers, body, times))

    def oauth_code(
        self,
        team: str | None,
        *,
        installer: str = "U1",
        enterprise: str | None = None,
    ) -> str:
        """A code as Slack's authorize page gives it for `team` (valid once); `team` None with
        an `enterprise` is an org-wide install of that Grid organisation."""
        code = f"code-{team or enterprise}-{next(self._token_ids)}"
        with self._lock:
            self._codes[code] = {"team": team, "installer": installer, "enterprise": enterprise}
        return code

    def token_of(self, team: str) -> str | None:
        """The bot token oauth.v2.access last issued for `team`."""
        issued = [token for token, owner in self.tokens.items() if owner == team]
        return issued[-1] if issued else None

    def add_user(
        self,
        user: str,
        *,
        is_bot: bool = False,
        deleted: bool = False,
        is_admin: bool = False,
        is_owner: bool = False,
        locale: str | None = None,
    ) -> Member:
        """A user in the workspace directory (users.list; users.info with the role flags)."""
        member = Member(
            user,
            user.lower(),
            is_bot=is_bot,
            deleted=deleted,
            is_admin=is_admin,
            is_owner=is_owner,
            locale=locale or self.locales.get(user, "en-US"),
        )
        with self._lock:
            self.directory[user] = member
        return member

    def move_dm(self, user: str, new_id: str) -> None:
        """The user's DM channel is gone (posts there fail) and re-opening gives `new_id`."""
        with self._lock:
            self.closed_dms.add(self.dm_ids.get(user, "D" + user))
            self.dm_ids[user] = new_id

    def add_channel(
        self,
        channel: str,
        members: list[str],
        *,
        creator: str | None = None,
        team: str | None = None,
    ) -> None:
        """A channel, its member ids (humans, bots and deactivated users alike, as Slack) and
        the user who created it; with `team`, a channel of that workspace only (a call about it
        with another workspace's token is refused)."""
        with self._lock:
            self.channels[channel] = list(members)
            if creator is not None:
                self.creators[channel] = creator
            if team is not None:
                self.channel_teams[channel] = team

    def limit(self, method: str, rate: float, burst: int = 1, *, per_channel: bool = False) -> None:
        """Enforce a rate limit on `method` as Slack does: calls beyond `rate` per second (after
        a burst of `burst`) get HTTP 429 with Retry-After; `per_channel` keeps one bucket per
        `channel` parameter (chat.postMessage's 1 message per second per channel)."""
        with self._lock:
            self._limits[method] = RateLimit(rate, burst, per_channel)

    def hold(self, method: str, *, after: int = 0) -> threading.Event:
        """Make calls of `method` wait (up to 10 s) until the returned event is set: shows what
        the app does before a Web API call returns (e.g. that it acked Slack first). `after`:
        that many calls pass first (set before the app starts, so none slips by unheld)."""
        gate = threading.Event()
        with self._lock:
            self._holds[method] = gate
            self._passing[method] = after
        return gate

    def wait_held(self, method: str, count: int = 1, timeout: float = 30) -> None:
        """Wait until `count` calls of the held `method` have arrived (and wait for the gate)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self.held[method] < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {count} held {method} call(s) arrived")
                self._lock.wait(left)

    def calls_to(self, method: str, after: int = 0) -> list[Call]:
        """Calls of `method` (successful or not), from index `after` (see `mark`) on."""
        with self._lock:
            return [c for c in self.calls[after:] if c.method == method]

    def mark(self) -> int:
        """The number of calls so far: pass it as `after` to look only at what follows."""
        with self._lock:
            return len(self.calls)

    def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] = lambda call: True,
        *,
        count: int = 1,
        after: int = 0,
        timeout: float = 10.0,
    ) -> Call:
        """Wait until `count` successful calls of `method` (from index `after`) match
        `predicate`; returns the last of them. Polls a condition, never sleeps a fixed time."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [
                    c for c in self.calls[after:] if c.method == method and c.ok and predicate(c)
                ]
                if len(found) >= count:
                    return found[count - 1]
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [c.method for c in self.calls]
                    raise AssertionError(f"no {count} matching {method} call(s); calls: {seen}")
                self._lock.wait(left)

    def message(self, channel: str, ts: str) -> Message:
        """A posted message as it is now (after any chat.update)."""
        with self._lock:
            return self.messages[(channel, ts)]

    def posted(self, call: Call) -> Message:
        """The message a chat.postMessage call created, as it is now."""
        return self.message(call.response["channel"], call.response["ts"])

    def dm_messages(self, user: str) -> list[Message]:
        """The app's DM with `user`, oldest first, each as it is now."""
        with self._lock:
            found = [m for (channel, _), m in self.messages.items() if channel == f"D{user}"]
        return sorted(found, key=lambda m: float(m.ts))

    # ---- the server side -------------------------------------------------------------------
    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        parsed = urllib.parse.urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        params: dict[str, Any] = dict(urllib.parse.parse_qsl(parsed.query))
        content_type = request.headers.get("Content-Type", "")
        if parsed.path.startswith("/upload/"):
            pass  # the raw file bytes
        elif body and "application/json" in content_type:
            params.update(json.loads(body))
        elif body and "application/x-www-form-urlencoded" in content_type:
            params.update(urllib.parse.parse_qsl(body.decode()))
        path = parsed.path
        method = path.removeprefix("/api/") if path.startswith("/api/") else path
        call = Call(method, params, dict(request.headers.items()), body)
        with self._lock:
            gate = self._holds.get(method)
            if gate is not None and self._passing.get(method, 0) > 0:
                self._passing[method] -= 1
                gate = None
            if gate is not None:
                self.held[method] += 1
                self._lock.notify_all()
        if gate is not None:
            gate.wait(timeout=10)

        with self._lock:
            failure = self._take_failure(method) or self._over_limit(method, params)
            call.team = self.tokens.get(_token(request, params))
            if failure is not None:
                status, headers, payload = failure.status, failure.headers, failure.body
            elif method == "oauth.v2.access":
                status, headers, payload = 200, {}, self._oauth_access(request, params)
            elif path.startswith("/api/") and not self._authorised(request, params):
                status, headers, payload = 200, {}, {"ok": False, "error": "not_authed"}
            elif _token(request, params).startswith("xoxb-oauth-") and call.team is None:
                status, headers, payload = 200, {}, {"ok": False, "error": "invalid_auth"}
            elif call.team is not None and self._elsewhere(call.team, params):
                self.wrong_workspace.append(call)
                status, headers, payload = 200, {}, {"ok": False, "error": "channel_not_found"}
            elif call.team is not None and method in ("auth.test", "conversations.open"):
                status, headers, payload = 200, {}, self._workspace_answer(call.team, params)
            else:
                status, headers, payload = 200, {}, self._answer(method, params, body)
                if call.team is not None and method == "views.publish":
                    key = (call.team, str(params.get("user_id")))
                    self.team_views[key] = _load(params.get("view")) or {}
            call.status = status
            call.response = payload
            self.calls.append(call)
            self._lock.notify_all()

        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        for name, value in headers.items():
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def _take_failure(self, method: str) -> Failure | None:
        queue = self._failures.get(method) or []
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        return failure

    def _over_limit(self, method: str, params: dict[str, Any]) -> Failure | None:
        limit = self._limits.get(method)
        if limit is None:
            return None
        key = str(params.get("channel", "")) if limit.per_channel else ""
        bucket = limit.buckets.setdefault(key, _Bucket(limit.rate, limit.burst))
        wait = bucket.admit(time.monotonic())
        if wait <= 0:
            return None
        # Slack sends whole seconds; a fraction rounds up so a client that waits is let through
        retry = max(1, int(wait + 0.999))
        return Failure(429, {"Retry-After": str(retry)}, {"ok": False, "error": "ratelimited"}, 1)

    @staticmethod
    def _authorised(request: BaseHTTPRequestHandler, params: dict[str, Any]) -> bool:
        return _token(request, params).startswith(("xoxb-", "xoxp-", "xapp-"))

    def _oauth_access(
        self, request: BaseHTTPRequestHandler, params: dict[str, Any]
    ) -> dict[str, Any]:
        """oauth.v2.access: the app's credentials (HTTP Basic, or form fields) and a code
        issued by `oauth_code`, once; answers a new bot token for the code's workspace."""
        client = (str(params.get("client_id", "")), str(params.get("client_secret", "")))
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            pair = base64.b64decode(header.removeprefix("Basic ")).decode()
            client = (pair.split(":", 1)[0], pair.split(":", 1)[-1])
        if self.oauth_client is not None and client != self.oauth_client:
            return {"ok": False, "error": "invalid_client_id"}
        grant = self._codes.pop(str(params.get("code", "")), None)
        if grant is None:
            return {"ok": False, "error": "invalid_code"}
        team, enterprise = grant["team"], grant["enterprise"]
        owner = team or enterprise  # an org-wide token is the organisation's
        token = f"xoxb-oauth-{owner}-{next(self._token_ids)}"
        self.tokens[token] = owner
        return {
            "ok": True,
            "app_id": "A0FAKE",
            "authed_user": {"id": grant["installer"]},
            "scope": "chat:write,commands,im:history,users:read",
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": f"UBOT{owner}",
            "team": {"id": team, "name": f"Workspace {team}"} if team else None,
            "enterprise": {"id": enterprise, "name": "Org"} if enterprise else None,
            "is_enterprise_install": team is None,
        }

    def _elsewhere(self, team: str, params: dict[str, Any]) -> bool:
        """Whether the call names a channel of another workspace than its token's."""
        for name in ("channel", "channel_id"):
            owner = self.channel_teams.get(str(params.get(name, "")))
            if owner is not None and owner != team:
                return True
        return False

    def _workspace_answer(self, team: str, params: dict[str, Any]) -> dict[str, Any]:
        if "users" in params:  # conversations.open: the workspace's own DM with the user
            dm = f"D{team}{str(params['users']).split(',')[0]}"
            self.channel_teams[dm] = team
            return {"ok": True, "channel": {"id": dm}}
        return {
            "ok": True,
            "url": f"https://{team.lower()}.fake.slack.com/",
            "team": f"Workspace {team}",
            "user": "maturitybot",
            "team_id": team,
            "user_id": f"UBOT{team}",
            "bot_id": f"B{team}",
            "is_enterprise_install": False,
        }

    def _answer(self, method: str, params: dict[str, Any], body: bytes) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://fake.slack.com/",
                "team": "Fake workspace",
                "user": "maturitybot",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method == "conversations.open":
            users = str(params.get("users", ""))
            if not users:
                return {"ok": False, "error": "users_list_not_supplied"}
            user = users.split(",")[0]
            return {"ok": True, "channel": {"id": self.dm_ids.get(user, "D" + user)}}
        if method == "users.info":
            user = str(params.get("user", ""))
            include_locale = str(params.get("include_locale", "")).lower() in ("1", "true")
            if user in self.directory:
                return {"ok": True, "user": self.directory[user].as_json(include_locale)}
            info: dict[str, Any] = {"id": user, "team_id": TEAM_ID, "name": user.lower()}
            if include_locale:
                info["locale"] = self.locales.get(user, "en-US")
            return {"ok": True, "user": info}
        if method == "users.list":
            include_locale = str(params.get("include_locale", "")).lower() in ("1", "true")
            users = [m.as_json(include_locale) for m in self.directory.values()]
            page, cursor = _page(users, params)
            return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}
        if method == "conversations.members":
            channel = str(params.get("channel", ""))
            if channel not in self.channels:
                return {"ok": False, "error": "channel_not_found"}
            page, cursor = _page(self.channels[channel], params)
            return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}
        if method == "conversations.info":
            channel = str(params.get("channel", ""))
            if channel not in self.channels:
                return {"ok": False, "error": "channel_not_found"}
            info = {"id": channel, "is_channel": True, "creator": self.creators.get(channel, "")}
            return {"ok": True, "channel": info}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_url}
        if method == "chat.postMessage":
            channel = str(params.get("channel", ""))
            if channel in self.closed_dms:
                return {"ok": False, "error": "channel_not_found"}
            if channel.startswith("U"):
                channel = "D" + channel  # posting to a user id lands in the app's DM
            ts = f"{1700000000 + next(self._ts)}.000100"
            message = Message(channel, ts, params.get("text") or "", _load(params.get("blocks")))
            self.messages[(channel, ts)] = message
            return {"ok": True, "channel": channel, "ts": ts, "message": _as_json(message)}
        if method == "chat.update":
            key = (str(params.get("channel", "")), str(params.get("ts", "")))
            if key not in self.messages:
                return {"ok": False, "error": "message_not_found"}
            message = self.messages[key]
            message.text = params.get("text") or message.text
            message.blocks = _load(params.get("blocks"))
            return {"ok": True, "channel": key[0], "ts": key[1], "message": _as_json(message)}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{1700000000 + next(self._ts)}.000200"}
        if method == "views.publish":
            view = _load(params.get("view")) or {}
            self.views[str(params.get("user_id"))] = view
            return {"ok": True, "view": {"id": "V1", **view}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._file_ids):04d}"
            return {"ok": True, "file_id": file_id, "upload_url": f"{self.url}upload/{file_id}"}
        if method.startswith("/upload/"):
            self.uploads[method.removeprefix("/upload/")] = body
            return {"ok": True}
        if method == "files.completeUploadExternal":
            files = _load(params.get("files")) or []
            done = []
            for item in files:
                record = {
                    "id": item["id"],
                    "title": item.get("title"),
                    "channel_id": params.get("channel_id"),
                    "initial_comment": params.get("initial_comment"),
                    "content": self.uploads.get(item["id"], b""),
                }
                self.files.append(record)
                done.append({"id": item["id"], "title": item.get("title")})
            return {"ok": True, "files": done}
        if method.startswith("/response/"):
            return {"ok": True}
        return {"ok": False, "error": "unknown_method"}


def _token(request: BaseHTTPRequestHandler, params: dict[str, Any]) -> str:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ")
    return str(params.get("token", ""))


def _page(items: list[Any], params: dict[str, Any]) -> tuple[list[Any], str]:
    """One page of a cursor-paginated list (Slack's default page: 100) and the next cursor."""
    start = int(params.get("cursor") or 0)
    size = int(params.get("limit") or 100) or 100
    end = start + size
    return items[start:end], (str(end) if end < len(items) else "")


def _load(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _as_json(message: Message) -> dict[str, Any]:
    return {
        "type": "message",
        "bot_id": BOT_ID,
        "user": BOT_USER_ID,
        "ts": message.ts,
        "text": message.text,
        "blocks": message.blocks,
    }


class SlackSender:
    """Sends what Slack would send to the app's request URL, signed with the signing secret."""

    def __init__(self, url: str, signing_secret: str, fake: FakeSlack | None = None) -> None:
        self.url = url
        self.signing_secret = signing_secret
        self.fake = fake
        self.http = httpx.Client(timeout=10)
        self._event_ids = itertools.count(1)
        self._triggers = itertools.count(1)

    def close(self) -> None:
        self.http.close()

    def trigger_id(self) -> str:
        """Slack gives every command and interaction its own trigger_id, so no two requests
        have the same body (and signature), even within one second."""
        return f"{next(self._triggers)}.{int(time.time())}.fake"

    def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        secret: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = SignatureVerifier(secret or self.signing_secret).generate_signature(
            timestamp=stamp, body=body
        )
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature,
            **(headers or {}),
        }
        return self.http.post(self.url, content=body.encode(), headers=all_headers)

    def command(
        self,
        text: str,
        user: str,
        *,
        team: str = TEAM_ID,
        channel: str | None = None,
        channel_name: str | None = None,
        command: str = "/maturity",
        enterprise: str | None = None,
        org_wide: bool = False,
        **sign: Any,
    ) -> httpx.Response:
        """A slash command as Slack posts it (form fields), from the user's DM by default;
        `channel` (and its `channel_name`) for a command typed in a channel; `enterprise`
        (and `org_wide`) for a workspace of an Enterprise Grid organisation."""
        in_dm = channel is None or channel.startswith("D")
        fields = {
            "token": "legacy-verification-token",
            "team_id": team,
            "team_domain": "fake",
            "channel_id": channel or f"D{user}",
            "channel_name": "directmessage" if in_dm else (channel_name or "general"),
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0FAKE",
            "response_url": self.fake.response_url(user) if self.fake else "http://127.0.0.1:9/",
            "trigger_id": self.trigger_id(),
        }
        if enterprise is not None:
            fields["enterprise_id"] = enterprise
            fields["enterprise_name"] = "Org"
            fields["is_enterprise_install"] = "true" if org_wide else "false"
        body = urllib.parse.urlencode(fields)
        return self.post(body, "application/x-www-form-urlencoded", **sign)

    def action(
        self,
        user: str,
        action: dict[str, Any],
        *,
        message: Message | None = None,
        team: str = TEAM_ID,
        view: dict[str, Any] | None = None,
        enterprise: str | None = None,
        org_wide: bool = False,
        **sign: Any,
    ) -> httpx.Response:
        """A block_actions payload: a press on a DM message, or on the Home view."""
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": team},
            "api_app_id": "A0FAKE",
            "token": "legacy-verification-token",
            "team": {"id": team, "domain": "fake"},
            "trigger_id": self.trigger_id(),
            "actions": [{**action, "action_ts": f"{time.time():.6f}"}],
        }
        if enterprise is not None:
            payload["enterprise"] = {"id": enterprise, "name": "Org"}
            payload["user"]["enterprise_id"] = enterprise
            payload["is_enterprise_install"] = org_wide
        if message is not None:
            payload["container"] = {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel,
                "is_ephemeral": False,
            }
            payload["channel"] = {"id": message.channel, "name": "directmessage"}
            payload["message"] = _as_json(message)
            payload["response_url"] = self.fake.response_url(user) if self.fake else ""
        else:
            payload["container"] = {"type": "view", "view_id": "V1"}
            payload["view"] = {"id": "V1", "type": "home", **(view or {})}
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded", **sign)

    def event(
        self,
        event: dict[str, Any],
        *,
        team: str = TEAM_ID,
        event_id: str | None = None,
        retry_num: int | None = None,
        enterprise: str | None = None,
        org_wide: bool = False,
        **sign: Any,
    ) -> httpx.Response:
        """An Events API callback (JSON); a retry repeats the event_id with X-Slack-Retry-Num."""
        envelope = {
            "token": "legacy-verification-token",
            "team_id": team,
            "api_app_id": "A0FAKE",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._event_ids):06d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team, "user_id": BOT_USER_ID, "is_bot": True}],
        }
        if enterprise is not None:
            envelope["enterprise_id"] = enterprise
            envelope["is_ext_shared_channel"] = False
            envelope["authorizations"] = [
                {
                    "enterprise_id": enterprise,
                    "team_id": None if org_wide else team,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": org_wide,
                }
            ]
        headers = dict(sign.pop("headers", None) or {})
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        return self.post(json.dumps(envelope), "application/json", headers=headers, **sign)

    def dm(self, user: str, text: str, **kwargs: Any) -> httpx.Response:
        """The user types `text` in the DM with the app."""
        event = {
            "type": "message",
            "channel": f"D{user}",
            "channel_type": "im",
            "user": user,
            "text": text,
            "ts": f"{time.time():.6f}",
            "team": kwargs.get("team", TEAM_ID),
        }
        return self.event(event, **kwargs)

    def home_opened(self, user: str, **kwargs: Any) -> httpx.Response:
        event = {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home"}
        return self.event(event, **kwargs)


@contextmanager
def serve_asgi(app: Any) -> Iterator[str]:
    """Run an ASGI app on 127.0.0.1 (ephemeral port) in a thread; yields its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the ASGI server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
