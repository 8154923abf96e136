"""The dashboard's pages, one module each, registered in PAGE_MODULES.

A page module exposes `routes: list[Route]`; handlers call `current_viewer(request)`
(bot/web/viewer.py: no session -> the "sign in from the chat" page) and scope every query by
that viewer; POST handlers call `check_csrf(request, form)` (bot/web/csrf.py, with
`form = await read_form(request)`) before changing anything. Handlers reach the storage,
settings and models with `web_context(request)` (bot/web/context.py) and answer with
`render(request, template, context)` (bot/web/templating.py). Storage is blocking: call it from
a sync handler (Starlette runs those in a thread) or through anyio.to_thread.

The route named "home" is where sign-in lands; /, the first page, is it.
"""

from __future__ import annotations

import importlib

from starlette.routing import BaseRoute

PAGE_MODULES: tuple[str, ...] = (
    "bot.web.pages.my_results",
    "bot.web.pages.team",
    "bot.web.pages.organisation",
    "bot.web.report",
)


def page_routes() -> list[BaseRoute]:
    """Every registered page module's routes, in the order of PAGE_MODULES."""
    routes: list[BaseRoute] = []
    for name in PAGE_MODULES:
        routes.extend(importlib.import_module(name).routes)
    return routes
