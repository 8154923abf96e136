"""Reading the YAML data files (models, the crosswalk, the message catalogue) safely and fast."""

from __future__ import annotations

import yaml

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML was built with it: the same result, parsed in C (in pure
Python, parsing the model files was about half of a command's start-up time)."""


def load_yaml(text: str) -> object:
    """Like `yaml.safe_load`: plain data only, never objects."""
    return yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 (a safe loader)
