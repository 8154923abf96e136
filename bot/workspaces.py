"""`maturity-bot workspace purge TEAM_ID`: an operator deletes an uninstalled workspace's data
at once instead of waiting for the grace period (or for a workspace that asks to be erased).
It asks nothing: the command is the decision, and it says what it deleted."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

Say = Callable[[str], None]


def add_workspace_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    workspace = sub.add_parser("workspace", help="Slack workspaces (OAuth mode): purge")
    workspace_sub = workspace.add_subparsers(dest="workspace_command", required=True)
    purge = workspace_sub.add_parser(
        "purge", parents=[common], help="delete every row of a workspace now (asks nothing)"
    )
    purge.add_argument(
        "team_id",
        metavar="TEAM_ID",
        help="the workspace id (T…), a Grid organisation (E…) or one of its workspaces (E…:T…)",
    )


def cmd_workspace(args: argparse.Namespace, default: str | Path, say: Say = print) -> int:
    """Purge the workspace; exit 2 when nothing of it is stored."""
    from bot.storage import Storage
    from bot.storage.purge import Uninstalls

    storage = Storage(args.db or default)
    try:
        uninstalls = Uninstalls(storage)
        if not uninstalls.known(args.team_id):
            say(f"workspace {args.team_id}: nothing stored, nothing deleted")
            return 2
        counts = uninstalls.purge_workspace(args.team_id)
    finally:
        storage.close()
    say(f"workspace {args.team_id}: deleted")
    for table, count in sorted(counts.items()):
        say(f"  {table}: {count}")
    return 0
