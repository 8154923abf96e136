"""A fake Telegram Bot API for tests, on 127.0.0.1 with an ephemeral port: no internet needed.

The real python-telegram-bot talks to it through `base_url` (requests go to
`{url}bot{token}/{method}`, as with a self-hosted Bot API server). It answers like Telegram:
form-encoded or multipart parameters in, `{"ok": ..., "result": ...}` out, the same error codes
and descriptions, and the checks a bot gets wrong most (HTML that does not parse, a message over
4096 characters, callback_data over 64 bytes, editing a message to what it already says,
answering a callback query twice). It keeps each chat as the user sees it (edits applied), and
plays the user's side: typed messages and button presses become updates served by getUpdates
(long polling, offsets confirmed like Telegram) or posted to a webhook.

Groups: a group exists once someone writes in it or `set_member` gives someone a status there
(getChatMember answers with it: creator, administrator, member, restricted, left, kicked). A
private chat exists only once its user wrote to the bot: before that, sending there is refused
with 403 "bot can't initiate conversation with a user", as at Telegram.

Reusable by any Telegram feature: `FakeTelegram` (the server and the chats), `TgUser` and
`TgChat` (who talks) and `post_webhook` (what Telegram posts to a webhook).
"""

from __future__ import annotations

import copy
import email.parser
import email.policy
import itertools
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

TOKEN = "123456789:AAHfakeTokenForTests-0123456789_abc"
BOT_ID = 123456789
BOT_USERNAME = "maturity_test_bot"
ANONYMOUS_ADMIN_ID = 1087968824
"""GroupAnonymousBot: the `from` of messages an anonymous admin sends as the group."""
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_LIMIT = 64
TOAST_LIMIT = 200
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")

assert re.fullmatch(r"\d+:[A-Za-z0-9_-]{35}", TOKEN), "the test token must look like a real one"


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class ApiError(Exception):
    """An error answer: HTTP status = error_code, with Telegram's description."""

    def __init__(self, code: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


# ---- who talks -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TgUser:
    id: int
    first_name: str = "Tester"
    language_code: str | None = "en"
    is_bot: bool = False

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "is_bot": self.is_bot,
            "first_name": self.first_name,
        }
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass(frozen=True)
class TgChat:
    id: int
    type: str = "private"
    title: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.title:
            data["title"] = self.title
        return data


def private_chat(user: TgUser) -> TgChat:
    return TgChat(user.id, "private")


_ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_change_info",
    "can_invite_users",
)
_RESTRICTED_RIGHTS = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
    "can_edit_tag",
)
MEMBER_STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")


def chat_member(status: str, user: dict[str, Any]) -> dict[str, Any]:
    """A ChatMember as getChatMember returns it, with the fields its status requires."""
    data: dict[str, Any] = {"status": status, "user": user}
    if status == "creator":
        data["is_anonymous"] = False
    elif status == "administrator":
        data.update(dict.fromkeys(_ADMIN_RIGHTS, True))
        data.update(
            can_be_edited=False,
            is_anonymous=False,
            can_promote_members=False,
            can_post_stories=False,
            can_edit_stories=False,
            can_delete_stories=False,
        )
    elif status == "restricted":
        data.update(dict.fromkeys(_RESTRICTED_RIGHTS, False), is_member=True, until_date=0)
    elif status == "kicked":
        data["until_date"] = 0
    elif status not in ("member", "left"):
        raise ValueError(f"unknown chat member status {status!r}")
    return data


