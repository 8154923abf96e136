"""The dashboard's own texts (the frame, sign-in and refusal pages), Dutch first. Pages of
other modules keep theirs in their own dict and pass it to `texts_for` (see templating.py)."""

from __future__ import annotations

from collections.abc import Mapping

from flows.i18n import pick

LANGS = ("nl", "en")

TEXTS: dict[str, dict[str, str]] = {
    "app.name": {"nl": "Maturity Bot", "en": "Maturity Bot"},
    "nav.label": {"nl": "Hoofdmenu", "en": "Main menu"},
    "nav.skip": {"nl": "Naar de inhoud", "en": "Skip to content"},
    "nav.my_results": {"nl": "Mijn resultaten", "en": "My results"},
    "nav.teams": {"nl": "Teams", "en": "Teams"},
    "nav.organisation": {"nl": "Organisatie", "en": "Organisation"},
    "nav.report": {"nl": "Bestuursrapport", "en": "Board report"},
    "nav.sign_out": {"nl": "Afmelden", "en": "Sign out"},
    "signin.title": {"nl": "Aanmelden bij het dashboard", "en": "Sign in to the dashboard"},
    "signin.intro": {
        "nl": "Je opent het dashboard met de link die de bot je in de chat stuurde.",
        "en": "You open the dashboard with the link the bot sent you in the chat.",
    },
    "signin.continue": {"nl": "Doorgaan naar het dashboard", "en": "Continue to the dashboard"},
    "signin.required_title": {"nl": "Meld je aan vanuit de chat", "en": "Sign in from the chat"},
    "signin.required": {
        "nl": "Je bent niet (meer) aangemeld. Het dashboard heeft geen wachtwoord: je meldt je "
        "aan met een link die de bot je stuurt.",
        "en": "You are not signed in (any more). The dashboard has no password: you sign in "
        "with a link the bot sends you.",
    },
    "signin.how": {
        "nl": "Vraag de bot om een nieuwe link: /maturity dashboard in Slack of /dashboard in "
        "Telegram. De link werkt één keer en tien minuten lang.",
        "en": "Ask the bot for a new link: /maturity dashboard in Slack or /dashboard in "
        "Telegram. The link works once, for ten minutes.",
    },
    "link.used_title": {"nl": "Deze link is al gebruikt", "en": "This link was already used"},
    "link.used": {
        "nl": "Een aanmeldlink werkt maar één keer, en deze is al gebruikt.",
        "en": "A sign-in link works only once, and this one has been used.",
    },
    "link.expired_title": {"nl": "Deze link is verlopen", "en": "This link has expired"},
    "link.expired": {
        "nl": "Een aanmeldlink is tien minuten geldig, en die tijd is voorbij.",
        "en": "A sign-in link is valid for ten minutes, and that time is up.",
    },
    "link.unknown_title": {"nl": "Deze link werkt niet", "en": "This link does not work"},
    "link.unknown": {
        "nl": "Deze aanmeldlink kennen we niet. Misschien is hij niet helemaal gekopieerd.",
        "en": "We do not know this sign-in link. Perhaps it was not copied completely.",
    },
    "signed_out.title": {"nl": "Je bent afgemeld", "en": "You are signed out"},
    "signed_out.body": {
        "nl": "Je sessie is beëindigd. Vraag de bot om een nieuwe link als je terug wilt.",
        "en": "Your session has ended. Ask the bot for a new link to come back.",
    },
    "csrf.title": {"nl": "Verzoek geweigerd", "en": "Request refused"},
    "csrf.body": {
        "nl": "Dit formulier kwam niet van een pagina van het dashboard, of de pagina was te oud. "
        "Ga terug, laad de pagina opnieuw en probeer het nog eens.",
        "en": "This form did not come from a dashboard page, or the page was too old. Go back, "
        "reload the page and try again.",
    },
    "not_found.title": {"nl": "Pagina niet gevonden", "en": "Page not found"},
    "not_found.body": {
        "nl": "Deze pagina bestaat niet, of je mag hem niet zien.",
        "en": "This page does not exist, or you may not see it.",
    },
    "unavailable.title": {"nl": "Even niet beschikbaar", "en": "Not available right now"},
    "unavailable.body": {
        "nl": "Het dashboard kan de gegevens nu niet lezen. Probeer het over een paar minuten "
        "opnieuw.",
        "en": "The dashboard cannot read its data right now. Please try again in a few minutes.",
    },
    "back_home": {"nl": "Naar mijn resultaten", "en": "To my results"},
}


def text(lang: str, key: str, table: Mapping[str, Mapping[str, str]] = TEXTS) -> str:
    """The text for `key` in `lang`, from `table` or else the frame's TEXTS (English when `lang`
    has none, as flows.i18n); a missing key shows itself, so a gap is seen on the page rather
    than crashing it."""
    entry = table.get(key) or TEXTS.get(key)
    return pick(entry, lang) if entry else key


def browser_language(accept_language: str) -> str:
    """nl or en from an Accept-Language header, for pages shown before anyone is signed in."""
    for part in accept_language.split(","):
        code = part.split(";", 1)[0].strip().lower()[:2]
        if code in LANGS:
            return code
    return "en"
