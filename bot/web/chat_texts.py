"""What the chat says about the dashboard (Slack and Telegram alike), Dutch first: kept with the
dashboard, not in flows/messages.yaml, since only the chat adapters that send a sign-in link
use them."""

from __future__ import annotations

from flows.i18n import pick

CHAT_TEXTS: dict[str, dict[str, str]] = {
    "dashboard_link": {
        "nl": "Hier is je link naar het dashboard: {link}\n"
        "Hij werkt één keer en tien minuten lang. Deel hem met niemand: wie hem opent, ziet "
        "jouw resultaten.",
        "en": "Here is your link to the dashboard: {link}\n"
        "It works once, for ten minutes. Share it with nobody: whoever opens it sees your "
        "results.",
    },
    "dashboard_button": {"nl": "Dashboard openen", "en": "Open the dashboard"},
    "report_link": {
        "nl": "Hier is je link naar je bestuursrapport: {link}\n"
        "Hij werkt één keer en tien minuten lang. Deel hem met niemand: wie hem opent, ziet "
        "jouw resultaten. Op de pagina kun je het rapport afdrukken of als PDF downloaden.",
        "en": "Here is your link to your board report: {link}\n"
        "It works once, for ten minutes. Share it with nobody: whoever opens it sees your "
        "results. On the page you can print the report or download it as a PDF.",
    },
    "report_open_button": {"nl": "Bestuursrapport openen", "en": "Open the board report"},
    "dashboard_home_intro": {
        "nl": "Je resultaten, je teams en je organisatie in de browser, met grafieken en "
        "een export.",
        "en": "Your results, your teams and your organisation in the browser, with charts "
        "and an export.",
    },
    "dashboard_home_button": {"nl": "Dashboard", "en": "Dashboard"},
    "dashboard_not_set_up": {
        "nl": "Het dashboard is hier nog niet ingericht. Vraag de beheerder van de bot om "
        "MATURITY_WEB_URL in te stellen.",
        "en": "The dashboard is not set up here yet. Ask whoever runs the bot to set "
        "MATURITY_WEB_URL.",
    },
    "dashboard_failed": {
        "nl": "Het lukte niet om je link te maken. Probeer het zo nog eens.",
        "en": "Your link could not be made. Please try again in a moment.",
    },
}


def chat_text(key: str, lang: str, **values: object) -> str:
    """A chat text in `lang` (English when the language is unknown, as flows.i18n), filled in."""
    return pick(CHAT_TEXTS[key], lang, **values)
