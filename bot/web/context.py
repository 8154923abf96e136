"""What a page handler reaches the bot through: the storage, the settings and the models.

Why the request's scope and not `request.app.state` or module globals: the web routes are served
by `maturity-bot web` on their own, and also mounted inside the Slack HTTP app and the Telegram
webhook server, whose `app` is not ours. app.py's middleware puts one WebContext into the scope
of every request that reaches a web route; `web_context(request)` takes it out."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from bot.storage.web_sessions import WebSessionStore

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.storage import Storage
    from flows.model_schema import MaturityModel

CONTEXT_KEY = "maturity_web.context"


@dataclass
class WebContext:
    storage: Storage
    settings: Settings
    models_given: dict[str, MaturityModel] | None = field(default=None, repr=False)
    """The models, when the caller has them loaded already (the chat service's)."""

    @cached_property
    def sessions(self) -> WebSessionStore:
        return WebSessionStore(self.storage)

    @cached_property
    def models(self) -> dict[str, MaturityModel]:
        """The maturity models by id (the same files the chat uses)."""
        if self.models_given is not None:
            return self.models_given
        from flows.model_loader import load_models

        return load_models(self.settings.maturity_models_dir)

    @property
    def secure(self) -> bool:
        """Served over https (MATURITY_WEB_URL says so): the cookie is then Secure."""
        return (self.settings.maturity_web_url or "").startswith("https://")

    @property
    def cookie_name(self) -> str:
        """`__Host-` where the browser enforces it (Secure, path /, no Domain) and plain http
        otherwise, where browsers refuse the prefix."""
        return "__Host-maturity_session" if self.secure else "maturity_session"


def web_context(request: Request) -> WebContext:
    """The WebContext of the app serving this request (see the module)."""
    context: Any = request.scope[CONTEXT_KEY]
    return context
