"""Pages are Jinja2 templates under bot/web/templates, rendered by `render` with one Environment
(autoescape on for every template: a team name or a model text never becomes markup).

Every template gets, besides its own context:
- `viewer` (the signed-in Viewer, or None on the sign-in pages) and `lang` (its language, or the
  browser's before sign-in);
- `t(key)`: the text for `key` in that language, from bot/web/texts.py, or first from a page's
  own table passed as `texts` in the context (e.g. bot/web/pages/texts.py's dict);
- `csrf_token`: the hidden field every form carries (`<input type="hidden" name="csrf_token"
  value="{{ csrf_token }}">`), checked by `check_csrf` on every POST;
- `url_for(name, **params)`: the path of a named route (`url_for('static', path='style.css')`),
  and `has_route(name)`: whether a route of that name (without parameters) is registered; the
  menu in base.html links "teams", "organisation" (workspace admins) and "report" once a page
  module registers a route of that name.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from bot.web.texts import browser_language, text
from bot.web.viewer import SESSION_KEY

TEMPLATES = Path(__file__).parent / "templates"

environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def page_language(request: Request) -> str:
    """The viewer's language, or before sign-in the browser's (nl or en)."""
    session = request.scope.get(SESSION_KEY)
    if session is not None:
        return session.viewer.lang
    return browser_language(request.headers.get("accept-language", ""))


def render(
    request: Request,
    template_name: str,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The page `template_name` with `context`, in the viewer's language (see the module)."""
    values = dict(context or {})
    session = request.scope.get(SESSION_KEY)
    lang = values.pop("lang", None) or page_language(request)
    own: Mapping[str, Mapping[str, str]] = values.pop("texts", None) or {}

    def t(key: str) -> str:
        return text(lang, key, own)

    def url_for(name: str, /, **params: Any) -> str:
        router = request.scope["router"]
        return str(router.url_path_for(name, **{k: str(v) for k, v in params.items()}))

    def has_route(name: str) -> bool:
        try:
            url_for(name)
        except Exception:  # noqa: BLE001 - NoMatchFound, or a route that needs parameters
            return False
        return True

    values.setdefault("viewer", session.viewer if session is not None else None)
    values.setdefault("title", "")
    page = environment.get_template(template_name).render(
        **values,
        lang=lang,
        t=t,
        csrf_token=session.csrf_token if session is not None else "",
        url_for=url_for,
        has_route=has_route,
        request=request,
    )
    return HTMLResponse(page, status_code=status_code, headers=SECURITY_HEADERS)


SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
"""Everything is served by the bot itself (no CDN), so the policy allows only our own origin
(scripts only as files under bot/web/static: no inline `<script>` or `onclick`; inline SVG's
style attributes are allowed);
no-referrer keeps a sign-in link's token out of any Referer; no-store keeps a signed-in page
out of a shared computer's cache after sign-out."""
