"""`workbench generate`, `worker` and `jobs`: engine work, inline or through the worker."""

from __future__ import annotations

import sys

from workbench.cli.output import ProgressBar, emit_json
from workbench.jobs import queue as jobs
from workbench.project import Project


def sampling_overrides(args) -> dict:
    """Only the settings given on the command line; the rest come from the project."""
    given = {
        "max_new_tokens": args.max_new_tokens,
        "temperature": args.temperature,
        "top_p": args.top_p,
        "top_k": args.top_k,
        "seed": args.seed,
    }
    overrides = {key: value for key, value in given.items() if value is not None}
    if args.greedy:
        overrides["do_sample"] = False
    elif args.sample or args.temperature is not None:
        overrides["do_sample"] = True
    return overrides


def generate_params(args) -> dict:
    params = {
        "n": args.n,
        "sampling": sampling_overrides(args),
        "batch_size": args.batch_size,
    }
    optional = {
        "split": args.split,
        "prompt_ids": args.prompt_id,
        "texts": args.text,
        "limit": args.limit,
        "model_id": args.model_id,
        "checkpoint_id": args.checkpoint,
        "adapter_path": args.adapter,
    }
    params.update({key: value for key, value in optional.items() if value})
    if args.no_store:
        params["store"] = False
    return params


def cmd_generate(args) -> int:
    from workbench.jobs.worker import run_inline

    project = Project.open(args.project)
    bar = ProgressBar("generating", enabled=True)
    job = run_inline(project, "generate", generate_params(args), on_progress=bar)
    bar.close()
    return report_job(job, args.json, print_generate_result)


def print_generate_result(result: dict) -> None:
    for row in result["completions"]:
        print(
            f"[{row['prompt_id'] or '-'}] {row['prompt']}\n    -> {row['text']!r} "
            f"({row['num_tokens']} tokens, {row['finish_reason']})"
        )
    print(
        f"{result['count']} completion(s) from {result['model']} on {result['device']}"
        + ("" if result["stored"] else " (not stored)")
    )


def report_job(job: jobs.Job, as_json: bool, print_result) -> int:
    ok = job.status == "done"
    if as_json:
        emit_json(
            {
                "ok": ok,
                "job_id": job.id,
                "status": job.status,
                "error": job.error,
                **(job.result or {}),
            }
        )
    elif ok:
        print_result(job.result)
    else:
        print(
            f"job {job.id} {job.status}: {job.error or (job.result or {}).get('message', '')}",
            file=sys.stderr,
        )
    return 0 if ok else 1


def cmd_worker(args) -> int:
    from workbench.jobs.worker import main as worker_main

    argv = [args.project] + (["--once"] if args.once else [])
    if args.idle_exit is not None:
        argv += ["--idle-exit", str(args.idle_exit)]
    return worker_main(argv)


def job_phases(project: Project, job_ids: list[int]) -> dict[int, dict]:
    """The phase of each train job's run (workbench/training/run_phase.py), by job id."""
    from workbench.training.run_phase import job_phase_rows, phase_fields

    return {job_id: phase_fields(row) for job_id, row in job_phase_rows(project, job_ids).items()}


def cmd_jobs(args) -> int:
    from workbench.jobs.worker_registry import reap_dead_workers

    project = Project.open(args.project)
    reap_dead_workers(project)  # a job whose worker died shows interrupted, not running
    listed = jobs.list_jobs(project, limit=args.limit)
    phases = job_phases(project, [j.id for j in listed])  # a train job's run: what it does
    if args.json:
        emit_json(
            {
                "ok": True,
                "jobs": [
                    {
                        "id": j.id,
                        "kind": j.kind,
                        "status": jobs.shown_status(j),
                        "progress": [j.progress_done, j.progress_total],
                        "message": j.message,
                        "error": j.error,
                        "phase": phases.get(j.id, {}).get("phase"),
                        "phase_text": phases.get(j.id, {}).get("phase_text"),
                    }
                    for j in listed
                ],
            }
        )
        return 0
    for j in listed:
        progress = f"{j.progress_done}/{j.progress_total}" if j.progress_total else ""
        print(
            f"{j.id:>5}  {j.kind:<10} {jobs.shown_status(j):<11} {progress:>11}  "
            f"{j.error or phases.get(j.id, {}).get('phase_text') or j.message or ''}"
        )
    return 0


def add_generate_command(sub) -> None:
    p = sub.add_parser("generate", help="generate completions for prompts (inline, progress bar)")
    p.add_argument("project")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--split", help="all prompts of this split (default: every prompt)")
    which.add_argument("--prompt-id", type=int, action="append", help="a prompt id (repeatable)")
    which.add_argument("--text", action="append", help="an ad-hoc prompt, not stored (repeatable)")
    p.add_argument("--limit", type=int, help="at most this many prompts")
    p.add_argument("--n", type=int, default=1, help="completions per prompt (1)")
    p.add_argument("--model-id", type=int, help="model row (default: the project's default)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--checkpoint", type=int, help="generate with this checkpoint's adapter")
    source.add_argument("--adapter", help="generate with the PEFT adapter in this folder")
    p.add_argument("--max-new-tokens", type=int)
    p.add_argument("--temperature", type=float)
    p.add_argument("--top-p", type=float)
    p.add_argument("--top-k", type=int)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--greedy", action="store_true", help="greedy decoding")
    mode.add_argument("--sample", action="store_true", help="sampling (with --temperature etc.)")
    p.add_argument("--seed", type=int)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--no-store", action="store_true", help="do not store the completions")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_generate)


def add_commands(sub) -> None:
    add_generate_command(sub)
    p = sub.add_parser("worker", help="run the engine worker for a project")
    p.add_argument("project")
    p.add_argument("--once", action="store_true", help="exit when the queue is empty")
    p.add_argument("--idle-exit", type=float, metavar="SECONDS", help="exit after idling this long")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("jobs", help="list the project's recent jobs")
    p.add_argument("project")
    p.add_argument("--limit", type=int, default=30)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_jobs)
