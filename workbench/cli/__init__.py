"""The `workbench` command: the GUI when run bare, the same work headless otherwise.

Every command accepts --json for scripts; without it, long work shows a progress bar
on stderr and a readable summary on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import traceback

from workbench.cli import (
    arena_commands,
    compare_commands,
    data_commands,
    export_commands,
    gui,
    job_commands,
    model_commands,
    pairs_commands,
    rules_commands,
    run_commands,
    sweep_commands,
    train_commands,
)
from workbench.errors import user_message
from workbench.project import ProjectError
from workbench.version import package_version

COMMAND_MODULES = (
    gui,
    data_commands,
    job_commands,
    rules_commands,
    model_commands,
    pairs_commands,
    train_commands,
    sweep_commands,
    run_commands,
    arena_commands,
    compare_commands,
    export_commands,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Alignment Workbench: align a language model on your own machine. "
        "Run with no command to open the app.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = _parse(parser, argv)
    if args.command is None:
        return gui.open_gui(None)
    try:
        return args.func(args)
    except Exception as exc:  # every failure is reported, in JSON with --json
        return _report_failure(args, exc)


def _parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """argparse's own errors (exit status 2) also as JSON on stdout when --json is given."""
    wants_json = "--json" in (sys.argv[1:] if argv is None else argv)
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said):
            return parser.parse_args(argv)
    except SystemExit as exc:
        if wants_json and exc.code:
            lines = said.getvalue().strip().splitlines() or ["invalid arguments"]
            print(json.dumps({"ok": False, "error": lines[-1]}))
        raise
    finally:
        sys.stderr.write(said.getvalue())


def _report_failure(args: argparse.Namespace, exc: Exception) -> int:
    """One sentence on stderr (and `{"ok": false, "error"}` on stdout with --json); a
    full disk is named as such whatever error it caused; a bug also gets its traceback."""
    from engine.disk_space import as_disk_full
    from engine.errors import EngineError

    place = getattr(args, "project", None) or getattr(args, "dir", None) or "."
    full = as_disk_full(exc, place)
    expected = (ProjectError, KeyError, ValueError, FileNotFoundError, EngineError)
    message = str(full) if full is not None else user_message(exc)
    if full is None and not isinstance(exc, expected):
        traceback.print_exception(exc, file=sys.stderr)
    if getattr(args, "json", False):
        print(json.dumps({"ok": False, "error": str(message)}))
    print(f"error: {message}", file=sys.stderr)
    return 1
