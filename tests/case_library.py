"""The case library: organisations described in words, each answered from its description alone
on every maturity model, with the phase a reader of the source texts would expect.

A case that cannot be answered honestly is a questionnaire bug, not a case to adjust. This module
plays every case through the real assessment service and reports the hit rate per model;
tests/test_case_library.py holds it to "never off by more than one", and
`python -m tests.case_library` prints the table the README quotes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.service import AssessmentService
from bot.storage import Storage
from flows.model_loader import load_models, load_scan
from flows.model_schema import MaturityModel
from tests.helpers import Chat

CASES = Path(__file__).resolve().parent / "cases"
MATURITY_MODELS = ("groeimodel", "mi-partners", "altimeter", "bmm")


@dataclass(frozen=True)
class Outcome:
    case: str
    model: str
    expected: str
    found: str
    off: int
    """How many phases the found phase is from the expected one."""


def load_cases() -> list[dict]:
    return [yaml.safe_load(path.read_text("utf-8")) for path in sorted(CASES.glob("*.yaml"))]


def known_misses(case: dict) -> dict[str, str]:
    """The models on which `case` is a known miss (model id -> why): more than one phase off with
    honest answers, a finding about the questionnaire kept in the library, not a case to adjust."""
    return case.get("known_miss") or {}


def answers_for(case: dict, model: MaturityModel) -> dict[str, str]:
    """The case's chosen option per question of `model` (question id -> option id)."""
    chosen = case["answers"][model.id]
    return {question_id: entry["option"] for question_id, entry in chosen.items()}


def play(service: AssessmentService, case: dict, model: MaturityModel) -> str:
    """Answer `model` for `case` through the service, by pressing the chosen buttons in the
    order the bot asks; returns the phase id of the result."""
    chosen = answers_for(case, model)
    chat = Chat(service, user=f"{case['id']}-{model.id}")
    chat.start(model.id)
    while chat.question is not None:
        ask = chat.question
        option = chosen[ask.question_id]
        payload = next(c.payload for c in ask.choices if c.payload.endswith(f":{option}"))
        chat.press(payload)
    return chat.result.phase_id


def outcomes() -> list[Outcome]:
    models = load_models()
    storage = Storage(":memory:")
    try:
        service = AssessmentService(storage, models, scan=load_scan(models))
        found = []
        for case in load_cases():
            for model_id in MATURITY_MODELS:
                model = models[model_id]
                expected = case["expected"][model_id]["phase"]
                phase = play(service, case, model)
                off = abs(model.phase_index(phase) - model.phase_index(expected))
                found.append(Outcome(case["id"], model_id, expected, phase, off))
        return found
    finally:
        storage.close()


def table(results: list[Outcome]) -> str:
    lines = [
        "| model | cases on the expected phase | off by one | off by more |",
        "|---|---|---|---|",
    ]
    for model_id in MATURITY_MODELS:
        mine = [r for r in results if r.model == model_id]
        hits = sum(r.off == 0 for r in mine)
        ones = sum(r.off == 1 for r in mine)
        more = sum(r.off > 1 for r in mine)
        lines.append(f"| `{model_id}` | {hits} of {len(mine)} | {ones} | {more} |")
    return "\n".join(lines)


if __name__ == "__main__":
    results = outcomes()
    known = {(case["id"], m) for case in load_cases() for m in known_misses(case)}
    print(table(results))
    for r in results:
        if r.off:
            mark = " (known miss)" if (r.case, r.model) in known else ""
            print(f"  {r.case} on {r.model}: expected {r.expected}, found {r.found}{mark}")