# ---- messages as the user sees them --------------------------------------------------------------
@dataclass
class Msg:
    """A message in a chat, as it is now (edits applied)."""

    message_id: int
    chat: TgChat
    sender: dict[str, Any]
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    photo: bytes | None = None
    document: bytes | None = None
    file_name: str | None = None
    caption: str | None = None
    from_bot: bool = True
    edits: int = 0
    date: int = field(default_factory=lambda: int(time.time()))
    sender_chat: TgChat | None = None
    """Set when the message was sent on behalf of a chat (a group's anonymous admin)."""

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """The inline buttons, row after row, as a user sees them now."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [key for row in rows for key in row]

    @property
    def button_texts(self) -> list[str]:
        return [key["text"] for key in self.buttons]

    def button(self, text: str) -> dict[str, Any]:
        for key in self.buttons:
            if key["text"] == text:
                return key
        raise AssertionError(f"no button {text!r} on message: {self.button_texts}")

    def shown(self) -> str:
        """What the user reads: the text, or the caption of a photo or document."""
        return self.text if self.text is not None else (self.caption or "")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "date": self.date,
            "chat": self.chat.to_json(),
            "from": self.sender,
        }
        if self.sender_chat is not None:
            data["sender_chat"] = self.sender_chat.to_json()
        if self.text is not None:
            data["text"] = self.text
            if self.entities:
                data["entities"] = self.entities
        if self.caption is not None:
            data["caption"] = self.caption
        if self.photo is not None:
            data["photo"] = [
                {
                    "file_id": f"photo-{self.message_id}",
                    "file_unique_id": f"p{self.message_id}",
                    "width": 600,
                    "height": 600,
                    "file_size": len(self.photo),
                }
            ]
        if self.document is not None:
            data["document"] = {
                "file_id": f"doc-{self.message_id}",
                "file_unique_id": f"d{self.message_id}",
                "file_name": self.file_name,
                "file_size": len(self.document),
            }
        if self.reply_markup:
            data["reply_markup"] = self.reply_markup
        return data


@dataclass
class Call:
    """One request to the fake: the API method, its parameters (strings, as sent) and files."""

    method: str
    params: dict[str, str]
    files: dict[str, tuple[str | None, bytes]]
    headers: dict[str, str]
    status: int = 200
    result: Any = None
    description: str | None = None
    at: float = field(default_factory=time.monotonic)
    """When the request arrived (time.monotonic), for pacing measurements."""

    @property
    def ok(self) -> bool:
        return self.status == 200

    def json(self, name: str) -> Any:
        """A JSON-encoded parameter (reply_markup, commands, ...)."""
        value = self.params.get(name)
        return json.loads(value) if value else None


@dataclass
class Failure:
    status: int
    description: str
    retry_after: int | None
    drop: bool
    times: int


# ---- HTML parse mode -----------------------------------------------------------------------------
_ENTITY_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
}


class _EntityParser(HTMLParser):
    """Telegram's HTML parse mode: the supported tags become entities (UTF-16 offsets)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.position = 0
        self.open: list[tuple[str, int, dict[str, str | None]]] = []
        self.entities: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ENTITY_TAGS:
            raise ApiError(
                400, f'Bad Request: can\'t parse entities: Unsupported start tag "{tag}"'
            )
        self.open.append((tag, self.position, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1][0] != tag:
            raise ApiError(400, f'Bad Request: can\'t parse entities: Unexpected end tag "{tag}"')
        _, start, attrs = self.open.pop()
        if self.position > start:
            entity: dict[str, Any] = {
                "type": _ENTITY_TAGS[tag],
                "offset": start,
                "length": self.position - start,
            }
            if tag == "a":
                entity["url"] = attrs.get("href") or ""
            self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        self.position += utf16_len(data)


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """(plain text, entities) as Telegram makes them from an HTML-formatted text."""
    if re.search(r"<(?![a-zA-Z/])", source):
        raise ApiError(400, "Bad Request: can't parse entities: unescaped '<' in the text")
    parser = _EntityParser()
    parser.feed(source)
    parser.close()
    if parser.open:
        raise ApiError(
            400, f"Bad Request: can't parse entities: Can't find end tag \"{parser.open[-1][0]}\""
        )
    entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
    return "".join(parser.text), entities


def command_entities(text: str) -> list[dict[str, Any]]:
    """A typed /command gets a bot_command entity, as Telegram adds it."""
    if not text.startswith("/"):
        return []
    word = text.split(maxsplit=1)[0]
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(word)}]


