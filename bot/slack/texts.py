"""Texts only the Slack channel says (buttons, App Home, forget/export), in every language.

The conversation's own texts come from flows/messages.yaml through `flows.i18n.t`; these are the
few that exist because of Slack's surface (a Home tab, a slash command, a confirmation button),
so they live next to the Slack adapter instead of in the channel-free catalogue.
"""

from __future__ import annotations

from flows.i18n import pick, t

TEXTS: dict[str, dict[str, str]] = {
    "select_placeholder": {"nl": "Kies een antwoord", "en": "Choose an answer"},
    "select_placeholder_menu": {"nl": "Maak een keuze", "en": "Make a choice"},
    "dm_notice": {
        "nl": "Ik antwoord in ons privégesprek: open Maturity Bot onder Apps.",
        "en": "I answer in our direct message: open Maturity Bot under Apps.",
    },
    "help_note": {
        "nl": "In Slack typ je een opdracht als /maturity gevolgd door het woord "
        "(/maturity terug, /maturity stop), of je gebruikt de knoppen onder een vraag. "
        "/maturity vergeet verwijdert alles wat over jou bewaard is; "
        "/maturity exporteer stuurt je daar een kopie van. "
        "/maturity dashboard stuurt je een link naar je dashboard in de browser. "
        "/maturity pulse, getypt in het kanaal van een team, start een pulse voor dat team.",
        "en": "In Slack you type a command as /maturity followed by the word "
        "(/maturity back, /maturity stop), or use the buttons under a question. "
        "/maturity forget deletes everything stored about you; "
        "/maturity export sends you a copy of it. "
        "/maturity dashboard sends you a link to your dashboard in the browser. "
        "/maturity pulse, typed in a team's channel, starts a pulse for that team.",
    },
    "export_comment": {
        "nl": "Alles wat over jou bewaard is: je antwoorden en resultaten, als JSON.",
        "en": "Everything stored about you: your answers and results, as JSON.",
    },
    "export_failed": {
        "nl": "De export kon niet worden geüpload; probeer het later opnieuw.",
        "en": "The export could not be uploaded; please try again later.",
    },
    "pulse_in_channel_only": {
        "nl": "Een pulse is voor een team: typ /maturity pulse in het kanaal van het team "
        "(nodig mij eerst uit met /invite @Maturity Bot). De leden krijgen de vragen dan hier, "
        "in een privébericht, en het kanaal ziet alleen de anonieme totalen.",
        "en": "A pulse is for a team: type /maturity pulse in the team's channel (invite me "
        "first with /invite @Maturity Bot). Members then get the questions here, in a direct "
        "message, and the channel only sees the anonymous totals.",
    },
    "pulse_slack_note": {
        "nl": "In Slack typ je dit als /maturity pulse ... in het kanaal van het team, "
        "bijvoorbeeld /maturity pulse start groeimodel weekly di 10:00. Nodig mij uit in het "
        "kanaal (/invite @Maturity Bot), zodat ik de resultaten daar kan plaatsen.",
        "en": "In Slack you type this as /maturity pulse ... in the team's channel, for example "
        "/maturity pulse start groeimodel weekly tue 10:00. Invite me to the channel "
        "(/invite @Maturity Bot) so I can post the results there.",
    },
    "pulse_not_admin": {
        "nl": "Alleen een beheerder of eigenaar van de workspace, de maker van dit kanaal of een "
        "pulsebeheerder die de beheerder van de bot heeft ingesteld, mag hier een pulse starten; "
        "daarna mag ook degene die hem heeft gestart hem wijzigen, pauzeren, stoppen of "
        "exporteren. Vraag een van hen; /maturity pulse status mag iedereen bekijken.",
        "en": "Only a workspace admin or owner, the creator of this channel, or a pulse admin set "
        "by the bot's operator may start a pulse here; after that, whoever started it may also "
        "change, pause, stop or export it. Ask one of them; anyone may see /maturity pulse status.",
    },
    "pulse_unavailable": {
        "nl": "De pulse is in deze installatie van de bot niet beschikbaar.",
        "en": "Pulse checks are not running in this installation of the bot.",
    },
    "home_title": {"nl": "Maturity Bot", "en": "Maturity Bot"},
    "home_intro": {
        "nl": "Ontdek hoe volwassen je organisatie social media inzet, en wat de volgende stap "
        "is. Kies hieronder een model; de vragen komen in ons privégesprek. Of typ /maturity.",
        "en": "Find out how mature your organisation's use of social media is, and what to do "
        "next. Pick a model below; the questions come in our direct message. Or type /maturity.",
    },
    "home_models": {"nl": "Modellen", "en": "Models"},
    "home_latest": {
        "nl": "Laatste resultaat: *{phase}* ({date})",
        "en": "Latest result: *{phase}* ({date})",
    },
    "home_not_taken": {"nl": "Nog niet gedaan", "en": "Not taken yet"},
    "home_start": {"nl": "Start", "en": "Start"},
    "home_history": {"nl": "Je geschiedenis", "en": "Your history"},
    "home_history_empty": {
        "nl": "Nog geen afgeronde beoordelingen.",
        "en": "No finished assessments yet.",
    },
    "busy": {
        "nl": "Het is nu te druk: dit is niet verwerkt en er is niets opgeslagen. "
        "Probeer het over een minuut opnieuw.",
        "en": "It is too busy right now: this was not handled and nothing was saved. "
        "Please try again in a minute.",
    },
    "home_settings_title": {"nl": "Instellingen van de werkruimte", "en": "Workspace settings"},
    "settings_show": {
        "nl": "*Instellingen van deze werkruimte*\n"
        "Taal voor nieuwe leden: {lang_value}\n"
        "Pulsebeheerders: {admins}\n"
        "K, het minimum aantal antwoorden voor een pulseresultaat: {k}\n"
        "Tijdzone van pulses: {timezone}",
        "en": "*Settings of this workspace*\n"
        "Language for new members: {lang_value}\n"
        "Pulse admins: {admins}\n"
        "K, the fewest answers a pulse result is shown from: {k}\n"
        "Time zone of pulses: {timezone}",
    },
    "settings_how": {
        "nl": "Wijzigen: /maturity instellingen <naam> <waarde>, bijvoorbeeld "
        "/maturity instellingen k 4, /maturity instellingen taal nl, "
        "/maturity instellingen tijdzone Europe/Amsterdam of "
        "/maturity instellingen beheerders @anna @piet (of geen). "
        "Met de waarde standaard geldt weer de instelling van de bot.",
        "en": "To change one: /maturity settings <name> <value>, for example "
        "/maturity settings k 4, /maturity settings language en, "
        "/maturity settings timezone Europe/London or "
        "/maturity settings admins @anna @pete (or none). "
        "The value default brings back the bot's own setting.",
    },
    "settings_default": {
        "nl": "{value} (standaard van de bot)",
        "en": "{value} (the bot's default)",
    },
    "settings_lang_slack": {
        "nl": "ieders eigen taal in Slack",
        "en": "each member's own language in Slack",
    },
    "settings_admins_none": {
        "nl": "niemand naast de beheerders van de werkruimte en de makers van kanalen",
        "en": "nobody besides the workspace's admins and the channels' creators",
    },
    "settings_not_admin": {
        "nl": "Alleen een beheerder of eigenaar van de werkruimte mag de instellingen van "
        "Maturity Bot bekijken en wijzigen. Vraag een van hen.",
        "en": "Only a workspace admin or owner may see and change Maturity Bot's settings. "
        "Ask one of them.",
    },
    "settings_k_floor": {
        "nl": "K moet een heel getal van minstens {floor} zijn: bij minder antwoorden zijn ze "
        "tot personen te herleiden. K blijft {k}.",
        "en": "K must be a whole number of at least {floor}: with fewer answers, they could be "
        "traced to people. K stays {k}.",
    },
    "settings_bad_timezone": {
        "nl": "{value} is geen bekende tijdzone. Gebruik een naam als Europe/Amsterdam of "
        "America/New_York.",
        "en": "{value} is not a known time zone. Use a name like Europe/London or "
        "America/New_York.",
    },
    "settings_bad_lang": {
        "nl": "De taal kan zijn: {languages}.",
        "en": "The language can be: {languages}.",
    },
    "settings_bad_admins": {
        "nl": "Ik ken {value} niet als lid van deze werkruimte. Noem de pulsebeheerders met @, "
        "bijvoorbeeld /maturity instellingen beheerders @anna @piet (of geen, of standaard).",
        "en": "I do not know {value} as a member of this workspace. Name the pulse admins with "
        "@, for example /maturity settings admins @anna @pete (or none, or default).",
    },
    "settings_unknown": {
        "nl": "Dat kan ik niet instellen: {name}. Je kunt taal, beheerders, k en tijdzone "
        "wijzigen, telkens met een waarde erachter.",
        "en": "I cannot set that: {name}. You can change language, admins, k and timezone, "
        "each followed by a value.",
    },
    "settings_saved": {
        "nl": "Opgeslagen: {name} is nu {value}.",
        "en": "Saved: {name} is now {value}.",
    },
    "settings_reset": {
        "nl": "Opgeslagen: voor {name} geldt weer de instelling van de bot.",
        "en": "Saved: {name} is the bot's own setting again.",
    },
    "settings_name_lang": {"nl": "de taal voor nieuwe leden", "en": "the language for new members"},
    "settings_name_pulse_admins": {
        "nl": "de lijst van pulsebeheerders",
        "en": "the list of pulse admins",
    },
    "settings_name_min_responses": {"nl": "K", "en": "K"},
    "settings_name_timezone": {"nl": "de tijdzone", "en": "the time zone"},
    "install_title": {"nl": "Maturity Bot", "en": "Maturity Bot"},
    "install_done": {
        "nl": "Maturity Bot is aan je Slack-werkruimte toegevoegd. Open de app onder Apps in "
        "Slack, of typ /maturity in een kanaal, om te beginnen.",
        "en": "Maturity Bot has been added to your Slack workspace. Open the app under Apps in "
        "Slack, or type /maturity in a channel, to begin.",
    },
    "install_failed": {
        "nl": "Het toevoegen aan Slack is niet gelukt: de aanvraag was verlopen, al gebruikt of "
        "niet van deze browser, of Slack weigerde hem. Begin opnieuw via de installatielink.",
        "en": "Adding the app to Slack did not work: the request had expired, was used before "
        "or came from another browser, or Slack refused it. Start again from the install link.",
    },
}


def st(key: str, lang: str, **values: object) -> str:
    """The Slack-only text `key` in `lang` (English when the language is unknown)."""
    if key in TEXTS:
        return pick(TEXTS[key], lang, **values)
    return t(key, lang, **values)  # texts every chat channel shares live in flows/messages.yaml
