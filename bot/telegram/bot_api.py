"""How the bot talks HTTP to the Bot API: aiohttp, for the CPU per call.

Under load the bot's CPU went mostly to HTTP: three Bot API calls per button press (answer the
press, edit the question, send the next one). CPU per call, measured on this 2-core machine
(loopback, sequential POSTs): PTB's HTTPXRequest (httpx) 0.564 ms, aiohttp 0.167 ms, a client of
our own on plain asyncio streams 0.089 ms. aiohttp is a well-kept library (a C HTTP parser, a
keep-alive pool, TLS, proxies, multipart uploads), so it carries every call, getUpdates and
uploads included, and we keep no HTTP code of our own. `AiohttpRequest` is PTB's request
interface on it and mirrors HTTPXRequest: the same default time-outs (media_write_timeout for
uploads), the same errors (TimedOut, pool exhaustion included; NetworkError naming the library's
error). A form is encoded here in one urlencode call rather than handed to aiohttp as a dict to
encode: about 0.03 ms less per call. Measured end to end with bench/load_telegram.py (README).
"""

from __future__ import annotations

import asyncio
import functools
import urllib.request
from typing import Any
from urllib.parse import urlencode

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

POOL_SIZE = 256
"""Connections to the Bot API at most (PTB's default)."""
POOL_TIMEOUT_TEXT = (
    "Pool timeout: All connections in the connection pool are occupied. Request was *not* sent "
    "to Telegram. Consider adjusting the connection pool size or the pool timeout."
)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def proxy_in_environment() -> bool:
    """Whether HTTP_PROXY or HTTPS_PROXY names a proxy (what aiohttp's trust_env reads)."""
    return any(scheme in urllib.request.getproxies() for scheme in ("http", "https"))


def bot_api_request(pool_size: int = POOL_SIZE, proxy: str | None = None) -> AiohttpRequest:
    """The request object for the bot's Bot API calls (`pool_size` connections at most)."""
    return AiohttpRequest(connection_pool_size=pool_size, proxy=proxy)


@functools.lru_cache(maxsize=64)  # a handful of combinations in practice
def _client_timeout(
    connect: float | None, write: float | None, read: float | None
) -> aiohttp.ClientTimeout:
    """aiohttp has no write time-out (its read time-out starts once the body is sent), so the
    whole request is bounded by connect + write + read: a body the server stops reading ends.
    Stricter than httpx's time-out per write for a large upload: 30 s in all by default."""
    total = None
    if connect is not None and write is not None and read is not None:
        total = connect + write + read
    return aiohttp.ClientTimeout(total=total, connect=connect, sock_connect=connect, sock_read=read)


class AiohttpRequest(BaseRequest):
    """PTB's BaseRequest on one aiohttp ClientSession (created in `initialize`, in the loop).

    `proxy`: a proxy for every call; without one, HTTP(S)_PROXY and NO_PROXY from the environment
    are honoured (aiohttp's trust_env). trust_env reads the environment and ~/.netrc in a thread
    on every call (about 0.3 ms of CPU each), so it is switched on only when the environment names
    a proxy at `initialize`. Socks proxies are not supported."""

    def __init__(
        self,
        connection_pool_size: int = POOL_SIZE,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        proxy: str | None = None,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._proxy = proxy
        self._slots: asyncio.Semaphore | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # PTB's pool time-out: aiohttp's connect time-out covers waiting for a free connection
            # and making one together, and cannot tell a full pool from a slow server
            self._slots = asyncio.Semaphore(self._pool_size)
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
                trust_env=self._proxy is None and proxy_in_environment(),
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

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
        session, slots = self._session, self._slots
        if session is None or slots is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        uploads = request_data is not None and request_data.contains_files
        if _is_default(read_timeout):
            read_timeout = self._read_timeout
        if _is_default(connect_timeout):
            connect_timeout = self._connect_timeout
        if _is_default(pool_timeout):
            pool_timeout = self._pool_timeout
        if _is_default(write_timeout):
            write_timeout = self._media_write_timeout if uploads else self._write_timeout

        data: Any = None
        headers = None
        if request_data is not None and uploads:
            data = aiohttp.FormData()
            for name, value in request_data.json_parameters.items():
                data.add_field(name, value)
            for name, (filename, content, mimetype) in request_data.multipart_data.items():
                data.add_field(name, content, filename=filename, content_type=mimetype)
        elif request_data is not None and (parameters := request_data.json_parameters):
            data = urlencode(parameters).encode()
            headers = FORM

        if slots.locked():  # every connection busy: wait at most the pool time-out for one
            try:
                async with asyncio.timeout(pool_timeout):
                    await slots.acquire()
            except TimeoutError as err:
                raise TimedOut(message=POOL_TIMEOUT_TEXT) from err
        else:
            await slots.acquire()  # returns at once
        try:
            async with session.request(
                method,
                url,
                data=data,
                headers=headers,
                proxy=self._proxy,
                timeout=_client_timeout(connect_timeout, write_timeout, read_timeout),
            ) as response:
                return response.status, await response.read()
        except TimeoutError as err:  # aiohttp's ServerTimeoutError and ConnectionTimeoutError too
            raise TimedOut from err
        except aiohttp.ClientError as err:
            # the class name, as HTTPXRequest gives it: some of aiohttp's errors have no message
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err
        finally:
            slots.release()


def _is_default(value: Any) -> bool:
    return isinstance(value, type(BaseRequest.DEFAULT_NONE))
