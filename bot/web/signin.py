"""Sign-in from the chat, sign-out, and the link the chat commands send.

Opening a link (GET /signin/<token>) does not use it: it shows a page with one button that
POSTs the token. Chat apps and mail scanners fetch links to preview them; a GET that signed in
would spend the single-use link before the person clicks it. The page already says whether the
link is used, expired or unknown, in the language of whom it was for, with the way forward.

The POST is refused when the browser says it comes from another origin (Sec-Fetch-Site, also
"same-site": a sibling subdomain): another site must not sign a visitor in as someone else
(login CSRF)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import anyio
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.storage.web_sessions import EXPIRED, USED, LinkState, WebSessionStore
from bot.web.context import WebContext, web_context
from bot.web.csrf import CsrfRefused, check_csrf, read_form
from bot.web.templating import SECURITY_HEADERS, render
from bot.web.viewer import SESSION_KEY, Viewer, WebSession, current_session

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.storage import Storage

TOKEN_FIELD = "token"
TARGET_FIELD = "to"
TARGETS = frozenset({"report"})
"""Pages a link may land on instead of "home" (route names, never a URL: no open redirect)."""
SIGN_IN_FROM = frozenset({"same-origin", "none", ""})
"""Sec-Fetch-Site values the sign-in POST accepts: our own page, the person's own action, or a
browser that does not say. Not "same-site": a sibling subdomain is another site's page."""


def sign_in_link(
    storage: Storage,
    settings: Settings,
    viewer: Viewer,
    *,
    now: datetime | None = None,
    target: str | None = None,
) -> str | None:
    """A new single-use sign-in link for `viewer`, or None when MATURITY_WEB_URL is not set (the
    chat then says the dashboard is not set up). `target` (one of TARGETS, e.g. "report" for
    the chat's "make a board report") is where it lands. Blocking (a database write)."""
    base = settings.maturity_web_url
    if not base:
        return None
    token = WebSessionStore(storage).issue_link(viewer, now=now)
    to = f"?{TARGET_FIELD}={target}" if target in TARGETS else ""
    return f"{base.rstrip('/')}/signin/{token}{to}"


def _refused_link(request: Request, state: LinkState) -> Response:
    kind = {USED: "used", EXPIRED: "expired"}.get(state.state, "unknown")
    context = {
        "title_key": f"link.{kind}_title",
        "body_key": f"link.{kind}",
        "how": True,
        "lang": state.lang,
    }
    return render(request, "refused.html", context, 404 if kind == "unknown" else 410)


async def open_link(request: Request) -> Response:
    token = request.path_params["token"]
    sessions = web_context(request).sessions
    state = await anyio.to_thread.run_sync(lambda: sessions.link_state(token))
    if state.state != "valid":
        return _refused_link(request, state)
    to = request.query_params.get(TARGET_FIELD, "")
    context = {"token": token, "lang": state.lang, "to": to if to in TARGETS else ""}
    return render(request, "signin.html", context)


async def redeem(request: Request) -> Response:
    fetch_site = request.headers.get("sec-fetch-site", "")
    context = web_context(request)
    if fetch_site not in SIGN_IN_FROM:
        raise CsrfRefused
    if not fetch_site and not _our_origin(request.headers.get("origin"), context.settings):
        raise CsrfRefused  # a browser that does not say where it comes from: its Origin does
    form = await read_form(request)
    token = form.get(TOKEN_FIELD, "")
    hours = context.settings.maturity_web_session_hours
    old: WebSession | None = request.scope.get(SESSION_KEY)

    def use() -> WebSession | LinkState:
        outcome = context.sessions.redeem_link(token, session_hours=hours)
        if old is not None and isinstance(outcome, WebSession):
            context.sessions.end_session(old.session_id)  # one browser, one session
        return outcome

    outcome = await anyio.to_thread.run_sync(use)
    if isinstance(outcome, LinkState):
        return _refused_link(request, outcome)
    landing = _home(request, form.get(TARGET_FIELD, ""))
    response = RedirectResponse(landing, status_code=303, headers=SECURITY_HEADERS)
    _set_cookie(response, context, outcome.session_id, hours)
    return response


def _our_origin(origin: str | None, settings: Settings) -> bool:
    """Whether a POST's Origin header is the dashboard's own (MATURITY_WEB_URL's scheme, host
    and port); no header says nothing either way (a browser without Sec-Fetch-Site and
    Origin is too old to check, as a form POST from another site always carries one now)."""
    if origin is None:
        return True
    ours = urlsplit(settings.maturity_web_url or "")
    theirs = urlsplit(origin)
    return (theirs.scheme, theirs.netloc) == (ours.scheme, ours.netloc)


async def sign_out(request: Request) -> Response:
    session = current_session(request)
    check_csrf(request, await read_form(request))
    context = web_context(request)
    await anyio.to_thread.run_sync(context.sessions.end_session, session.session_id)
    request.scope[SESSION_KEY] = None
    texts = {"title_key": "signed_out.title", "body_key": "signed_out.body", "how": False}
    response = render(request, "refused.html", {**texts, "lang": session.viewer.lang})
    response.delete_cookie(
        context.cookie_name, path="/", secure=context.secure, httponly=True, samesite="lax"
    )
    return response


def _home(request: Request, target: str = "") -> str:
    """Where a redeemed link lands: its target page when it names one of TARGETS, else home."""
    name = target if target in TARGETS else "home"
    return str(request.scope["router"].url_path_for(name))


def _set_cookie(response: Response, context: WebContext, session_id: str, hours: float) -> None:
    """HttpOnly (no script reads it), SameSite=Lax (not sent on another site's POSTs), Secure
    when served over https; the server's row decides the expiry, the cookie only follows."""
    response.set_cookie(
        context.cookie_name,
        session_id,
        max_age=int(hours * 3600),
        path="/",
        secure=context.secure,
        httponly=True,
        samesite="lax",
    )


def signin_routes() -> list[BaseRoute]:
    return [
        Route("/signin/{token}", open_link, methods=["GET"], name="signin"),
        Route("/signin", redeem, methods=["POST"], name="signin_post"),
        Route("/signout", sign_out, methods=["POST"], name="signout"),
    ]
