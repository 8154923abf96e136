"""Bounded request bodies for the HTTP modes (Slack `--http`, the Telegram webhook).

Why here and not in the frameworks: Starlette's `request.body()` reads whatever arrives, so an
unauthenticated client could make the bot hold hundreds of megabytes before the signature or
secret is even looked at. Slack's and Telegram's payloads are a few kilobytes; anything over the
limit is refused with 413 before it is read past the limit: at once when Content-Length says so,
and while streaming for a chunked body.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

DEFAULT_MAX_BODY_BYTES = 1_048_576


class BodyTooLarge(Exception):
    """The request's body is over the limit (declared or counted)."""


class BadLength(Exception):
    """The Content-Length header is not a whole number."""


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, or BodyTooLarge as soon as it is known to pass `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise BadLength
        if int(declared) > limit:
            raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def too_large(limit: int) -> Response:
    """413 with a one-line reason; the connection is closed by the server after it."""
    return PlainTextResponse(
        f"request body over {limit} bytes", status_code=413, headers={"Connection": "close"}
    )


def bad_request(reason: str) -> Response:
    return PlainTextResponse(reason, status_code=400)
