"""Finds, parses and checks the model files, so a broken one stops start-up with a clear message.

The files ship inside the `model_data` package (so a plain `pip install` has them); a directory
can be given instead, which is how authors try a new model before it ships.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from pydantic import ValidationError

from flows.model_schema import MaturityModel
from flows.scoring import unreachable_phases
from flows.yaml_files import load_yaml

if TYPE_CHECKING:
    from flows.scan import QuickScan


class ModelFileError(Exception):
    """A model file that cannot be used; the message names the file and the field."""

    def __init__(self, file: str, field: str, problem: str) -> None:
        super().__init__(f"{file}: {field}: {problem}")
        self.file = file
        self.field = field
        self.problem = problem


def parse_model(text: str, file: str) -> MaturityModel:
    try:
        raw = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(yaml)"
        raise ModelFileError(file, where, f"not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ModelFileError(file, "(top)", "a model file must be a mapping")
    try:
        model = MaturityModel.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = _readable_location(raw, first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        if not field and ": " in message:  # whole-model checks say "<field>: <problem>"
            field, message = message.split(": ", 1)
        field = field or "(top)"
        raise ModelFileError(file, field, message) from exc
    unreachable = unreachable_phases(model)
    if unreachable:
        raise ModelFileError(
            file, "phases", f"no combination of answers reaches {', '.join(unreachable)}"
        )
    return model


def _readable_location(raw: object, loc: Iterable[str | int]) -> str:
    """`questions[3] (q-plan).text.en` rather than `questions.3.text.en`."""
    parts: list[str] = []
    node = raw
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            node = node[item] if isinstance(node, list) and item < len(node) else None
            if isinstance(node, dict) and "id" in node:
                label += f" ({node['id']})"
            parts.append(label)
        else:
            parts.append(("." if parts else "") + str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts)


def load_models(directory: Path | str | None = None) -> dict[str, MaturityModel]:
    """All models by id, in file-name order. Raises ModelFileError for the first broken file."""
    files = _model_files(directory)
    models: dict[str, MaturityModel] = {}
    origin: dict[str, str] = {}
    for name, text in files:
        model = parse_model(text, name)
        if model.id in models:
            raise ModelFileError(
                name, "id", f"duplicate model id '{model.id}' (also in {origin[model.id]})"
            )
        models[model.id] = model
        origin[model.id] = name
    if not models:
        raise ModelFileError(str(directory or "model_data"), "(files)", "no model files found")
    _check_references(models, origin)
    return models


def _check_references(models: dict[str, MaturityModel], origin: dict[str, str]) -> None:
    """Maturity phases (and pillars, per level) name implementation steps in other files:
    those must exist, and a pillar's levels must be levels of its model."""
    for model in models.values():
        places = [
            (f"phases[{pi}] ({phase.id}).implementation", phase.implementation)
            for pi, phase in enumerate(model.phases)
        ]
        level_ids = {p.id for p in model.phases}
        for pi, pillar in enumerate(model.pillars):
            for level_id, refs in pillar.implementation.items():
                where = f"pillars[{pi}] ({pillar.id}).implementation.{level_id}"
                if level_id not in level_ids:
                    raise ModelFileError(origin[model.id], where, f"unknown level '{level_id}'")
                places.append((where, refs))
        for where, refs in places:
            for ri, ref in enumerate(refs):
                field = f"{where}[{ri}]"
                target = models.get(ref.model)
                if target is None or target.kind != "steps":
                    raise ModelFileError(
                        origin[model.id], field, f"'{ref.model}' is not a step model"
                    )
                known = {p.id for p in target.phases}
                for step in ref.steps:
                    if step not in known:
                        raise ModelFileError(
                            origin[model.id], field, f"'{ref.model}' has no step '{step}'"
                        )


def _model_files(directory: Path | str | None) -> list[tuple[str, str]]:
    if directory is not None:
        folder = Path(directory)
        if not folder.is_dir():
            raise ModelFileError(str(folder), "(files)", "directory not found")
        return [
            (str(p), p.read_text(encoding="utf-8"))
            for p in sorted(folder.glob("*.yaml"))
            if not p.name.startswith("_")
        ]
    package = resources.files("model_data")
    entries = sorted(
        (e for e in package.iterdir() if e.name.endswith(".yaml") and not e.name.startswith("_")),
        key=lambda e: e.name,
    )
    return [(f"model_data/{e.name}", e.read_text(encoding="utf-8")) for e in entries]


SCAN_FILE = "_scan.yaml"
"""The quick scan's crosswalk; files starting with "_" are not models."""


def load_scan(
    models: dict[str, MaturityModel], directory: Path | str | None = None
) -> QuickScan | None:
    """The quick scan, checked against the models it maps onto; None when there is no file.
    (Its schema is imported here: commands that only list the models never read the scan.)"""
    from flows.scan import QuickScan, check_crosswalk

    if directory is not None:
        path = Path(directory) / SCAN_FILE
        if not path.is_file():
            return None
        name, text = str(path), path.read_text(encoding="utf-8")
    else:
        entry = resources.files("model_data").joinpath(SCAN_FILE)
        if not entry.is_file():
            return None
        name, text = f"model_data/{SCAN_FILE}", entry.read_text(encoding="utf-8")
    try:
        raw = load_yaml(text)
        scan = QuickScan.model_validate(raw)
    except yaml.YAMLError as exc:
        raise ModelFileError(name, "(yaml)", f"not valid YAML: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        field = _readable_location(raw, first["loc"]) or "(top)"
        raise ModelFileError(name, field, first["msg"].removeprefix("Value error, ")) from exc
    problems = check_crosswalk(scan, models)
    if problems:
        field, problem = problems[0]
        raise ModelFileError(name, field, problem)
    return scan


def main(argv: list[str] | None = None) -> int:
    """`python -m flows.model_loader [DIR]`: check model files while authoring them."""
    args = sys.argv[1:] if argv is None else argv
    try:
        models = load_models(args[0] if args else None)
    except ModelFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for model in models.values():
        print(f"ok  {model.id}: {len(model.phases)} phases, {len(model.questions)} questions")
    try:
        scan = load_scan(models, args[0] if args else None)
    except ModelFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if scan is not None:
        print(f"ok  quick scan: {len(scan.questions)} questions over {', '.join(scan.models)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
