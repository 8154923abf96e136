"""The chat platforms the bot runs on, found rather than listed: a platform is a folder
`bot/<name>/` with a `platform.py` that defines `PLATFORM`. The command line (a subcommand per
platform, its options and its settings checks) and the pulse report (where a team's rounds may
be) loop over them, so adding a platform is adding a folder. The terminal is not one of them:
it is the built-in console, with no settings and no teams.

Why `platform.py` is its own module: it is imported to build the command line of every command,
so it must not import the platform's library (Slack's or Telegram's take seconds): the code that
does is named by a "module:function" string and imported only when the platform runs.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from bot.errors import UsageError

if TYPE_CHECKING:
    from bot.pulse.service import PulseSettings
    from bot.service import AssessmentService
    from bot.settings import Settings

PACKAGE = "bot"
DESCRIPTOR = "platform"
"""The module of a platform folder that describes it (bot/<name>/platform.py)."""


@dataclass(frozen=True)
class Platform:
    """What the command line needs to know of a platform."""

    name: str
    """Its subcommand, and the channel name its users are stored under."""
    help: str
    runner: str
    """'module:function' that runs it: (settings, args, service) -> exit code."""
    add_arguments: Callable[[argparse.ArgumentParser], None]
    check: Callable[[Settings, argparse.Namespace], None]
    """Refuses missing or malformed settings (UsageError) before a database file is made."""

    def run(self, settings: Settings, args: argparse.Namespace, service: AssessmentService) -> int:
        module, _, function = self.runner.partition(":")
        return getattr(importlib.import_module(module), function)(settings, args, service)


def platform_names() -> list[str]:
    """The platforms' names, from the folders alone: nothing is imported."""
    root = resources.files(PACKAGE)
    return sorted(
        folder.name
        for folder in root.iterdir()
        if folder.is_dir() and folder.joinpath(f"{DESCRIPTOR}.py").is_file()
    )


def platforms() -> dict[str, Platform]:
    """Every platform by name, its descriptor imported (cheap: see the module's docstring)."""
    found = {}
    for name in platform_names():
        platform = importlib.import_module(f"{PACKAGE}.{name}.{DESCRIPTOR}").PLATFORM
        if platform.name != name:
            raise RuntimeError(f"bot/{name}/{DESCRIPTOR}.py describes {platform.name!r}")
        found[name] = platform
    return found


def checked_pulse_settings(settings: Settings) -> PulseSettings:
    """The pulse settings, or one line naming the setting that is wrong (K below 3, a time
    zone nobody knows): a platform's pulse that would run on them must not start at all."""
    from bot.pulse.service import pulse_settings
    from flows.pulse import PulseInputError, check_timezone

    try:
        check_timezone(settings.maturity_timezone)
    except PulseInputError:
        raise UsageError(
            f"MATURITY_TIMEZONE: unknown time zone {settings.maturity_timezone!r}"
        ) from None
    try:
        return pulse_settings(settings)
    except ValueError as exc:
        raise UsageError(f"MATURITY_PULSE_MIN_RESPONSES: {exc}") from None
