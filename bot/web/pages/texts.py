"""The words of the dashboard's pages (My results, Team, Organisation, the board report), Dutch
first (the source language) and English. The shared frame's words (navigation, sign-in) are
bot/web/texts.py's."""

from __future__ import annotations

from flows.i18n import pick

PAGE_TEXTS: dict[str, dict[str, str]] = {
    # ---- My results ----------------------------------------------------------------------
    "my_title": {"nl": "Mijn resultaten", "en": "My results"},
    "my_intro": {
        "nl": "Al je afgeronde metingen, de nieuwste bovenaan, met wat er veranderde sinds de "
        "vorige meting met hetzelfde model.",
        "en": "All your finished assessments, newest first, with what changed since the previous "
        "one of the same model.",
    },
    "my_none": {
        "nl": "Je hebt nog geen meting afgerond. Begin er een in de chat met de bot.",
        "en": "You have not finished an assessment yet. Start one in the chat with the bot.",
    },
    "my_table_caption": {"nl": "Je metingen", "en": "Your assessments"},
    "th_date": {"nl": "Datum", "en": "Date"},
    "th_model": {"nl": "Model", "en": "Model"},
    "th_phase": {"nl": "Fase", "en": "Phase"},
    "th_change": {"nl": "Verandering", "en": "Change"},
    "th_pillar": {"nl": "Pijler", "en": "Pillar"},
    "th_level": {"nl": "Niveau", "en": "Level"},
    "th_previous": {"nl": "Vorige keer", "en": "Last time"},
    "change_first": {"nl": "eerste meting met dit model", "en": "first assessment of this model"},
    "change_up": {
        "nl": "{steps} hoger dan op {date} ({phase})",
        "en": "{steps} higher than on {date} ({phase})",
    },
    "change_down": {
        "nl": "{steps} lager dan op {date} ({phase})",
        "en": "{steps} lower than on {date} ({phase})",
    },
    "change_same": {
        "nl": "gelijk aan de meting van {date} ({phase})",
        "en": "the same as on {date} ({phase})",
    },
    "steps_one": {"nl": "1 fase", "en": "1 phase"},
    "rounds_one": {"nl": "1 ronde", "en": "1 round"},
    "rounds_many": {"nl": "{n} rondes", "en": "{n} rounds"},
    "teams_one": {"nl": "1 team", "en": "1 team"},
    "teams_many": {"nl": "{n} teams", "en": "{n} teams"},
    "steps_many": {"nl": "{n} fasen", "en": "{n} phases"},
    "radar_sentence": {
        "nl": "Spindiagram van je niveau per pijler op {date}: {levels}.",
        "en": "Radar chart of your level per pillar on {date}: {levels}.",
    },
    "radar_table_caption": {
        "nl": "Niveau per pijler, {model}, {date}",
        "en": "Level per pillar, {model}, {date}",
    },
    "level_of": {"nl": "{level} ({number} van {total})", "en": "{level} ({number} of {total})"},
    "quick_scan": {"nl": "Snelle scan", "en": "Quick scan"},
    # ---- teams -----------------------------------------------------------------------------
    "teams_title": {"nl": "Mijn teams", "en": "My teams"},
    "teams_intro": {
        "nl": "De teams met een pulse waar je lid of beheerder van bent.",
        "en": "The teams with a pulse that you are a member or an admin of.",
    },
    "teams_none": {
        "nl": "Je hoort nog bij geen team met een pulse. Zodra je meedoet met de pulse in de "
        "groep of het kanaal van je team, staat dat team hier.",
        "en": "You are not in a team with a pulse yet. Once you take part in the pulse in your "
        "team's group or channel, that team shows up here.",
    },
    "teams_caption": {"nl": "Je teams", "en": "Your teams"},
    "th_team": {"nl": "Team", "en": "Team"},
    "th_rounds": {"nl": "Afgesloten rondes", "en": "Closed rounds"},
    "th_status": {"nl": "Pulse", "en": "Pulse"},
    "status_none": {"nl": "nog niet gestart", "en": "not started yet"},
    "team_model": {"nl": "Model van de pulse: {model}.", "en": "The pulse's model: {model}."},
    "team_report_link": {
        "nl": "Bestuursrapport met het verloop van dit team",
        "en": "Board report with this team's trend",
    },
    "team_no_rounds": {
        "nl": "Dit team heeft nog geen afgesloten ronde.",
        "en": "This team has no closed round yet.",
    },
    "anonymity": {
        "nl": "Resultaten tonen we pas vanaf {k} antwoorden per ronde. Met minder zie je alleen "
        "hoeveel mensen antwoordden; er wordt dan niets berekend.",
        "en": "Results are shown only from {k} answers per round on. With fewer you see only how "
        "many people answered; nothing else is computed.",
    },
    "trend_heading": {"nl": "De fase van het team per ronde", "en": "The team's phase per round"},
    "trend_sentence": {
        "nl": "Lijndiagram van de fase van het team (de mediaan) over {rounds}, van {first} "
        "tot {last}. De laatste ronde met resultaat staat op {phase}. Een grijze balk bij elke "
        "ronde toont de spreiding van de antwoorden; een grijs vlak is een ronde met te weinig "
        "antwoorden.",
        "en": "Line chart of the team's phase (the median) over {rounds}, from {first} to "
        "{last}. The latest round with a result is at {phase}. A grey bar at each round shows "
        "how the answers spread; a grey band is a round with too few answers.",
    },
    "trend_sentence_none": {
        "nl": "Nog geen ronde met genoeg antwoorden, dus er is geen verloop te tekenen.",
        "en": "No round with enough answers yet, so there is no trend to draw.",
    },
    "rounds_caption": {"nl": "Rondes van de pulse", "en": "The pulse's rounds"},
    "th_answers": {"nl": "Antwoorden", "en": "Answers"},
    "th_response": {"nl": "Respons", "en": "Response rate"},
    "th_median": {"nl": "Fase (mediaan)", "en": "Phase (median)"},
    "th_spread": {"nl": "Spreiding", "en": "Spread"},
    "answers_of": {"nl": "{answered} van {invited}", "en": "{answered} of {invited}"},
    "withheld": {
        "nl": "niet getoond: minder dan {k} antwoorden",
        "en": "withheld: fewer than {k} answers",
    },
    "withheld_short": {"nl": "minder dan {k} antwoorden", "en": "fewer than {k} answers"},
    "spread_range": {"nl": "{low} tot {high}", "en": "{low} to {high}"},
    "pillars_heading": {"nl": "Gemiddeld niveau per pijler", "en": "Average level per pillar"},
    "pillars_sentence": {
        "nl": "Staafdiagram van het gemiddelde niveau per pijler in de ronde van {date}, op een "
        "schaal van 1 tot {top}: {values}.",
        "en": "Bar chart of the average level per pillar in the round of {date}, on a scale of 1 "
        "to {top}: {values}.",
    },
    "pillars_caption": {
        "nl": "Gemiddeld niveau per pijler, ronde van {date}",
        "en": "Average level per pillar, round of {date}",
    },
    "th_average": {"nl": "Gemiddelde", "en": "Average"},
    "actions_heading": {"nl": "Meest genoemde volgende stappen", "en": "Most-named next actions"},
    "actions_intro": {
        "nl": "Waar de meeste antwoorden in de ronde van {date} naar wijzen.",
        "en": "Where most answers in the round of {date} point to.",
    },
    # ---- organisation ----------------------------------------------------------------------
    "org_title": {"nl": "Organisatie", "en": "Organisation"},
    "org_intro": {
        "nl": "Alle teams naast elkaar, elk met zijn laatste ronde met resultaat.",
        "en": "All teams side by side, each with its latest round with a result.",
    },
    "org_none": {
        "nl": "Er zijn nog geen teams met een pulse. Een beheerder start een pulse in de groep "
        "of het kanaal van een team; daarna staat het team hier.",
        "en": "There are no teams with a pulse yet. An admin starts a pulse in a team's group "
        "or channel; the team then shows up here.",
    },
    "org_caption": {"nl": "Teams en hun laatste fase", "en": "Teams and their latest phase"},
    "th_latest": {"nl": "Laatste fase", "en": "Latest phase"},
    "th_round_date": {"nl": "Ronde van", "en": "Round of"},
    "not_reported": {"nl": "nog geen ronde met resultaat", "en": "no round with a result yet"},
    "heatmap_heading": {"nl": "Teams en pijlers: {model}", "en": "Teams and pillars: {model}"},
    "heatmap_sentence": {
        "nl": "Kleurenkaart van het gemiddelde niveau per pijler (1 tot {top}) van {teams}, "
        "donkerder is hoger. Een grijs vak toont niets: dat team had minder dan {k} antwoorden.",
        "en": "Heatmap of the average level per pillar (1 to {top}) of {teams}, darker is "
        "higher. A grey cell shows nothing: that team had fewer than {k} answers.",
    },
    "heatmap_caption": {
        "nl": "Gemiddeld niveau per team en pijler: {model}",
        "en": "Average level per team and pillar: {model}",
    },
    "spread_heading": {
        "nl": "Spreiding in de organisatie: {model}",
        "en": "Spread across the organisation: {model}",
    },
    "spread_sentence": {
        "nl": "Staafdiagram van de {total} antwoorden uit de laatste ronde van {teams}, per "
        "fase: {values}.",
        "en": "Bar chart of the {total} answers in the latest round of {teams}, per "
        "phase: {values}.",
    },
    "spread_caption": {
        "nl": "Antwoorden per fase in de organisatie: {model}",
        "en": "Answers per phase across the organisation: {model}",
    },
    "th_count": {"nl": "Antwoorden", "en": "Answers"},
    # ---- export ----------------------------------------------------------------------------
    "export_heading": {"nl": "Opslaan als bestand", "en": "Download"},
    "export_intro": {
        "nl": "Wat deze pagina toont, in een bestand:",
        "en": "What this page shows, as a file:",
    },
    "export_csv": {"nl": "CSV (voor een rekenblad)", "en": "CSV (for a spreadsheet)"},
    "export_json": {"nl": "JSON", "en": "JSON"},
    # ---- Board report (bot/web/report.py) ----------------------------------------------------
    "report.page_title": {"nl": "Bestuursrapport", "en": "Board report"},
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


def pt(key: str, lang: str, **values: object) -> str:
    """A page text in `lang` (English where a language is unknown, as flows.i18n), filled in."""
    return pick(PAGE_TEXTS[key], lang, **values)


def counted(noun: str, count: int, lang: str) -> str:
    """ "1 team", "3 teams": `noun` is "teams", "rounds" or "steps" (keys noun_one, noun_many)."""
    return pt(f"{noun}_one", lang) if count == 1 else pt(f"{noun}_many", lang, n=count)


def teams_text(count: int, lang: str) -> str:
    return counted("teams", count, lang)


def steps_text(steps: int, lang: str) -> str:
    return counted("steps", steps, lang)