# ---- the fake ------------------------------------------------------------------------------------
class FakeTelegram:
    """The Bot API, faked: start it, give `base_url` to the bot, play the user, read `calls`."""

    def __init__(self, token: str = TOKEN, username: str = BOT_USERNAME) -> None:
        self.token = token
        self.username = username
        self.bot_user = {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Maturity Bot",
            "username": username,
        }
        self.calls: list[Call] = []
        self.chats: dict[int, list[Msg]] = {}
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        """setMyCommands per (scope type, language_code)."""
        self.webhook: dict[str, str] = {}
        self.toasts: list[dict[str, Any]] = []
        """answerCallbackQuery calls that succeeded: id, text, show_alert, url."""
        self.users: dict[int, dict[str, Any]] = {}
        """Every user who wrote or pressed something, as Telegram describes them."""
        self.groups: dict[int, TgChat] = {}
        self.members: dict[int, dict[int, str]] = {}
        """Group chat id -> user id -> status (getChatMember; "member" when not set)."""
        self._pending: list[dict[str, Any]] = []
        """Updates not yet confirmed by a getUpdates offset."""
        self._redelivered: list[dict[str, Any]] = []
        self._queries: dict[str, bool] = {}
        """callback query id -> answered."""
        self._failures: dict[str, list[Failure]] = {}
        self._lock = threading.Condition()
        self._update_ids = itertools.count(10_001)
        self._message_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._closed = False
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # small answers would wait for delayed ACKs
            wbufsize = -1  # headers and body leave in one write

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                fake._handle(self)

            def do_GET(self) -> None:  # noqa: N802
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
    def base_url(self) -> str:
        """python-telegram-bot's base_url: the token and the method are appended."""
        return self.url + "bot"

    @property
    def base_file_url(self) -> str:
        return self.url + "file/bot"

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeTelegram:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the user's side ---------------------------------------------------------------------
    def send(
        self,
        user: TgUser,
        text: str,
        chat: TgChat | None = None,
        *,
        deliver: bool = True,
        as_chat: bool = False,
    ) -> dict[str, Any]:
        """The user types `text` (in their private chat with the bot unless `chat` is given).
        The update is served by getUpdates; with `deliver=False` it is only returned, for a
        test to post it to the bot's webhook. `as_chat`: sent as the group itself, as an
        anonymous admin's messages are (`user` is then Telegram's GroupAnonymousBot)."""
        chat = chat or private_chat(user)
        with self._lock:
            self.users[user.id] = user.to_json()
            if chat.type != "private":
                self.groups.setdefault(chat.id, chat)
            message = Msg(
                next(self._message_ids),
                chat,
                user.to_json(),
                text=text,
                entities=command_entities(text),
                from_bot=False,
                sender_chat=chat if as_chat else None,
            )
            self.chats.setdefault(chat.id, []).append(message)
            update = {"update_id": next(self._update_ids), "message": message.to_json()}
            if deliver:
                self._queue(update)
        return update

    def press(
        self,
        user: TgUser,
        message: Msg,
        text: str | None = None,
        index: int = 0,
        *,
        data: str | None = None,
    ) -> dict[str, Any]:
        """The user presses a button on `message` (by its text, its callback data, or the
        `index`-th button), as the message is shown now: a button that is gone cannot be
        pressed."""
        with self._lock:
            self.users[user.id] = user.to_json()
            current = self._find(message.chat.id, message.message_id)
            if text is not None:
                key = current.button(text)
            elif data is not None:
                found = [k for k in current.buttons if k.get("callback_data") == data]
                if not found:
                    raise AssertionError(f"no button with data {data!r}: {current.buttons}")
                key = found[0]
            else:
                if index >= len(current.buttons):
                    raise AssertionError(f"no button {index} on message: {current.button_texts}")
                key = current.buttons[index]
            if "callback_data" not in key:
                raise AssertionError(f"button {key['text']!r} is a link, not a callback")
            query_id = f"q{next(self._query_ids)}"
            self._queries[query_id] = False
            update = {
                "update_id": next(self._update_ids),
                "callback_query": {
                    "id": query_id,
                    "from": user.to_json(),
                    "chat_instance": f"ci{current.chat.id}",
                    "data": key["callback_data"],
                    "message": current.to_json(),
                },
            }
            self._queue(update)
        return update

    def set_member(self, chat: TgChat, user: TgUser, status: str = "member") -> None:
        """`user` is in the group `chat` with `status` (creator, administrator, member,
        restricted, left, kicked), as getChatMember will say; the group exists from now on."""
        if status not in MEMBER_STATUSES:
            raise ValueError(f"unknown chat member status {status!r}")
        with self._lock:
            self.users[user.id] = user.to_json()
            self.groups.setdefault(chat.id, chat)
            self.members.setdefault(chat.id, {})[user.id] = status

    def redeliver(self, update: dict[str, Any]) -> None:
        """Serve an update again with the same update_id, as Telegram does when the bot's
        confirmation was lost (the process crashed between handling and the next getUpdates)."""
        with self._lock:
            self._redelivered.append(copy.deepcopy(update))
            self._lock.notify_all()

    def _queue(self, update: dict[str, Any]) -> None:
        self._pending.append(update)
        self._lock.notify_all()

    # ---- test controls ---------------------------------------------------------------------
    def fail(
        self,
        method: str,
        status: int = 429,
        *,
        retry_after: int | None = None,
        description: str | None = None,
        drop: bool = False,
        times: int = 1,
    ) -> None:
        """The next `times` calls of `method` fail: HTTP `status` with Telegram's answer (429:
        `parameters.retry_after`), or, with `drop`, the connection closes without an answer."""
        if description is None:
            description = {
                429: f"Too Many Requests: retry after {retry_after or 1}",
                403: "Forbidden: bot was blocked by the user",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(status, "Bad Request")
        if status == 429 and retry_after is None:
            retry_after = 1
        with self._lock:
            self._failures.setdefault(method, []).append(
                Failure(status, description, retry_after, drop, times)
            )

    def mark(self) -> int:
        """The number of calls so far: pass it as `after` to look only at what follows."""
        with self._lock:
            return len(self.calls)

    def calls_to(self, method: str, after: int = 0) -> list[Call]:
        with self._lock:
            return [c for c in self.calls[after:] if c.method == method]

    def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] = lambda call: True,
        *,
        count: int = 1,
        after: int = 0,
        timeout: float = 10.0,
        status: int | None = 200,
    ) -> Call:
        """Wait until `count` calls of `method` (from index `after`) answered with `status`
        (None: any) match `predicate`; returns the last of them. Waits on a condition, never a
        fixed time."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [
                    c
                    for c in self.calls[after:]
                    if c.method == method
                    and (status is None or c.status == status)
                    and predicate(c)
                ]
                if len(found) >= count:
                    return found[count - 1]
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [f"{c.method}:{c.status}" for c in self.calls[after:]]
                    raise AssertionError(f"no {count} matching {method} call(s); calls: {seen}")
                self._lock.wait(left)

    def wait_message(
        self,
        chat_id: int,
        predicate: Callable[[Msg], bool] = lambda m: True,
        *,
        after: int = 0,
        timeout: float = 10.0,
    ) -> Msg:
        """The first message the bot sent to `chat_id` (from call index `after` on) that
        matches `predicate` as it is now; waits for it."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for message in self._sent(chat_id, after):
                    if predicate(message):
                        return message
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [m.shown()[:60] for m in self._sent(chat_id, after)]
                    raise AssertionError(f"no matching message in chat {chat_id}; sent: {seen}")
                self._lock.wait(left)

    def sent(self, chat_id: int, after: int = 0) -> list[Msg]:
        """Messages the bot sent to `chat_id` from call index `after` on, as they are now."""
        with self._lock:
            return self._sent(chat_id, after)

    def _sent(self, chat_id: int, after: int) -> list[Msg]:
        ids = [
            c.result["message_id"]
            for c in self.calls[after:]
            if c.ok
            and c.method in ("sendMessage", "sendPhoto", "sendDocument")
            and c.result["chat"]["id"] == chat_id
        ]
        return [self._find(chat_id, message_id) for message_id in ids]

    def transcript(self, chat_id: int) -> list[Msg]:
        """The whole chat, the user's messages and the bot's, oldest first."""
        with self._lock:
            return list(self.chats.get(chat_id, []))

    def message(self, chat_id: int, message_id: int) -> Msg:
        with self._lock:
            return self._find(chat_id, message_id)

    def pending_updates(self) -> int:
        with self._lock:
            return len(self._pending) + len(self._redelivered)

    # ---- the server side -------------------------------------------------------------------
    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        parsed = urllib.parse.urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        params, files = _parse_body(request.headers.get("Content-Type", ""), body)
        params.update(dict(urllib.parse.parse_qsl(parsed.query)))
        match = re.fullmatch(r"/bot([^/]+)/([A-Za-z]+)", parsed.path)
        method = match.group(2) if match else parsed.path
        call = Call(method, params, files, dict(request.headers.items()))
        failure = None
        with self._lock:
            failure = self._take_failure(method)
        if failure is not None and failure.drop:
            with self._lock:
                call.status, call.description = 0, "connection dropped"
                self.calls.append(call)
                self._lock.notify_all()
            request.close_connection = True
            request.connection.close()
            return
        try:
            if match is None:
                raise ApiError(404, "Not Found")
            if match.group(1) != self.token:
                raise ApiError(401, "Unauthorized")
            if failure is not None:
                parameters = {"retry_after": failure.retry_after} if failure.retry_after else None
                raise ApiError(failure.status, failure.description, parameters)
            if method == "getUpdates":  # recorded as it starts: a long poll shows the bot is up
                with self._lock:
                    self.calls.append(call)
                    self._lock.notify_all()
                result = self._get_updates(params)  # waits without holding the lock
                with self._lock:
                    call.result = result
                    self._lock.notify_all()
            else:
                with self._lock:
                    result = self._answer(method, params, files)
                    call.result = result
                    self.calls.append(call)
                    self._lock.notify_all()
            payload: dict[str, Any] = {"ok": True, "result": result}
            status = 200
        except ApiError as error:
            status = error.code
            payload = {"ok": False, "error_code": error.code, "description": error.description}
            if error.parameters:
                payload["parameters"] = error.parameters
            with self._lock:
                call.status, call.description = status, error.description
                if not any(c is call for c in self.calls):
                    self.calls.append(call)
                self._lock.notify_all()
        data = json.dumps(payload).encode()
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)
        except OSError:
            pass  # the bot gave up on a long poll (it is stopping)

    def _take_failure(self, method: str) -> Failure | None:
        queue = self._failures.get(method) or []
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        return failure

    def _get_updates(self, params: dict[str, str]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + min(timeout, 5.0)
        with self._lock:
            if offset > 0:  # confirms every update before the offset
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
            while True:
                ready = self._redelivered + [
                    u for u in self._pending if u["update_id"] >= max(offset, 0)
                ]
                left = deadline - time.monotonic()
                if ready or left <= 0 or self._closed:
                    break
                self._lock.wait(left)
            self._redelivered = []
            return copy.deepcopy(ready[:limit])

    def _answer(self, method: str, params: dict[str, str], files: dict) -> Any:
        if method == "getMe":
            return dict(self.bot_user)
        if method == "deleteWebhook":
            self.webhook = {}
            if params.get("drop_pending_updates") in ("true", "True", "1"):
                self._pending = []
            return True
        if method == "setWebhook":
            url = params.get("url", "")
            secret = params.get("secret_token")
            if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
                raise ApiError(400, "Bad Request: secret token contains unallowed characters")
            self.webhook = {"url": url, "secret_token": secret or ""}
            return True
        if method == "getWebhookInfo":
            return {
                "url": self.webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(self._pending),
            }
        if method == "setMyCommands":
            return self._set_commands(params)
        if method == "getMyCommands":
            scope = json.loads(params.get("scope") or '{"type": "default"}')["type"]
            return self.commands.get((scope, params.get("language_code", "")), [])
        if method == "sendChatAction":
            return True
        if method == "getChatMember":
            chat = self._chat(params)
            user_id = int(params.get("user_id") or 0)
            user = self.users.get(user_id)
            if user is None:
                raise ApiError(400, "Bad Request: PARTICIPANT_ID_INVALID")
            return chat_member(self.members.get(chat.id, {}).get(user_id, "member"), user)
        if method == "sendMessage":
            text, entities = self._text(params, "text", TEXT_LIMIT)
            message = self._new_message(params, text=text, entities=entities)
            return message.to_json()
        if method == "sendPhoto":
            photo = files.get("photo")
            if photo is None:
                raise ApiError(400, "Bad Request: there is no photo in the request")
            message = self._new_message(params, photo=photo[1])
            return message.to_json()
        if method == "sendDocument":
            document = files.get("document")
            if document is None:
                raise ApiError(400, "Bad Request: there is no document in the request")
            message = self._new_message(params, document=document[1], file_name=document[0])
            return message.to_json()
        if method == "editMessageText":
            message = self._editable(params)
            text, entities = self._text(params, "text", TEXT_LIMIT)
            markup = self._markup(params)
            if (
                text == message.text
                and entities == message.entities
                and (markup == message.reply_markup)
            ):
                raise ApiError(
                    400,
                    "Bad Request: message is not modified: specified new message content and "
                    "reply markup are exactly the same as a current content and reply markup "
                    "of the message",
                )
            message.text, message.entities, message.reply_markup = text, entities, markup
            message.edits += 1
            return message.to_json()
        if method == "editMessageReplyMarkup":
            message = self._editable(params)
            markup = self._markup(params)
            if markup == message.reply_markup:
                raise ApiError(
                    400,
                    "Bad Request: message is not modified: specified new message content and "
                    "reply markup are exactly the same as a current content and reply markup "
                    "of the message",
                )
            message.reply_markup = markup
            message.edits += 1
            return message.to_json()
        if method == "answerCallbackQuery":
            query_id = params.get("callback_query_id", "")
            if self._queries.get(query_id, True):
                raise ApiError(
                    400,
                    "Bad Request: query is too old and response timeout expired or query ID is "
                    "invalid",
                )
            text = params.get("text")
            if text is not None and utf16_len(text) > TOAST_LIMIT:
                raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
            self._queries[query_id] = True
            self.toasts.append(
                {
                    "id": query_id,
                    "text": text,
                    "show_alert": params.get("show_alert") == "true",
                    "url": params.get("url"),
                }
            )
            return True
        raise ApiError(404, "Not Found")

    def _set_commands(self, params: dict[str, str]) -> bool:
        commands = json.loads(params.get("commands") or "[]")
        if len(commands) > 100:
            raise ApiError(400, "Bad Request: too many commands")
        for command in commands:
            if not COMMAND_RE.fullmatch(command.get("command", "")):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        language = params.get("language_code", "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise ApiError(400, "Bad Request: LANG_CODE_INVALID")
        scope = json.loads(params.get("scope") or '{"type": "default"}')["type"]
        self.commands[(scope, language)] = commands
        return True

    # ---- message helpers (called with the lock held) -------------------------------------------
    def _chat(self, params: dict[str, str]) -> TgChat:
        raw = params.get("chat_id", "")
        try:
            chat_id = int(raw)
        except ValueError:
            raise ApiError(400, "Bad Request: chat not found") from None
        for message in self.chats.get(chat_id, []):
            return message.chat
        if chat_id in self.groups:
            return self.groups[chat_id]
        if chat_id in self.users:  # a user who never wrote to the bot
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        raise ApiError(400, "Bad Request: chat not found")

    def _text(self, params: dict[str, str], name: str, limit: int) -> tuple[str, list]:
        raw = params.get(name)
        if raw is None or not raw.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if params.get("parse_mode") == "HTML":
            text, entities = parse_html(raw)
        elif params.get("parse_mode"):
            raise ApiError(400, f"Bad Request: unsupported parse_mode {params['parse_mode']}")
        else:
            text, entities = raw, json.loads(params.get("entities") or "[]")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(text) > limit:
            raise ApiError(400, "Bad Request: message is too long")
        return text, entities

    def _markup(self, params: dict[str, str]) -> dict[str, Any] | None:
        raw = params.get("reply_markup")
        if not raw:
            return None
        markup = json.loads(raw)
        rows = markup.get("inline_keyboard")
        if not isinstance(rows, list):
            raise ApiError(400, "Bad Request: only inline keyboards are faked")
        for row in rows:
            for key in row:
                if not key.get("text"):
                    raise ApiError(400, "Bad Request: button text is empty")
                data = key.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= CALLBACK_LIMIT:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if (data is None) == (key.get("url") is None):
                    raise ApiError(400, "Bad Request: can't parse inline keyboard button")
        return markup if any(rows) else None

    def _new_message(self, params: dict[str, str], **content: Any) -> Msg:
        chat = self._chat(params)
        caption = None
        if "caption" in params:
            caption, _ = self._text(params, "caption", CAPTION_LIMIT)
        message = Msg(
            next(self._message_ids),
            chat,
            dict(self.bot_user),
            reply_markup=self._markup(params),
            caption=caption,
            **content,
        )
        self.chats.setdefault(chat.id, []).append(message)
        return message

    def _find(self, chat_id: int, message_id: int) -> Msg:
        for message in self.chats.get(chat_id, []):
            if message.message_id == message_id:
                return message
        raise ApiError(400, "Bad Request: message to edit not found")

    def _editable(self, params: dict[str, str]) -> Msg:
        chat = self._chat(params)
        message = self._find(chat.id, int(params.get("message_id") or 0))
        if not message.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        return message


def _parse_body(content_type: str, body: bytes) -> tuple[dict[str, str], dict]:
    """Form fields (url-encoded, as PTB posts most calls) or multipart (calls with files)."""
    params: dict[str, str] = {}
    files: dict[str, tuple[str | None, bytes]] = {}
    if not body:
        return params, files
    if content_type.startswith("multipart/form-data"):
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        for part in parsed.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            content = part.get_payload(decode=True) or b""
            if filename is not None:
                files[name] = (filename, content)
            else:
                params[name] = content.decode("utf-8")
        return params, files
    if content_type.startswith("application/json"):
        raw = json.loads(body)
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}, files
    return dict(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)), files


# ---- webhooks ------------------------------------------------------------------------------------
def post_webhook(
    url: str, update: dict[str, Any], secret_token: str | None = None
) -> httpx.Response:
    """What Telegram does for a bot with a webhook: POST the update as JSON, with the secret in
    X-Telegram-Bot-Api-Secret-Token when the webhook was set with one."""
    headers = {"Content-Type": "application/json"}
    if secret_token is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
    return httpx.post(url, content=json.dumps(update).encode(), headers=headers, timeout=10)
