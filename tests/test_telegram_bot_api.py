"""The bot's Bot API requests on aiohttp (bot/telegram/bot_api.py) against real servers on
127.0.0.1 that answer the ways an HTTP/1.1 server may: with a Content-Length, chunked, up to the
end of the connection, closing a kept-alive connection, late, or not at all; an upload, a full
pool and a proxy. The rest of the Telegram tests run every call through it against
tests/fake_telegram.py."""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import json
from collections.abc import Awaitable, Callable

import pytest
from telegram import InputFile
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.telegram.bot_api import AiohttpRequest, bot_api_request

OK = json.dumps({"ok": True, "result": {"answer": 42}}).encode()
Answer = Callable[[bytes], Awaitable[bytes | None]]
"""Given a request's head and body, the raw bytes to answer (None: close without answering)."""
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


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
        self.origin = f"127.0.0.1:{self.server.sockets[0].getsockname()[1]}"
        self.url = f"http://{self.origin}/botTOKEN/"
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


def fixed(data: bytes) -> Answer:
    async def answer(request: bytes) -> bytes | None:
        return data

    return answer


def params(**values: object) -> RequestData:
    return RequestData([RequestParameter.from_input(k, v) for k, v in values.items()])


async def post(request: AiohttpRequest, url: str, **values: object) -> object:
    return await request.post(url + "sendMessage", params(**values))


def run(coroutine: Awaitable[None]) -> None:
    asyncio.run(asyncio.wait_for(coroutine, 30))  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def no_proxy_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_keep_alive_one_connection_for_many_calls_and_the_form_as_sent():
    async def scenario() -> None:
        async with Server(fixed(with_length())) as server, bot_api_request() as request:
            results = [await post(request, server.url, chat_id=7, text="a & b") for _ in range(3)]
        assert results == [{"answer": 42}] * 3
        assert server.connections == 1
        head, _, body = server.requests[0].partition(b"\r\n\r\n")
        assert head.startswith(b"POST /botTOKEN/sendMessage HTTP/1.1\r\n")
        assert b"content-type: application/x-www-form-urlencoded" in head.lower()
        assert b"user-agent: python-telegram-bot" in head.lower()
        assert body == b"chat_id=7&text=a+%26+b"

    run(scenario())


def test_a_chunked_answer_is_read_whole():
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (OK[:10], OK[10:]))
        + b"0\r\n\r\n"
    )

    async def scenario() -> None:
        async with Server(fixed(chunked)) as server, AiohttpRequest() as request:
            results = [await post(request, server.url, chat_id=1) for _ in range(2)]
        assert results == [{"answer": 42}] * 2
        assert server.connections == 1  # and the connection is kept after it

    run(scenario())


def test_an_answer_up_to_the_end_of_the_connection_and_a_closed_connection_not_reused():
    async def scenario() -> None:
        no_length = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + OK
        async with (
            Server(fixed(no_length), close_after=True) as server,
            AiohttpRequest() as request,
        ):
            assert await post(request, server.url, chat_id=1) == {"answer": 42}
            assert await post(request, server.url, chat_id=1) == {"answer": 42}
        assert server.connections == 2
        async with (
            Server(fixed(with_length()), close_after=True) as server,
            AiohttpRequest() as request,
        ):
            assert await post(request, server.url, chat_id=1) == {"answer": 42}
            await asyncio.sleep(0.1)  # the server closes the kept-alive connection meanwhile
            assert await post(request, server.url, chat_id=1) == {"answer": 42}
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

        async with Server(answer) as server, AiohttpRequest() as request:
            with pytest.raises(BadRequest, match="hat not found"):
                await post(request, server.url, chat_id=1)
            assert await post(request, server.url, chat_id=1) == {"answer": 42}
        assert server.connections == 1

    run(scenario())


