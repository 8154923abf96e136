"""The dashboard as Starlette routes: the pages (pages/__init__.py), sign-in and sign-out
(signin.py) and the stylesheet (static/), all under one `Mount("")` whose middleware
(`WebScope`) does, for every request that reaches a web route:
- put the WebContext (storage, settings, models) into the request's scope (context.py), so a
  handler finds it the same way whether `maturity-bot web` serves it alone or the Slack HTTP app
  or the Telegram webhook server has the routes mounted after its own;
- read the session cookie once (a thread, since storage is blocking) and put the WebSession, or
  None, into the scope: `current_viewer(request)` then costs nothing;
- turn SignInRequired into the "sign in from the chat" page (401), CsrfRefused into the 403
  page, a StorageError (the database away or locked) into a "try again" page (503, logged
  without a traceback), the router's HTTPException (a wrong method) and a form refused unread
  (FormRefused: too large) into the page of their status, and any unknown path into our 404
  page, in the viewer's (or browser's) language.

A host app puts `*web_routes(storage, settings)` LAST in its routes: the Mount matches every
path, so the host's own paths (/slack/events, the webhook, /healthz) must be tried first.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import BaseRoute, Mount, Router
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from bot.storage.errors import StorageError
from bot.web.context import CONTEXT_KEY, WebContext
from bot.web.csrf import CsrfRefused, FormRefused
from bot.web.pages import page_routes
from bot.web.signin import signin_routes
from bot.web.templating import render
from bot.web.viewer import SESSION_KEY, SignInRequired

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.storage import Storage
    from flows.model_schema import MaturityModel

STATIC = "/static"
log = logging.getLogger("bot.web")


class WebScope:
    """The middleware the module describes; `routes` lets url_for look through the Mount."""

    def __init__(self, context: WebContext, routes: list[BaseRoute]) -> None:
        self.context = context
        self.router = Router(routes, default=self._not_found)

    @property
    def routes(self) -> list[BaseRoute]:
        return self.router.routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.router(scope, receive, send)
            return
        scope[CONTEXT_KEY] = self.context
        scope[SESSION_KEY] = None
        try:
            if not scope.get("path", "").startswith(STATIC + "/"):
                session_id = Request(scope).cookies.get(self.context.cookie_name)
                if session_id:
                    sessions = self.context.sessions
                    session = await anyio.to_thread.run_sync(sessions.session, session_id)
                    scope[SESSION_KEY] = session
            await self.router(scope, receive, send)
        except StorageError as exc:
            log.error("a dashboard page could not read the database: %s", exc)
            response = render(Request(scope), "refused.html", _refusal("unavailable"), 503)
            await response(scope, receive, send)
        except SignInRequired:
            response = render(Request(scope), "refused.html", _refusal("signin.required"), 401)
            await response(scope, receive, send)
        except CsrfRefused as exc:
            status = exc.status_code if isinstance(exc, FormRefused) else 403
            response = render(Request(scope), "refused.html", _refusal("csrf"), status)
            await response(scope, receive, send)
        except HTTPException as exc:  # the router's: a wrong method (GET /signout)
            kind = "not_found" if exc.status_code in (404, 405) else "csrf"
            response = render(Request(scope), "refused.html", _refusal(kind), exc.status_code)
            response.headers.update(exc.headers or {})
            await response(scope, receive, send)

    async def _not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = render(Request(scope), "refused.html", _refusal("not_found"), 404)
        await response(scope, receive, send)


def _refusal(kind: str) -> dict[str, Any]:
    """The refused page's context: a title and body key, and the way forward."""
    if kind == "signin.required":
        return {"title_key": "signin.required_title", "body_key": "signin.required", "how": True}
    return {"title_key": f"{kind}.title", "body_key": f"{kind}.body", "how": False}


def web_routes(
    storage: Storage,
    settings: Settings,
    models: dict[str, MaturityModel] | None = None,
) -> list[BaseRoute]:
    """The dashboard's routes for a host app (put them last: see the module)."""
    context = WebContext(storage, settings, models)
    routes: list[BaseRoute] = [
        *signin_routes(),
        *page_routes(),
        Mount(STATIC, app=StaticFiles(packages=[("bot.web", "static")]), name="static"),
    ]
    return [Mount("", app=WebScope(context, routes))]


def web_app(
    storage: Storage,
    settings: Settings,
    models: dict[str, MaturityModel] | None = None,
) -> Starlette:
    """`maturity-bot web`: the dashboard with /healthz, /readyz and /metrics beside it."""
    from bot.observability.health import Readiness, health_routes

    return Starlette(
        routes=[*health_routes(Readiness(storage, None)), *web_routes(storage, settings, models)]
    )
