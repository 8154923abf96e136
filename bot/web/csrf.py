"""CSRF: every form carries the session's token (templating.py puts `csrf_token` in every
template) and every POST handler calls `check_csrf(request, form)` before it changes anything.

The token is the session's own random secret (synchronizer token): a page of another site can
make the browser send our cookie (SameSite=Lax does not cover every case, e.g. a top-level
POST within two minutes of sign-in in some browsers), but it cannot read the token."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from urllib.parse import parse_qsl

from starlette.requests import Request

from bot.http_limits import BadLength, BodyTooLarge, read_body
from bot.web.viewer import current_session

FIELD = "csrf_token"
MAX_FORM_BYTES = 64 * 1024


class CsrfRefused(Exception):
    """A POST without the session's token: app.py answers with the 403 page."""


class FormRefused(CsrfRefused):
    """A form body refused before it is read (too large: 413; a bad Content-Length: 400): the
    refused page with that status (app.py), not Starlette's plain-text one."""

    def __init__(self, status_code: int) -> None:
        super().__init__(status_code)
        self.status_code = status_code


async def read_form(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body as a dict (the last value of a repeated field);
    without python-multipart, which the dashboard's forms do not need. A body over
    MAX_FORM_BYTES is refused (413) before it is read past the limit."""
    try:
        body = await read_body(request, MAX_FORM_BYTES)
    except BodyTooLarge:
        raise FormRefused(413) from None
    except BadLength:
        raise FormRefused(400) from None
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        raise CsrfRefused from None


def check_csrf(request: Request, form: Mapping[str, str]) -> None:
    """Raise CsrfRefused (a 403 page in the viewer's language) unless `form` carries this
    session's token; SignInRequired when there is no session at all."""
    session = current_session(request)
    given = form.get(FIELD) or ""
    if not given or not hmac.compare_digest(given.encode(), session.csrf_token.encode()):
        raise CsrfRefused
