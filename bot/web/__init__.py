"""The web dashboard (issue 15): pages for a person's results, their teams and their
organisation, served by the bot itself (Starlette + Jinja2, no CDN) and reached only through a
sign-in link the bot sends in the chat. See app.py for how the pieces fit."""
