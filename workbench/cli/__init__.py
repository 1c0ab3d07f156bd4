"""The `workbench` command: the GUI when run bare, the same work headless otherwise.

Every command accepts --json for scripts; without it, long work shows a progress bar
on stderr and a readable summary on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys

from workbench.cli import (
    arena_commands,
    compare_commands,
    data_commands,
    gui,
    job_commands,
    pairs_commands,
    rules_commands,
    train_commands,
)
from workbench.errors import user_message
from workbench.project import ProjectError

COMMAND_MODULES = (
    gui,
    data_commands,
    job_commands,
    rules_commands,
    pairs_commands,
    train_commands,
    arena_commands,
    compare_commands,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Alignment Workbench: align a language model on your own machine. "
        "Run with no command to open the app.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        return gui.open_gui(None)
    try:
        return args.func(args)
    except (ProjectError, KeyError, ValueError, FileNotFoundError) as exc:
        message = user_message(exc)
        if getattr(args, "json", False):
            print(json.dumps({"ok": False, "error": str(message)}))
        print(f"error: {message}", file=sys.stderr)
        return 1