def test_no_answer_is_a_time_out_and_a_dropped_connection_a_network_error():
    async def scenario() -> None:
        async def silent(request: bytes) -> bytes:
            await asyncio.sleep(5)
            return with_length()

        async def hang_up(request: bytes) -> None:
            return None

        async with Server(silent) as server, AiohttpRequest(read_timeout=0.2) as request:
            with pytest.raises(TimedOut):
                await post(request, server.url, chat_id=1)
            with pytest.raises(TimedOut):  # a time-out given for one call wins
                await request.post(server.url + "getUpdates", params(), read_timeout=0.1)
        async with Server(hang_up) as server, AiohttpRequest() as request:
            with pytest.raises(NetworkError) as raised:
                await post(request, server.url, chat_id=1)
            assert not isinstance(raised.value, TimedOut)
            assert "aiohttp." in str(raised.value)
        async with AiohttpRequest() as request:
            with pytest.raises(NetworkError):  # nothing listens there any more
                await post(request, server.url, chat_id=1)

    run(scenario())


def test_a_full_pool_is_a_time_out_and_the_request_is_not_sent():
    async def scenario() -> None:
        async def slow(request: bytes) -> bytes:
            await asyncio.sleep(1)
            return with_length()

        async with (
            Server(slow) as server,
            AiohttpRequest(connection_pool_size=1, pool_timeout=0.1) as request,
        ):
            first = asyncio.create_task(post(request, server.url, chat_id=1))
            await asyncio.sleep(0.2)  # the one connection is taken
            with pytest.raises(TimedOut, match="Pool timeout"):
                await post(request, server.url, chat_id=2)
            assert await first == {"answer": 42}
            assert await post(request, server.url, chat_id=3) == {"answer": 42}
        assert [r.rpartition(b"chat_id=")[2] for r in server.requests] == [b"1", b"3"]

    run(scenario())


def test_an_upload_arrives_as_multipart_with_the_files_bytes():
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40

    async def scenario() -> None:
        async with Server(fixed(with_length())) as server, AiohttpRequest() as request:
            data = RequestData(
                [
                    RequestParameter.from_input("chat_id", 7),
                    RequestParameter.from_input("caption", "Your result"),
                    RequestParameter.from_input("photo", InputFile(png, filename="chart.png")),
                ]
            )
            assert await request.post(server.url + "sendPhoto", data) == {"answer": 42}
        head, _, body = server.requests[0].partition(b"\r\n\r\n")
        assert head.startswith(b"POST /botTOKEN/sendPhoto HTTP/1.1\r\n")
        content_type = next(
            line for line in head.split(b"\r\n") if line.lower().startswith(b"content-type:")
        )
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            content_type + b"\r\n\r\n" + body
        )
        assert message.get_content_type() == "multipart/form-data"
        parts = {
            part.get_param("name", header="content-disposition"): part
            for part in message.iter_parts()
        }
        assert parts["chat_id"].get_content() == "7"
        assert parts["caption"].get_content() == "Your result"
        assert parts["photo"].get_filename() == "chart.png"
        assert parts["photo"].get_payload(decode=True) == png

    run(scenario())


def test_a_proxy_in_the_environment_or_given_carries_the_calls(monkeypatch):
    async def scenario() -> None:
        async with Server(fixed(with_length())) as proxy:
            monkeypatch.setenv("HTTP_PROXY", f"http://{proxy.origin}")
            async with AiohttpRequest() as request:  # the environment is read here
                telegram = "http://api.telegram.invalid/botTOKEN/"  # resolved by the proxy
                assert await post(request, telegram, chat_id=1) == {"answer": 42}
            monkeypatch.delenv("HTTP_PROXY")
            async with AiohttpRequest(proxy=f"http://user:secret@{proxy.origin}") as request:
                assert await post(request, telegram, chat_id=2) == {"answer": 42}
        for request in proxy.requests:
            assert request.startswith(b"POST http://api.telegram.invalid/botTOKEN/sendMessage ")
        assert b"proxy-authorization: basic " in proxy.requests[1].lower()

    run(scenario())


def test_a_request_used_before_initialize_says_so():
    async def scenario() -> None:
        request = AiohttpRequest()
        with pytest.raises(NetworkError, match="not initialized"):
            await post(request, "http://127.0.0.1:9/botTOKEN/", chat_id=1)
        await request.initialize()
        await request.shutdown()
        with pytest.raises(NetworkError, match="not initialized"):
            await post(request, "http://127.0.0.1:9/botTOKEN/", chat_id=1)
        await request.initialize()  # PTB may start an Application again after a stop
        with pytest.raises(NetworkError):
            await post(request, "http://127.0.0.1:9/botTOKEN/", chat_id=1)
        await request.shutdown()

    run(scenario())
