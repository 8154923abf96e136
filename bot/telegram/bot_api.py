"""How the bot talks HTTP to the Bot API: the cheap way per request.

Under load the bot's CPU went mostly to HTTP: three Bot API calls per button press (answer the
press, edit the question, send the next one), each about 0.6 ms of CPU through httpx's client,
connection pool and anyio layers, against about 0.03 ms for the same request written and read
on a plain asyncio stream. `BotApiRequest` is PTB's request interface on plain asyncio streams
(HTTP/1.1 keep-alive, TLS with httpx's certificate store, the same time-outs and the same
errors as PTB's HTTPXRequest); uploads (a chart, an export) and every request when a proxy is
configured still go through HTTPXRequest, which handles multipart bodies and proxies.
Measured with bench/load_telegram.py (see the README).
"""

from __future__ import annotations

import asyncio
import importlib.util
import ssl
import sys
import time
import urllib.request
from typing import Any
from urllib.parse import urlencode, urlsplit

from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

KEEPALIVE_EXPIRY = 5.0
"""Seconds an idle connection is kept for reuse (httpx's default)."""
POOL_SIZE = 256
"""Connections to the Bot API at most (PTB's default)."""
HEAD_LIMIT = 64 * 1024
POOL_TIMEOUT_TEXT = (
    "Pool timeout: All connections in the connection pool are occupied. Request was *not* sent "
    "to Telegram. Consider adjusting the connection pool size or the pool timeout."
)


def skip_sniffio_lookups() -> None:
    """httpcore runs `import sniffio` on every request to learn the event loop's library. anyio
    4 no longer needs sniffio, so where it is not installed each of those imports fails and
    searches sys.path again (about a seventh of the bot's CPU under load, uploads included). A
    None entry in sys.modules makes the failed import immediate, with the same outcome."""
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


def proxy_configured() -> bool:
    """Whether the environment names a proxy (httpx honours HTTP(S)_PROXY and ALL_PROXY)."""
    return any(scheme in urllib.request.getproxies() for scheme in ("http", "https", "all"))


def bot_api_request(pool_size: int = POOL_SIZE) -> BaseRequest:
    """The request object for the bot's Bot API calls (`pool_size` connections at most)."""
    skip_sniffio_lookups()
    if proxy_configured():
        return HTTPXRequest(connection_pool_size=pool_size)
    return BotApiRequest(pool_size=pool_size)


class _Connection:
    __slots__ = ("reader", "writer", "idle_since")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    def reusable(self, now: float) -> bool:
        """Still open, nothing unasked-for waiting, and not idle past the keep-alive expiry."""
        return (
            now - self.idle_since < KEEPALIVE_EXPIRY
            and not self.reader.at_eof()
            and not self.writer.is_closing()
        )

    def close(self) -> None:
        self.writer.close()


class BotApiRequest(BaseRequest):
    """PTB's BaseRequest over asyncio streams, one keep-alive pool per origin."""

    def __init__(
        self,
        *,
        pool_size: int = POOL_SIZE,
        connect_timeout: float | None = 5.0,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._timeouts = {
            "connect": connect_timeout,
            "read": read_timeout,
            "write": write_timeout,
            "pool": pool_timeout,
        }
        self._slots = asyncio.Semaphore(pool_size)
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._busy: set[_Connection] = set()
        self._targets: dict[str, tuple[tuple[str, str, int], bytes, bytes]] = {}
        self._ssl: ssl.SSLContext | None = None
        self._uploads = HTTPXRequest(
            connection_pool_size=pool_size,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            pool_timeout=pool_timeout,
        )

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        await self._uploads.initialize()

    async def shutdown(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        for connection in self._busy:
            connection.close()
        self._idle.clear()
        self._busy.clear()
        await self._uploads.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if request_data is not None and request_data.contains_files:
            return await self._uploads.do_request(
                url,
                method,
                request_data,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
            )
        origin, head, host = self._target(url, method)
        params = request_data.json_parameters if request_data is not None else {}
        body = urlencode(params).encode() if params else b""
        request = head + host + b"Content-Length: %d\r\n\r\n" % len(body) + body
        try:
            async with asyncio.timeout(self._timeout("pool", pool_timeout)):
                await self._slots.acquire()
        except TimeoutError as exc:
            raise TimedOut(POOL_TIMEOUT_TEXT) from exc
        connection: _Connection | None = None
        try:
            connection = await self._connection(origin, connect_timeout)
            self._busy.add(connection)
            async with asyncio.timeout(self._timeout("write", write_timeout)):
                connection.writer.write(request)
                await connection.writer.drain()
            async with asyncio.timeout(self._timeout("read", read_timeout)):
                status, content, keep = await _read_response(connection.reader)
        except TimeoutError as exc:
            _drop(connection)
            raise TimedOut from exc
        except (OSError, EOFError, ValueError, asyncio.LimitOverrunError) as exc:
            _drop(connection)
            raise NetworkError(f"{type(exc).__name__}: {exc}") from exc
        except BaseException:  # cancelled mid-request: the connection's state is unknown
            _drop(connection)
            raise
        finally:
            self._slots.release()
            if connection is not None:
                self._busy.discard(connection)
        if keep and not connection.writer.is_closing():
            connection.idle_since = now = time.monotonic()
            idle = self._idle.setdefault(origin, [])
            while idle and not idle[0].reusable(now):  # the longest idle, past its expiry
                idle.pop(0).close()
            idle.append(connection)
        else:
            connection.close()
        return status, content

    def _timeout(self, kind: str, given: Any) -> float | None:
        return self._timeouts[kind] if isinstance(given, type(BaseRequest.DEFAULT_NONE)) else given

    def _target(self, url: str, method: str) -> tuple[tuple[str, str, int], bytes, bytes]:
        """The origin and the request's first lines, worked out once per URL and method."""
        key = method + " " + url
        found = self._targets.get(key)
        if found is None:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise NetworkError(f"not an http(s) URL: {parts.scheme}://{parts.hostname}")
            port = parts.port or (443 if parts.scheme == "https" else 80)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            head = (
                f"{method} {target} HTTP/1.1\r\nUser-Agent: {self.USER_AGENT}\r\n"
                "Accept: */*\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            ).encode()
            host = f"Host: {parts.netloc}\r\n".encode()
            found = ((parts.scheme, parts.hostname, port), head, host)
            if len(self._targets) < 1024:  # one per Bot API method in practice
                self._targets[key] = found
        return found

    async def _connection(self, origin: tuple[str, str, int], timeout: Any) -> _Connection:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.reusable(now):
                return connection
            connection.close()
        scheme, host, port = origin
        context = None
        if scheme == "https":
            if self._ssl is None:
                import httpx  # the certificate store httpx uses, as HTTPXRequest would

                self._ssl = httpx.create_ssl_context()
            context = self._ssl
        async with asyncio.timeout(self._timeout("connect", timeout)):
            reader, writer = await asyncio.open_connection(
                host, port, ssl=context, limit=HEAD_LIMIT
            )
        return _Connection(reader, writer)


def _drop(connection: _Connection | None) -> None:
    if connection is not None:
        connection.close()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, keep-alive) of one HTTP/1.1 response: Content-Length, chunked, or the
    body up to the end of the connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head[:-4].split(b"\r\n")
    version, status = lines[0].split(b" ", 2)[:2]
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    keep = version == b"HTTP/1.1" and headers.get(b"connection", b"").lower() != b"close"
    if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
        return int(status), await _read_chunked(reader), keep
    if b"content-length" in headers:
        return int(status), await reader.readexactly(int(headers[b"content-length"])), keep
    return int(status), await reader.read(), False


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
