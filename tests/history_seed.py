"""Many finished results for one user, fast: a long history without playing every answer.

Each result is scored by the real scoring and stored by the real storage calls an assessment
makes; only its date is set, one day apart from 2024-01-01 on, so every history line is
different and a page can be checked line by line."""

from __future__ import annotations

from datetime import date, timedelta

from bot.storage import Storage
from flows.i18n import t
from flows.results import phase_name, stored_result
from flows.scoring import score

SEED_MODELS = ("groeimodel", "mi-partners", "altimeter")


def seed_results(storage: Storage, channel: str, external_id: str, models, count: int) -> list:
    """`count` results for the user (created if new); returns their history lines in English,
    newest first, as /history shows them."""
    user = storage.user(channel, external_id, "en")
    lines = []
    for i in range(count):
        model = models[SEED_MODELS[i % len(SEED_MODELS)]]
        level = i % 2 * -1  # first options, then last options: the phases differ too
        answers = {q.id: q.options[level].id for q in model.questions}
        result = stored_result(model, score(model, answers), answers)
        day = (date(2024, 1, 1) + timedelta(days=i)).isoformat()
        assessment_id = f"seed{external_id[-4:]}{i:04d}"
        with storage.transaction() as db:
            storage.create_assessment(user, assessment_id, model.id)
            for question_id, option_id in answers.items():
                storage.save_answer(assessment_id, question_id, option_id)
            storage.finish_assessment(user, assessment_id, model.id, result)
            db.execute(
                "update results set created_at = ? where assessment_id = ?",
                (f"{day}T09:00:00+00:00", assessment_id),
            )
        line = t(
            "history_line",
            "en",
            date=day,
            model=model.name.en,
            phase=phase_name(model, result.phase_id, "en"),
        )
        lines.append(line)
    return lines[::-1]
