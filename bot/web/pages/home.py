"""/ until "My results" (bot/web/pages/my_results.py) takes its place: the frame and a line."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.web.templating import render
from bot.web.viewer import current_viewer


def home(request: Request) -> Response:
    current_viewer(request)
    return render(request, "home.html")


routes = [Route("/", home, methods=["GET"], name="home")]
