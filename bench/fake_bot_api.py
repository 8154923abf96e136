"""A lean fake Telegram Bot API for benchmarks: HTTP/1.1 keep-alive on 127.0.0.1, asyncio, no
checks beyond what the bot needs to run, so the fake costs the machine far less than the bot it
measures (tests/fake_telegram.py checks HTML, limits and chats as Telegram does, and costs
about a millisecond a request for it).

It serves getUpdates (long polling, offsets confirmed as at Telegram) and answers the calls a
bot makes while users take assessments: getMe, setMyCommands, deleteWebhook, sendMessage,
editMessageText, editMessageReplyMarkup, answerCallbackQuery. Every sendMessage is handed to
`on_message(chat_id, message_id, text, markup)`, where the benchmark plays the user; `offer(update)`
queues an update the way a user's press or typed text reaches Telegram.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

BOT_ID = 123456789
BOT = {"id": BOT_ID, "is_bot": True, "first_name": "Maturity Bot", "username": "bench_bot"}
POLL_HOLD = 1.0
"""Longest a getUpdates waits for an update here (the bot asks again at once)."""
_PATH = re.compile(rb"/bot[^/]+/(\w+)")


class FakeBotApi:
    """Start with `await start()`, give `base_url` to the bot, `offer` updates."""

    def __init__(
        self, on_message: Callable[[int, int, str, dict | None], None], latency: float = 0
    ) -> None:
        """`latency`: seconds every answer takes to reach the bot (a network round trip; the
        loopback has none, Telegram's servers some tens of milliseconds)."""
        self.on_message = on_message
        self.latency = latency
        self.offered_at: dict[int, float] = {}
        """update_id -> when a getUpdates answer first carried it (time.perf_counter)."""
        self.requests = 0
        self.polls = 0
        self._pending: list[tuple[int, bytes]] = []
        self._poll: tuple[_Connection, int, asyncio.TimerHandle] | None = None
        self._flush_soon = False
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self), "127.0.0.1", 0)

    @property
    def base_url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/bot"

    async def close(self) -> None:
        if self._poll is not None:
            self._answer_poll()
        for connection in list(self._connections):
            connection.transport.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def new_update_id(self) -> int:
        return next(self._update_ids)

    def new_message_id(self) -> int:
        return next(self._message_ids)

    def offer(self, update_id: int, update: dict[str, Any]) -> None:
        """Queue an update; a waiting long poll is answered at the end of this loop turn, so
        updates made together leave together, as Telegram batches them."""
        self._pending.append((update_id, json.dumps(update).encode()))
        if self._poll is not None and not self._flush_soon:
            self._flush_soon = True
            asyncio.get_running_loop().call_soon(self._answer_poll)

    # ---- requests ----------------------------------------------------------------------------
    def handle(self, connection: _Connection, path: bytes, body: bytes) -> None:
        self.requests += 1
        match = _PATH.fullmatch(path)
        method = match.group(1).decode() if match else ""
        params = dict(urllib.parse.parse_qsl(body.decode())) if body else {}
        if method == "getUpdates":
            self._get_updates(connection, params)
            return
        if method == "getMe":
            result: Any = BOT
        elif method == "sendMessage":
            chat_id = int(params["chat_id"])
            markup = params.get("reply_markup")
            result = self._message(chat_id, params.get("text", ""))
            connection.respond(result)
            text, keyboard = params.get("text", ""), json.loads(markup) if markup else None
            self.on_message(chat_id, result["message_id"], text, keyboard)
            return
        elif method in ("editMessageText", "editMessageReplyMarkup"):
            text = params.get("text", "")
            result = self._message(int(params["chat_id"]), text, int(params["message_id"]))
        elif method in ("answerCallbackQuery", "setMyCommands", "deleteWebhook"):
            result = True
        else:
            connection.respond(None, status=404, error="Not Found")
            return
        connection.respond(result)

    def _message(self, chat_id: int, text: str, message_id: int | None = None) -> dict[str, Any]:
        return {
            "message_id": message_id or self.new_message_id(),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "User"},
            "from": BOT,
            "text": text,
        }

    def _get_updates(self, connection: _Connection, params: dict[str, str]) -> None:
        self.polls += 1
        offset = int(params.get("offset") or 0)
        if offset:
            self._pending = [(i, u) for i, u in self._pending if i >= offset]
        if self._poll is not None:  # a bot polls once at a time; an old poll gets nothing
            self._answer_poll()
        timer = asyncio.get_running_loop().call_later(POLL_HOLD, self._answer_poll)
        self._poll = (connection, offset, timer)
        if self._pending:
            self._answer_poll()

    def _answer_poll(self) -> None:
        self._flush_soon = False
        if self._poll is None:
            return
        connection, offset, timer = self._poll
        self._poll = None
        timer.cancel()
        ready = [(i, u) for i, u in self._pending if i >= offset][:100]
        now = time.perf_counter()
        for update_id, _ in ready:
            self.offered_at.setdefault(update_id, now)
        body = b'{"ok":true,"result":[' + b",".join(u for _, u in ready) + b"]}"
        connection.send(200, body)


class _Connection(asyncio.Protocol):
    """One keep-alive connection: requests parsed by Content-Length, answered in order."""

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api
        self.buffer = b""
        self.transport: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.api._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.api._connections.discard(self)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            path = head.split(b" ", 2)[1]
            self.api.handle(self, path, body)

    def respond(self, result: Any, *, status: int = 200, error: str | None = None) -> None:
        if error is None:
            payload: dict[str, Any] = {"ok": True, "result": result}
        else:
            payload = {"ok": False, "error_code": status, "description": error}
        self.send(status, json.dumps(payload).encode())

    def send(self, status: int, body: bytes) -> None:
        head = (
            f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        data = head.encode() + body
        if self.api.latency:
            asyncio.get_running_loop().call_later(self.api.latency, self._write, data)
        else:
            self._write(data)

    def _write(self, data: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(data)
