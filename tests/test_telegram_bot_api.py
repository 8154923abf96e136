"""The bot's HTTP client for the Bot API (bot/telegram/bot_api.py) against real servers on
127.0.0.1 that answer the ways an HTTP/1.1 server may: with a Content-Length, chunked, up to the
end of the connection, closing a kept-alive connection, or not at all. The rest of the Telegram
tests run every call through it against tests/fake_telegram.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import pytest
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.request import HTTPXRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.telegram.bot_api import BotApiRequest, bot_api_request

OK = json.dumps({"ok": True, "result": {"answer": 42}}).encode()
Answer = Callable[[bytes], Awaitable[bytes | None]]
"""Given a request's head and body, the raw bytes to answer (None: close without answering)."""


class Server:
    """Reads one request at a time per connection and writes what `answer` gives."""

    def __init__(self, answer: Answer, *, close_after: bool = False) -> None:
        self.answer = answer
        self.close_after = close_after
        self.connections = 0
        self.requests: list[bytes] = []
        self.handlers: set[asyncio.Task] = set()

    async def __aenter__(self) -> Server:
        self.server = await asyncio.start_server(self.serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/botTOKEN/"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()
        for handler in self.handlers:
            handler.cancel()
        await asyncio.gather(*self.handlers, return_exceptions=True)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                data = await self.answer(request)
                if data is None:
                    break
                writer.write(data)
                await writer.drain()
                if self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self.handlers.discard(task)


def with_length(body: bytes = OK, status: bytes = b"200 OK") -> bytes:
    return b"HTTP/1.1 %s\r\nContent-Length: %d\r\n\r\n" % (status, len(body)) + body


async def fixed(data: bytes) -> Answer:
    async def answer(request: bytes) -> bytes | None:
        return data

    return answer


def params(**values: object) -> RequestData:
    return RequestData([RequestParameter.from_input(k, v) for k, v in values.items()])


async def post(request: BotApiRequest, url: str, **values: object) -> object:
    return await request.post(url + "sendMessage", params(**values))


def run(coroutine: Awaitable[None]) -> None:
    asyncio.run(asyncio.wait_for(coroutine, 30))  # type: ignore[arg-type]


def test_keep_alive_one_connection_for_many_calls_and_the_form_as_sent():
    async def scenario() -> None:
        async with Server(await fixed(with_length())) as server:
            request = BotApiRequest()
            await request.initialize()
            results = [await post(request, server.url, chat_id=7, text="a & b") for _ in range(3)]
            await request.shutdown()
        assert results == [{"answer": 42}] * 3
        assert server.connections == 1
        head, _, body = server.requests[0].partition(b"\r\n\r\n")
        assert head.startswith(b"POST /botTOKEN/sendMessage HTTP/1.1\r\n")
        assert b"Content-Type: application/x-www-form-urlencoded" in head
        assert body == b"chat_id=7&text=a+%26+b"

    run(scenario())


def test_a_chunked_answer_is_read_whole():
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (OK[:10], OK[10:]))
        + b"0\r\n\r\n"
    )

    async def scenario() -> None:
        async with Server(await fixed(chunked)) as server:
            request = BotApiRequest()
            results = [await post(request, server.url, chat_id=1) for _ in range(2)]
            await request.shutdown()
        assert results == [{"answer": 42}] * 2
        assert server.connections == 1  # and the connection is kept after it

    run(scenario())


def test_an_answer_up_to_the_end_of_the_connection_and_a_closed_connection_not_reused():
    async def scenario() -> None:
        no_length = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + OK
        async with Server(await fixed(no_length), close_after=True) as server:
            request = BotApiRequest()
            assert await post(request, server.url, chat_id=1) == {"answer": 42}
            assert await post(request, server.url, chat_id=1) == {"answer": 42}
            await request.shutdown()
        assert server.connections == 2
        async with Server(await fixed(with_length()), close_after=True) as server:
            request = BotApiRequest()  # the server closes a kept-alive connection while idle
            assert await post(request, server.url, chat_id=1) == {"answer": 42}
            await asyncio.sleep(0.1)
            assert await post(request, server.url, chat_id=1) == {"answer": 42}
            await request.shutdown()
        assert server.connections == 2

    run(scenario())


def test_an_error_status_is_telegrams_error_and_the_connection_stays_usable():
    refused = json.dumps(
        {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
    )

    async def scenario() -> None:
        answers = iter([with_length(refused.encode(), b"400 Bad Request"), with_length()])

        async def answer(request: bytes) -> bytes:
            return next(answers)

        async with Server(answer) as server:
            request = BotApiRequest()
            with pytest.raises(BadRequest, match="hat not found"):
                await post(request, server.url, chat_id=1)
            assert await post(request, server.url, chat_id=1) == {"answer": 42}
            await request.shutdown()
        assert server.connections == 1

    run(scenario())


def test_no_answer_is_a_time_out_and_a_dropped_connection_a_network_error():
    async def scenario() -> None:
        async def silent(request: bytes) -> bytes:
            await asyncio.sleep(5)
            return with_length()

        async def hang_up(request: bytes) -> None:
            return None

        async with Server(silent) as server:
            request = BotApiRequest(read_timeout=0.2)
            with pytest.raises(TimedOut):
                await post(request, server.url, chat_id=1)
            await request.shutdown()
        async with Server(hang_up) as server:
            request = BotApiRequest()
            with pytest.raises(NetworkError) as raised:
                await post(request, server.url, chat_id=1)
            assert not isinstance(raised.value, TimedOut)
            await request.shutdown()
        request = BotApiRequest()
        with pytest.raises(NetworkError):  # nothing listens there any more
            await post(request, server.url, chat_id=1)

    run(scenario())


def test_a_proxy_in_the_environment_keeps_httpx(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("all_proxy", raising=False)
    assert isinstance(bot_api_request(), BotApiRequest)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    assert isinstance(bot_api_request(), HTTPXRequest)
