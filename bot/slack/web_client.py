"""The Web API client every Slack module calls through: slack_sdk's WebClient, with its requests
sent over kept-alive, pooled HTTP connections.

slack_sdk's sync WebClient sends each call with `urllib.request.urlopen`: a new TCP and TLS
connection per call, and an answer costs two or three calls. Here the one step that opens the
connection is replaced by urllib3's connection pool (thread-safe, shared by all threads; a
connection the server dropped is noticed and replaced before reuse). Everything else, argument
encoding, retry handlers (HTTP 429 and Retry-After), SlackResponse and its errors, stays
slack_sdk's own, because urllib3's answer is handed back in exactly the shape urllib gives: a
non-2xx status raises urllib's HTTPError, and a network failure urllib's URLError, which
slack_sdk's retry loop and our callers already handle. (httpx was measured too: it spent more
CPU per call than a new urllib connection on loopback; urllib3 about the same, without the
connection set-up that TLS makes expensive.)
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from collections.abc import Callable
from http.client import HTTPMessage
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.request import Request

import urllib3
from slack_sdk import WebClient
from slack_sdk.errors import SlackRequestError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

RATE_LIMIT_RETRIES = 3
POOL_CONNECTIONS = 32
"""Kept-alive connections to the Web API; more than the worker threads that share them."""


class KeepAliveWebClient(WebClient):
    """A WebClient whose HTTP requests reuse pooled connections. Construct it like WebClient."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        options: dict[str, Any] = {
            "maxsize": POOL_CONNECTIONS,
            "timeout": urllib3.Timeout(total=self.timeout),
            # only a failed connect is retried here: a request that may have reached Slack is
            # slack_sdk's retry handlers' decision, as with urllib
            "retries": urllib3.Retry(total=2, connect=2, read=0, status=0, other=0, redirect=0),
        }
        if self.ssl is not None:
            options["ssl_context"] = self.ssl
        if isinstance(self.proxy, str) and self.proxy:
            self._http: urllib3.PoolManager = urllib3.ProxyManager(self.proxy, **options)
        else:
            self._http = urllib3.PoolManager(**options)

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.clear()

    def for_token(self, token: str) -> KeepAliveWebClient:
        """The same client for another workspace's bot token (OAuth mode), sending over THIS
        client's connection pool: the token travels in each request's header, so connections
        to the Web API are shared by every workspace and a workspace costs no connection."""
        other = KeepAliveWebClient(
            token=token,
            base_url=self.base_url,
            timeout=self.timeout,
            ssl=self.ssl,
            proxy=self.proxy,
            headers=dict(self.headers),
            logger=self.logger,
            retry_handlers=list(self.retry_handlers),
        )
        return other.sending_over(self)

    def sending_over(self, base: KeepAliveWebClient) -> KeepAliveWebClient:
        """This client, its own pool closed, sending over `base`'s connection pool."""
        self._http.clear()
        self._http = base._http
        return self

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        if not url.lower().startswith(("http://", "https://")):
            raise SlackRequestError(f"Invalid URL detected: {url}")
        try:
            response = self._http.request(
                "POST", url, body=req.data, headers=dict(req.header_items()), redirect=False
            )
        except urllib3.exceptions.HTTPError as exc:
            raise URLError(exc) from exc
        headers = HTTPMessage()
        for name, value in response.headers.items():
            headers[name] = value
        if response.status >= 400:
            reason = response.reason or ""
            raise HTTPError(url, response.status, reason, headers, io.BytesIO(response.data))
        if headers.get_content_type() == "application/gzip":
            return {"status": response.status, "headers": headers, "body": response.data}
        charset = headers.get_content_charset() or "utf-8"
        return {
            "status": response.status,
            "headers": headers,
            "body": response.data.decode(charset),
        }


class ClientsByToken:
    """Pooled clients per bot token, made on first use by `make` (default: `base.for_token`)
    and kept for the most recent `size` tokens: a request of a workspace seen lately builds
    nothing, and a token has one client at a time (the pulse's carries that token's pacer)."""

    def __init__(
        self,
        base: KeepAliveWebClient,
        size: int = 1000,
        make: Callable[[str], KeepAliveWebClient] | None = None,
    ) -> None:
        self.base = base
        self.size = size
        self.make = make or base.for_token
        self._clients: OrderedDict[str, KeepAliveWebClient] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str) -> KeepAliveWebClient:
        with self._lock:
            client = self._clients.get(token)
            if client is None:
                client = self._clients[token] = self.make(token)
                while len(self._clients) > self.size:
                    self._clients.popitem(last=False)
            else:
                self._clients.move_to_end(token)
            return client


def make_client(bot_token: str | None, api_url: str | None = None) -> KeepAliveWebClient:
    """The Web API client: kept-alive connections, and HTTP 429 retried after Slack's
    Retry-After. Without a token (OAuth mode) it is the base of each workspace's client."""
    kwargs: dict[str, Any] = {"token": bot_token}
    if api_url:
        kwargs["base_url"] = api_url if api_url.endswith("/") else api_url + "/"
    client = KeepAliveWebClient(**kwargs)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES))
    return client
