"""`workbench train` (a run from the project's labels, inline with a progress bar; also
under torchrun / accelerate launch) and `workbench runs` (the project's runs)."""

from __future__ import annotations

import sys

from workbench.cli.job_commands import report_job
from workbench.cli.output import ProgressBar, emit_json
from workbench.cli.run_edit_commands import add_run_edit_commands
from workbench.project import Project


def train_params(args, project: Project) -> dict:
    if args.resume is not None:
        if args.config:
            raise ValueError(
                "--resume continues a run with its own config; leave out --config "
                "(--set key=value continues it with changed settings, as a new run)."
            )
        if args.set:  # a new run from the last checkpoint (workbench/training/continuation.py)
            return {"continue_run_id": args.resume, "set": list(args.set)}
        return {"resume_run_id": args.resume}
    from workbench.training.config import load_config, project_defaults

    return {"config": load_config(args.config, args.set, base=project_defaults(project)).to_dict()}


def print_train_result(result: dict) -> None:
    print(
        f"Run {result['run_id']} ({result['algorithm']}) {result['status']} at step "
        f"{result['step']}/{result['max_steps']} in {result['seconds']:.1f} s"
    )
    if result.get("checkpoint_id") is not None:
        print(f"  final checkpoint {result['checkpoint_id']}: {result['checkpoint_path']}")
        print(f"  evaluate it with: workbench eval PROJECT --checkpoint {result['checkpoint_id']}")
    shown = ("loss", "rewards/accuracies", "rewards/margins", "accuracy")
    for part in ("train", "eval"):
        metrics = result.get(part) or {}
        values = [
            f"{k} {metrics[p + k]:.4f}"
            for k in shown
            for p in (("eval_",) if part == "eval" else ("",))
            if metrics.get(p + k) is not None
        ]
        if values:
            print(f"  {part}: " + ", ".join(values))
    prepared = result.get("prepared") or {}
    if prepared.get("too_long"):
        print(f"  {prepared['too_long']} example(s) left out as longer than max_length")


def cmd_train(args) -> int:
    from workbench.training.execution import process_rank
    from workbench.training.launch import launched, relaunch, requested_launch

    rank, world, _ = process_rank()
    project = Project.open(args.project)
    params = train_params(args, project)
    launch = requested_launch(project, params)
    if launch is not None and not launched():  # DDP or FSDP: one process per GPU
        return relaunch(launch, _train_argv(args))
    if rank != 0:
        return _train_other_rank(project, params)
    from workbench.jobs.worker import run_inline

    bar = ProgressBar("training", enabled=True)
    try:
        job = run_inline(project, "train", params, on_progress=bar)
    finally:
        bar.close()
    return report_job(job, args.json, print_train_result)


def _train_argv(args) -> list[str]:
    """The command line of this `workbench train`, for the processes a launch starts."""
    argv = ["train", args.project, *(["--config", args.config] if args.config else [])]
    for assignment in args.set:
        argv += ["--set", assignment]
    argv += ["--resume", str(args.resume)] if args.resume is not None else []
    return argv + (["--json"] if args.json else [])


def _train_other_rank(project: Project, params: dict) -> int:
    """Ranks above 0 train in step with rank 0 and write nothing to the project."""
    from engine.session import ModelSession
    from workbench.jobs.handlers.train import plan_for
    from workbench.training.execution import execute

    execute(project, ModelSession(), plan_for(project, params))
    return 0


def cmd_runs(args) -> int:
    from workbench.jobs.worker_registry import reap_dead_workers
    from workbench.training.runs import list_runs

    project = Project.open(args.project)
    reap_dead_workers(project)  # a run whose worker died shows interrupted, not running
    listed = list_runs(project, limit=args.limit)
    extra = run_extras(project, [r.id for r in listed])
    if args.json:
        emit_json(
            {
                "ok": True,
                "runs": [
                    {
                        "id": r.id,
                        "name": r.name,
                        "algorithm": r.algorithm,
                        "status": r.status,
                        "step": r.step,
                        "max_steps": r.max_steps,
                        "error": r.error,
                        "summary": r.summary,
                        **extra[r.id],
                    }
                    for r in listed
                ],
            }
        )
        return 0
    for r in listed:
        phase = extra[r.id]["phase_text"]
        tags = " ".join(f"#{t}" for t in extra[r.id]["tags"])
        print(
            f"{r.id:>5}  {r.algorithm:<7} {r.status:<10} {r.step:>6}/{r.max_steps or 0:<6} "
            f"{r.name or ''}  {tags + '  ' if tags else ''}{phase + '  ' if phase else ''}"
            f"{r.error or ''}",
            file=sys.stdout,
        )
    return 0


def run_extras(project: Project, run_ids: list[int]) -> dict[int, dict]:
    """Each run's phase and ETA (workbench/training/run_phase.py), tags and note."""
    import json

    from workbench.training.run_phase import phase_fields

    extras = {}
    for row in project.db.query(
        "SELECT id, status, phase, phase_done, phase_total, phase_at, step_seconds, eta_s, "
        "tags, note FROM runs WHERE id IN (SELECT value FROM json_each(?))",
        [json.dumps(run_ids)],
    ):
        extras[row["id"]] = {
            **phase_fields(row),
            "tags": json.loads(row["tags"] or "[]"),
            "note": row["note"],
        }
    return extras


def add_commands(sub) -> None:
    p = sub.add_parser("train", help="train a LoRA adapter from the project's labels (inline)")
    p.add_argument("project")
    p.add_argument("--config", help="run config (TOML); README.md lists every key and its default")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one config key, e.g. --set learning_rate=1e-4 --set lora.r=16",
    )
    p.add_argument(
        "--resume",
        type=int,
        metavar="RUN_ID",
        help="continue a stopped, failed or killed run from its last checkpoint; with --set "
        "key=value, as a new run with those settings changed (after a NaN: a lower "
        "learning_rate)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("runs", help="list the project's training runs")
    p.add_argument("project")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_runs)
    add_run_edit_commands(p)
