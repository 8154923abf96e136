"""The board report page's own words (the frame's are in texts.py; the report's content comes
from flows/report.py in the viewer's language). Dutch first."""

from __future__ import annotations

from flows.i18n import pick

REPORT_TEXTS: dict[str, dict[str, str]] = {
    "report.page_title": {"nl": "Bestuursrapport", "en": "Board report"},
    "report.actions": {"nl": "Rapport opslaan of afdrukken", "en": "Save or print the report"},
    "report.pdf": {"nl": "Download als PDF", "en": "Download as PDF"},
    "report.print_hint": {
        "nl": "Afdrukken kan ook vanuit de browser: het menu en de knoppen vallen dan weg.",
        "en": "You can also print from the browser: the menu and the buttons are left out.",
    },
    "report.team_label": {
        "nl": "Neem de pulstrend van een team op",
        "en": "Include a team's pulse trend",
    },
    "report.team_none": {"nl": "Geen team", "en": "No team"},
    "report.team_show": {"nl": "Rapport bijwerken", "en": "Update the report"},
    "report.summary_heading": {"nl": "Samenvatting", "en": "Summary"},
    "report.measured": {"nl": "Gemeten op {date}", "en": "Measured on {date}"},
    "report.pillar": {"nl": "Pijler", "en": "Pillar"},
    "report.level": {"nl": "Niveau", "en": "Level"},
    "report.pillars_caption": {
        "nl": "{model}: niveau per pijler",
        "en": "{model}: level per pillar",
    },
    "report.radar_sentence": {
        "nl": "Spindiagram van {model}: {levels}.",
        "en": "Radar chart of {model}: {levels}.",
    },
    "report.priority": {"nl": "Prioriteit {number}", "en": "Priority {number}"},
    "report.steps": {
        "nl": "Passende implementatiestappen",
        "en": "Implementation steps that fit",
    },
    "report.initiative": {"nl": "Initiatief", "en": "Initiative"},
    "report.channel": {"nl": "Kanaal", "en": "Channel"},
    "report.objective": {"nl": "Groundswell-doelstelling", "en": "Groundswell objective"},
    "report.goal": {"nl": "Organisatiedoel", "en": "Organisational goal"},
    "report.initiatives_caption": {
        "nl": "Initiatieven per organisatiedoel",
        "en": "Initiatives by organisational goal",
    },
    "report.withheld": {"nl": "te weinig antwoorden", "en": "too few answers"},
    "report.pdf_unavailable": {
        "nl": "Een PDF maken lukt op deze server niet. Druk het rapport af vanuit de browser en "
        "kies daar 'Opslaan als PDF'.",
        "en": "This server cannot make a PDF. Print the report from the browser and choose "
        "'Save as PDF' there.",
    },
}


def rt(key: str, lang: str, **values: object) -> str:
    """A text of this page in `lang` (English when missing, as flows.i18n), filled in."""
    return pick(REPORT_TEXTS[key], lang, **values)
