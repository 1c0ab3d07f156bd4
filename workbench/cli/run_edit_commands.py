"""`workbench runs PROJECT rename|tag|note|delete|log RUN_ID ...`: what the Runs view's
context menu does to a run, from a terminal (workbench/training/run_edits.py), and the run's
log as the Train view's log pane shows it."""

from __future__ import annotations

import sys
import time

from workbench.cli.output import emit_json
from workbench.project import Project


def add_run_edit_commands(runs_parser) -> None:
    """Subcommands of `workbench runs PROJECT`; without one, the command lists the runs."""
    sub = runs_parser.add_subparsers(
        dest="edit",
        metavar="{rename,tag,note,delete,log}",
        help="change one run (without one of these, the runs are listed)",
    )
    p = sub.add_parser("rename", help="give a run a new name")
    p.add_argument("run_id", type=int)
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_rename)

    p = sub.add_parser("tag", help="add tags to a run (or remove them with --remove)")
    p.add_argument("run_id", type=int)
    p.add_argument("tags", nargs="*", metavar="TAG")
    p.add_argument("--remove", action="append", default=[], metavar="TAG", help="repeatable")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_tag)

    p = sub.add_parser("note", help="set a run's note (an empty text removes it)")
    p.add_argument("run_id", type=int)
    p.add_argument("text")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_note)

    p = sub.add_parser(
        "delete",
        help="delete a run that is not running: its metrics, samples, log, checkpoints and "
        "folder (without --yes, only says what would go)",
    )
    p.add_argument("run_id", type=int)
    p.add_argument("--yes", action="store_true", help="delete without asking")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser(
        "log", help="print a run's log: its threads, rewards, warnings with what to try, errors"
    )
    p.add_argument("run_id", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_log)


def _done(args, payload: dict, text: str) -> int:
    if args.json:
        emit_json({"ok": True, "run_id": args.run_id, **payload})
    else:
        print(text)
    return 0


def cmd_rename(args) -> int:
    from workbench.training.run_edits import rename

    name = rename(Project.open(args.project), args.run_id, args.name)
    return _done(args, {"name": name}, f"Run {args.run_id} is now named {name!r}.")


def cmd_tag(args) -> int:
    from workbench.training.run_edits import add_tags

    if not args.tags and not args.remove:
        raise ValueError("Name the tags to add (TAG ...) or to remove (--remove TAG).")
    tags = add_tags(Project.open(args.project), args.run_id, args.tags, args.remove)
    shown = ", ".join(tags) or "none"
    return _done(args, {"tags": tags}, f"Run {args.run_id} tags: {shown}.")


def cmd_note(args) -> int:
    from workbench.training.run_edits import set_note

    note = set_note(Project.open(args.project), args.run_id, args.text)
    said = "note removed" if note is None else "note saved"
    return _done(args, {"note": note}, f"Run {args.run_id}: {said}.")


def cmd_delete(args) -> int:
    from workbench.training.run_edits import delete_run, plan_deletion

    project = Project.open(args.project)
    deletion = plan_deletion(project, args.run_id)
    if deletion.blockers:
        raise ValueError(" ".join(deletion.blockers))
    if not args.yes:
        if args.json:
            emit_json({"ok": False, "deleted": False, **deletion.as_dict()})
        print(f"Would delete: {deletion.text()} Pass --yes to delete.", file=sys.stderr)
        return 1
    delete_run(project, args.run_id)
    return _done(args, {"deleted": True, **deletion.as_dict()}, f"Deleted: {deletion.text()}")


def cmd_log(args) -> int:
    from workbench.training.progress import logs_since
    from workbench.training.runs import get_run

    project = Project.open(args.project)
    get_run(project, args.run_id)  # KeyError, said by name, for a run the project lacks
    lines: list[tuple[float, str]] = []
    chunk, after = logs_since(project, args.run_id)
    while chunk:  # a long run's log arrives in slices of ROW_LIMIT rows
        lines += chunk
        chunk, after = logs_since(project, args.run_id, after)
    if args.json:
        emit_json(
            {
                "ok": True,
                "run_id": args.run_id,
                "log": [{"time": t, "message": m} for t, m in lines],
            }
        )
    else:
        for when, message in lines:
            print(f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(when))}  {message}")
    return 0
