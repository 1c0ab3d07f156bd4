"""`workbench [gui] [PROJECT]`: open the desktop app."""

from __future__ import annotations


def open_gui(project: str | None) -> int:
    # Imported here so the headless commands never load Qt (docs/architecture.md, "Layers").
    from ui.app import run_app

    return run_app(project)


def add_commands(sub) -> None:
    p = sub.add_parser("gui", help="open the app (the default when no command is given)")
    p.add_argument("project", nargs="?", help="project folder (default: the last one, or the demo)")
    p.set_defaults(func=lambda args: open_gui(args.project))
