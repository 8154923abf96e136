"""Errors an operator or user can fix, shared by every command; nothing here imports the CLI, so
any module may raise them without pulling in the command line (no import cycles)."""


class UsageError(Exception):
    """A problem the user can fix (a setting, an argument); printed without a traceback."""
