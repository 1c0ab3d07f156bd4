"""`workbench run PROJECT pause|resume|stop|checkpoint|cancel RUN_ID`: steer a training run
from a terminal, the same control rows the window's buttons write."""

from __future__ import annotations

from workbench.cli.output import emit_json
from workbench.project import Project

DONE = {
    "pause": "paused (the model stays loaded; resume with `workbench run PROJECT resume ID`)",
    "resume": "resumed",
    "stop": "stopping: it saves a checkpoint and ends as stopped",
    "checkpoint": "saving a checkpoint (at once while paused, else after this step)",
    "cancel": "cancelling: it ends without saving",
}


def cmd_run(args) -> int:
    from workbench.jobs.run_control import request_for_run, wait_acknowledged

    project = Project.open(args.project)
    control_id = request_for_run(project, args.run_id, args.action)
    acked = wait_acknowledged(project, control_id, args.wait)
    if args.json:
        emit_json(
            {"ok": True, "run_id": args.run_id, "command": args.action, "acknowledged": acked}
        )
    elif acked:
        print(f"Run {args.run_id}: {DONE[args.action]}.")
    else:
        print(
            f"Run {args.run_id}: {args.action} requested; the worker has not taken it within "
            f"{args.wait:g} s (it does before its next step)."
        )
    return 0


def add_commands(sub) -> None:
    from workbench.jobs.run_control import COMMANDS

    p = sub.add_parser("run", help="pause, resume, stop and save, checkpoint or cancel a run")
    p.add_argument("project")
    p.add_argument("action", choices=COMMANDS)
    p.add_argument("run_id", type=int, metavar="RUN_ID")
    p.add_argument(
        "--wait",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="wait this long for the worker to acknowledge (30; 0 returns at once)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_run)
