"""The bot's own texts (not the models'), in every language, from messages.yaml."""

from __future__ import annotations

import string
from functools import cache
from importlib import resources

from flows.model_schema import LANGUAGES
from flows.yaml_files import load_yaml

DEFAULT_LANGUAGE = "en"


@cache
def catalogue() -> dict[str, dict[str, str]]:
    raw = load_yaml(resources.files("flows").joinpath("messages.yaml").read_text("utf-8"))
    return {key: dict(texts) for key, texts in raw.items()}


def normalise_language(code: str | None) -> str:
    """Map a platform's locale ('nl-BE', 'nl_NL', 'en-GB', None) to a supported language."""
    if code and code.strip().lower()[:2] in LANGUAGES:
        return code.strip().lower()[:2]
    return DEFAULT_LANGUAGE


def t(key: str, lang: str, **values: object) -> str:
    """The text `key` in `lang`, with its {placeholders} filled in."""
    return pick(catalogue()[key], lang, **values)


def pick(texts: dict[str, str], lang: str, **values: object) -> str:
    """One text of a {language: text} entry (English when the language is unknown), filled in."""
    text = texts.get(lang) or texts[DEFAULT_LANGUAGE]
    return text.format(**values) if values else text


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
