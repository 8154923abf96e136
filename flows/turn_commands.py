"""Commands that work in any state (/help, /lang, /remind) and the replies for a command that
does not fit: they interrupt an assessment and then put its open question again."""

from __future__ import annotations

from dataclasses import replace

from flows.engine_data import ScheduleRecheck, SetLanguage
from flows.i18n import normalise_language
from flows.model_schema import LANGUAGES
from flows.turn_base import TurnBase

RECHECK_MONTHS = ("1", "3", "6")


class CommandsMixin(TurnBase):
    """Help, language, reminders, and unknown or out-of-place commands."""

    def say_help(self) -> None:
        self.say("help")
        question = self.question()
        if self.conv.state == "asking" and question is not None:
            model = self.model()
            self.say(
                "help_current",
                name=model.name.get(self.language),
                number=self.position(question),
                total=len(model.questions),
            )
        self.ask_again()

    def set_language(self) -> None:
        value = (self.event.value or "").strip().lower()
        if not value:
            self.say("language_choose")
            return
        if value[:2] not in LANGUAGES or len(value) not in (2, 5):
            self.say("language_unknown", error=True, value=self.event.value)
            return
        lang = normalise_language(value)
        self.conv = replace(self.conv, lang=lang)
        self.effects.append(SetLanguage(lang))
        self.say("language_set")
        self.ask_again()

    def schedule_recheck(self) -> None:
        """`/remind [model] 1|3|6`: a DM in that many months to redo the assessment."""
        words = (self.event.value or "").split()
        months = words[-1] if words else ""
        model_id = words[0] if len(words) > 1 else self.conv.model_id
        model = self.engine.models.get(model_id or "")
        if months not in RECHECK_MONTHS or model is None:
            self.say("recheck_usage", error=True)
        else:
            self.effects.append(ScheduleRecheck(model.id, int(months)))
            self.say("recheck_set", model=model.name.get(self.language), months=months)
        self.ask_again()

    def say_unknown_command(self) -> None:
        self.say("unknown_command", error=True, command=self.event.value)
        self.ask_again()

    def say_nothing_to_do(self) -> None:
        self.say("nothing_to_do")
