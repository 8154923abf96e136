"""Texts only the Telegram channel says (buttons, the command menu, forget/export, group notices),
in every language.

The conversation's own texts come from flows/messages.yaml through `flows.i18n.t`; these exist
because of Telegram's surface (a command menu, inline buttons, group chats), so they live next to
the Telegram adapter instead of in the channel-free catalogue.
"""

from __future__ import annotations

from flows.i18n import DEFAULT_LANGUAGE

TEXTS: dict[str, dict[str, str]] = {
    "back_button": {"nl": "← Terug", "en": "← Back"},
    "stop_button": {"nl": "Pauzeren", "en": "Pause"},
    "private_only": {
        "nl": "Beoordelingen doe je onder vier ogen: open een privégesprek met mij.",
        "en": "Assessments are private: open a private chat with me.",
    },
    "private_button": {"nl": "Privégesprek openen", "en": "Open a private chat"},
    "text_only": {
        "nl": "Ik begrijp tekst en knoppen. Typ /help voor wat ik kan.",
        "en": "I understand text and buttons. Type /help to see what I can do.",
    },
    "help_note": {
        "nl": "Onder elke vraag staan knoppen; een nummer typen werkt ook. "
        "/forget verwijdert alles wat over jou bewaard is; /export stuurt je daar een kopie "
        "van.",
        "en": "Each question has buttons; typing a number works too. "
        "/forget deletes everything stored about you; /export sends you a copy of it.",
    },
    "language_prompt": {
        "nl": "Kies een taal / Choose a language:",
        "en": "Choose a language / Kies een taal:",
    },
    "forget_confirm": {
        "nl": "Al je antwoorden en resultaten verwijderen? Dit kan niet ongedaan worden gemaakt.",
        "en": "Delete all your answers and results? This cannot be undone.",
    },
    "forget_yes": {"nl": "Ja, verwijderen", "en": "Yes, delete"},
    "forget_no": {"nl": "Annuleren", "en": "Cancel"},
    "forgotten": {
        "nl": "Klaar: alles wat over jou bewaard was, is verwijderd.",
        "en": "Done: everything stored about you is deleted.",
    },
    "forget_nothing": {
        "nl": "Er was niets over jou bewaard.",
        "en": "Nothing was stored about you.",
    },
    "forget_cancelled": {"nl": "Er is niets verwijderd.", "en": "Nothing was deleted."},
    "export_caption": {
        "nl": "Alles wat over jou bewaard is: je antwoorden en resultaten, als JSON.",
        "en": "Everything stored about you: your answers and results, as JSON.",
    },
    "export_nothing": {
        "nl": "Er is nog niets over jou bewaard.",
        "en": "Nothing is stored about you yet.",
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
    "cmd_history": {"nl": "Al je resultaten", "en": "All your results"},
    "cmd_lang": {"nl": "Taal: Nederlands of English", "en": "Language: Nederlands or English"},
    "cmd_help": {"nl": "Uitleg en alle opdrachten", "en": "How it works and every command"},
    "cmd_forget": {
        "nl": "Alles verwijderen wat over jou bewaard is",
        "en": "Delete everything stored about you",
    },
    "cmd_export": {"nl": "Je gegevens als bestand", "en": "Your data as a file"},
}

LANGUAGE_NAMES: dict[str, str] = {"nl": "Nederlands", "en": "English"}
"""Each language in its own name: the language buttons read right whatever is chosen now."""


def tt(key: str, lang: str, **values: object) -> str:
    """The Telegram-only text `key` in `lang` (English when the language is unknown)."""
    texts = TEXTS[key]
    text = texts.get(lang) or texts[DEFAULT_LANGUAGE]
    return text.format(**values) if values else text
