"""The Web API client every Slack module calls through: slack_sdk's WebClient, with its requests
sent over kept-alive, pooled HTTP connections.

slack_sdk's sync WebClient sends each call with `urllib.request.urlopen`: a new TCP (and TLS)
connection per call. An answer costs two or three calls, so on a busy bot connection set-up was
about a quarter of the CPU per answer. Here the one step that opens the connection is replaced
by an httpx Client (thread-safe, one connection pool shared by all threads); everything else,
argument encoding, retry handlers (HTTP 429 and Retry-After), SlackResponse and its errors, is
slack_sdk's own, because httpx's answer is handed back in exactly the shape urllib gives:
a non-2xx status raises urllib's HTTPError, which slack_sdk's retry loop already handles.
"""

from __future__ import annotations

import io
from http.client import HTTPMessage
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request

import httpx
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
        self._http = httpx.Client(
            timeout=self.timeout,
            verify=self.ssl if self.ssl is not None else True,
            proxy=self.proxy or None,
            limits=httpx.Limits(
                max_connections=POOL_CONNECTIONS, max_keepalive_connections=POOL_CONNECTIONS
            ),
        )

    def close(self) -> None:
        """Close the pooled connections (the client cannot be used afterwards)."""
        self._http.close()

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        if not url.lower().startswith(("http://", "https://")):
            raise SlackRequestError(f"Invalid URL detected: {url}")
        response = self._http.post(url, content=req.data, headers=dict(req.header_items()))
        headers = HTTPMessage()
        for name, value in response.headers.multi_items():
            headers[name] = value
        if response.status_code >= 400:
            raise HTTPError(
                url,
                response.status_code,
                response.reason_phrase,
                headers,
                io.BytesIO(response.content),
            )
        if response.headers.get("content-type", "").startswith("application/gzip"):
            return {"status": response.status_code, "headers": headers, "body": response.content}
        charset = response.charset_encoding or "utf-8"
        return {
            "status": response.status_code,
            "headers": headers,
            "body": response.content.decode(charset),
        }


def make_client(bot_token: str, api_url: str | None = None) -> KeepAliveWebClient:
    """The Web API client: kept-alive connections, and HTTP 429 retried after Slack's
    Retry-After."""
    kwargs: dict[str, Any] = {"token": bot_token}
    if api_url:
        kwargs["base_url"] = api_url if api_url.endswith("/") else api_url + "/"
    client = KeepAliveWebClient(**kwargs)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES))
    return client
