"""Who is looking at a page: the person a session was started for, as the chat knew them when
the bot sent the sign-in link. Every page scopes its queries by this, never by a URL parameter.

The admin flags are taken at sign-in time (Slack's users.info, Telegram's getChatMember) and
kept for the session's life: a person who loses admin rights keeps them in the dashboard until
the session ends (at most MATURITY_WEB_SESSION_HOURS), the price of not asking the platform on
every page view."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

SESSION_KEY = "maturity_web.session"
"""Where the request's scope holds its WebSession (or None), set by app.py's middleware."""


@dataclass(frozen=True)
class Viewer:
    channel: str
    """"slack" | "telegram" | "console"."""
    external_id: str
    """As the service stores users (Slack: bot.slack.member key "T123:U456")."""
    lang: str
    """"nl" | "en"."""
    workspace: str | None
    """Slack team id, None elsewhere."""
    workspace_admin: bool
    """Slack workspace admin/owner at sign-in time, or Telegram group owner/admin (then see
    `admin_of_groups`)."""
    admin_of_groups: tuple[str, ...] = ()
    """Telegram group chat ids whose owner/admin the person is."""


@dataclass(frozen=True)
class WebSession:
    """A signed-in browser: whose it is and the token its forms must carry."""

    viewer: Viewer
    csrf_token: str
    session_id: str
    """The raw id from the cookie (only its hash is stored)."""


class SignInRequired(Exception):
    """No valid session: app.py answers with the "sign in from the chat" page (401)."""


def current_session(request: Request) -> WebSession:
    session = request.scope.get(SESSION_KEY)
    if session is None:
        raise SignInRequired
    return session


def current_viewer(request: Request) -> Viewer:
    """The signed-in viewer, or SignInRequired (answered with the "sign in from the chat" page).
    Cheap and sync: the session was read once by the middleware (app.py)."""
    return current_session(request).viewer
