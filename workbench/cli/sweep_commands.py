"""`workbench sweep` (queue a grid of runs over one or two settings as one sweep, or run
them now one after another) and `workbench sweeps` (a sweep's table of final pass rates)."""

from __future__ import annotations

import sys

from workbench.cli.output import ProgressBar, emit_json
from workbench.project import Project


def cmd_sweep(args) -> int:
    from workbench.training.config import project_defaults, read_given
    from workbench.training.sweeps import create_sweep, get_sweep, parse_grid, queue_sweep

    project = Project.open(args.project)
    grid = parse_grid(args.grid)
    given = read_given(args.config, args.set)
    base = project_defaults(project)
    if not args.now:
        sweep_id, job_ids = queue_sweep(project, given, grid, base, args.name)
        if args.json:
            emit_json({"ok": True, "sweep_id": sweep_id, "job_ids": job_ids, "runs": len(job_ids)})
        else:
            print(
                f"Sweep {sweep_id}: {len(job_ids)} run(s) queued (jobs {job_ids[0]}-"
                f"{job_ids[-1]}). Start a worker (workbench worker {args.project}) or open "
                "the app to run them; see the results with: "
                f"workbench sweeps {args.project} --sweep {sweep_id}"
            )
        return 0
    from workbench.jobs.worker import run_inline

    sweep_id, params = create_sweep(project, given, grid, base, args.name)
    failed = 0
    for i, job_params in enumerate(params, 1):
        bar = ProgressBar(f"run {i}/{len(params)}", enabled=not args.json)
        try:
            job = run_inline(project, "train", job_params, on_progress=bar)
        finally:
            bar.close()
        failed += job.status != "done"
    return _report(project, get_sweep(project, sweep_id), args.json, failed)


def cmd_sweeps(args) -> int:
    from workbench.training.sweeps import get_sweep, list_sweeps

    project = Project.open(args.project)
    if args.sweep is None:
        listed = list_sweeps(project)
        if args.json:
            emit_json({"ok": True, "sweeps": [{"id": i, "name": n} for i, n in listed]})
        for sweep_id, name in [] if args.json else listed:
            print(f"{sweep_id:>5}  {name}")
        return 0
    try:
        sweep = get_sweep(project, args.sweep)
    except KeyError as exc:
        raise ValueError(f"{exc.args[0]} List them with: workbench sweeps PROJECT") from None
    return _report(project, sweep, args.json, 0)


def _report(project: Project, sweep, as_json: bool, failed: int) -> int:
    from workbench.training.sweeps import headline_rule

    rule = headline_rule(project, sweep)
    best = sweep.best(rule) if rule else None
    if as_json:
        emit_json(
            {
                "ok": failed == 0,
                "sweep_id": sweep.id,
                "name": sweep.name,
                "grid": sweep.grid,
                "runs": [
                    {
                        "run_id": r.run_id,
                        "job_id": r.job_id,
                        "point": r.point,
                        "status": r.status,
                        "step": r.step,
                        "checkpoint_id": r.checkpoint_id,
                        "pass_rate": r.pass_rates,
                        "pass_rate_from": r.source,
                    }
                    for r in sweep.runs
                ],
                "best": None
                if best is None
                else {"rule": rule, "run_id": best.run_id, "checkpoint_id": best.checkpoint_id},
            }
        )
        return 0 if failed == 0 else 1
    print(f"Sweep {sweep.id}: {sweep.name}")
    for r in sweep.runs:
        rates = ", ".join(f"{k} {v:.1%}" for k, v in r.pass_rates.items()) or "-"
        point = ", ".join(f"{k}={v}" for k, v in r.point.items())
        mark = "*" if best is r else " "
        print(f" {mark} {point:<32} run {r.run_id or '-':<5} {r.status:<9} {rates}")
    if best is not None:
        print(
            f"Best on {rule!r}: run {best.run_id}, checkpoint {best.checkpoint_id} "
            f"({best.source}). Evaluate every final checkpoint on the whole split with "
            "workbench eval PROJECT --checkpoint ID for figures to compare."
        )
    if failed:
        print(f"{failed} run(s) did not finish.", file=sys.stderr)
    return 0 if failed == 0 else 1


def add_commands(sub) -> None:
    p = sub.add_parser(
        "sweep",
        help="queue a grid of runs over one or two settings as one sweep (--now: run them here)",
    )
    p.add_argument("project")
    p.add_argument("--config", help="the run config every point starts from (TOML)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="a setting and its values, e.g. --grid beta=0.1,0.5,1.0 (one or two --grid)",
    )
    p.add_argument("--name", help="the sweep's name (default: algorithm, settings and time)")
    p.add_argument("--now", action="store_true", help="run the points here, one after another")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("sweeps", help="list the sweeps, or one sweep's runs and pass rates")
    p.add_argument("project")
    p.add_argument("--sweep", type=int, metavar="ID")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sweeps)
