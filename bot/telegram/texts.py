"""Texts only the Telegram channel says (buttons, the command menu, forget/export, group notices),
in every language.

The conversation's own texts come from flows/messages.yaml through `flows.i18n.t`; these exist
because of Telegram's surface (a command menu, inline buttons, group chats), so they live next to
the Telegram adapter instead of in the channel-free catalogue.
"""

from __future__ import annotations

from flows.i18n import pick, t

TEXTS: dict[str, dict[str, str]] = {
    "private_only": {
        "nl": "Beoordelingen doe je onder vier ogen: open een privégesprek met mij.",
        "en": "Assessments are private: open a private chat with me.",
    },
    "private_button": {"nl": "Privégesprek openen", "en": "Open a private chat"},
    "text_only": {
        "nl": "Ik begrijp tekst en knoppen. Typ /hulp om te zien wat ik kan.",
        "en": "I understand text and buttons. Type /help to see what I can do.",
    },
    "help_note": {
        "nl": "Onder elke vraag staan knoppen; een nummer typen werkt ook. "
        "/vergeet verwijdert alles wat over jou bewaard is; /exporteer stuurt je daar een kopie "
        "van; /dashboard stuurt je een link naar je dashboard in de browser. In een groep start "
        "een beheerder met /pulse een teampulse.",
        "en": "Each question has buttons; typing a number works too. "
        "/forget deletes everything stored about you; /export sends you a copy of it; "
        "/dashboard sends you a link to your dashboard in the browser. In a group, an admin "
        "starts a team pulse with /pulse.",
    },
    # team pulse checks (the pulse's own texts are in flows/messages.yaml)
    "pulse_group_only": {
        "nl": "/pulse hoort in een groep: voeg mij toe aan de groep van je team en typ daar "
        "/pulse start <model> weekly. De pulsevragen zelf krijg je hier, onder vier ogen.",
        "en": "/pulse belongs in a group: add me to your team's group and type /pulse start "
        "<model> weekly there. The pulse questions themselves come here, in private.",
    },
    "pulse_help_note": {
        "nl": "Typ ze hier als /pulse …, bijvoorbeeld /pulse start groeimodel weekly di 10:00. "
        "Leden doen mee met de knop of met /pulse join.",
        "en": "Type them here as /pulse …, for example /pulse start groeimodel weekly tue 10:00. "
        "Members join with the button or with /pulse join.",
    },
    "pulse_open_chat": {
        "nl": "Je doet mee, maar ik kan je nog geen bericht sturen: open een privégesprek met "
        "mij en tik op Start, dan komen de pulsevragen daar.",
        "en": "You have joined, but I cannot message you yet: open a private chat with me and "
        "tap Start, and the pulse questions will arrive there.",
    },
    "pulse_ready": {
        "nl": "Alles klaar: de pulsevragen van je team komen hier. Typ /start om zelf een "
        "model te doen.",
        "en": "All set: your team's pulse questions will arrive here. Type /start to take a "
        "model yourself.",
    },
    "language_prompt": {
        "nl": "Kies een taal / Choose a language:",
        "en": "Choose a language / Kies een taal:",
    },
    "export_caption": {
        "nl": "Alles wat over jou bewaard is: je antwoorden en resultaten, als JSON.",
        "en": "Everything stored about you: your answers and results, as JSON.",
    },
    "export_failed": {
        "nl": "De export kon niet worden verstuurd; probeer het later opnieuw.",
        "en": "The export could not be sent; please try again later.",
    },
    # the command menu (setMyCommands), per language
    "cmd_start": {"nl": "Begin: kies een model", "en": "Begin: choose a model"},
    "cmd_assess": {
        "nl": "Een beoordeling starten (/assess model)",
        "en": "Start an assessment (/assess model)",
    },
    "cmd_models": {"nl": "De modellen", "en": "The models"},
    "cmd_back": {
        "nl": "Vorige vraag, om een antwoord te wijzigen",
        "en": "Previous question, to change an answer",
    },
    "cmd_skip": {"nl": "Vraag overslaan (waar dat mag)", "en": "Skip a question (where allowed)"},
    "cmd_stop": {
        "nl": "Pauzeren (je antwoorden blijven bewaard)",
        "en": "Pause (your answers are kept)",
    },
    "cmd_resume": {"nl": "Verder waar je was", "en": "Continue where you were"},
    "cmd_review": {
        "nl": "Je antwoorden bekijken en wijzigen",
        "en": "See and change your answers",
    },
    "cmd_result": {"nl": "Je laatste resultaat", "en": "Your latest result"},
    "cmd_history": {"nl": "Je resultaten, nieuwste eerst", "en": "Your results, newest first"},
    "cmd_lang": {"nl": "Taal: Nederlands of English", "en": "Language: Nederlands or English"},
    "cmd_help": {"nl": "Uitleg en alle opdrachten", "en": "How it works and every command"},
    "cmd_forget": {
        "nl": "Alles verwijderen wat over jou bewaard is",
        "en": "Delete everything stored about you",
    },
    "cmd_export": {"nl": "Je gegevens als bestand", "en": "Your data as a file"},
    "cmd_dashboard": {"nl": "Je dashboard in de browser", "en": "Your dashboard in the browser"},
    "cmd_report": {
        "nl": "Bestuursrapport: waar je staat en de routekaart",
        "en": "Board report: where you stand and the roadmap",
    },
    "cmd_scan": {
        "nl": "Snelle scan: je plek op alle modellen",
        "en": "Quick scan: your place on every model",
    },
    "cmd_initiatives": {
        "nl": "Je initiatieven in de Groundswell-matrix",
        "en": "Your initiatives in the Groundswell matrix",
    },
    "cmd_remind": {
        "nl": "Herinnering om opnieuw te meten (/herinner model 1|3|6)",
        "en": "A reminder to measure again (/remind model 1|3|6)",
    },
    "cmd_pulse": {
        "nl": "Teampulse in een groep (/pulse start model weekly)",
        "en": "Team pulse in a group (/pulse start model weekly)",
    },
}

LANGUAGE_NAMES: dict[str, str] = {"nl": "Nederlands", "en": "English"}
"""Each language in its own name: the language buttons read right whatever is chosen now."""


def tt(key: str, lang: str, **values: object) -> str:
    """The Telegram-only text `key` in `lang` (English when the language is unknown)."""
    if key in TEXTS:
        return pick(TEXTS[key], lang, **values)
    return t(key, lang, **values)  # texts every chat channel shares live in flows/messages.yaml
