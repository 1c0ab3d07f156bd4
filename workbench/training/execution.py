"""Running a training run of the project: a new run from a config, or a run resumed from
its latest intact checkpoint. Used by the train job (rank 0, recording) and by the other
ranks of a multi-process launch (training in step, recording nothing)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.training.hooks import NonFiniteError
from engine.training.phases import LOADING
from workbench.data.models import checkpoint_adapter, resolve_model
from workbench.errors import user_message
from workbench.training import runs
from workbench.training.config import RunConfig
from workbench.training.continue_hint import continue_hint
from workbench.training.data import build_train_data, load_snapshot, save_snapshot
from workbench.training.launch import require_launch
from workbench.training.recorder import RunRecorder, quiet_hooks

REFERENCE_CACHE = Path("cache") / "reference"


def process_rank() -> tuple[int, int, int]:
    """(rank, world size, local rank) of this process under torchrun / accelerate launch."""
    env = os.environ
    return int(env.get("RANK", 0)), int(env.get("WORLD_SIZE", 1)), int(env.get("LOCAL_RANK", 0))


@dataclass
class Plan:
    config: RunConfig
    data: Any  # engine TrainData
    snapshot: dict[str, Any]
    dataset_hash: str
    run_id: int | None
    resume_from: Path | None
    resume_step: int = 0
    # A new run that continues another's checkpoint with changed settings
    # (workbench/training/continuation.py): that checkpoint is its parent in the lineage.
    continues_checkpoint: int | None = None


def run_folder(project, run_id: int) -> Path:
    return project.runs_dir / str(run_id)


def plan_new(project, config: RunConfig) -> Plan:
    data, snapshot, digest = build_train_data(project, config)
    return Plan(config, data, snapshot, digest, None, None)


def plan_resume(project, run_id: int) -> Plan:
    from workbench.jobs.worker_registry import reap_dead_workers

    reap_dead_workers(project)  # a killed worker's run is resumable at once
    run = runs.get_run(project, run_id)
    if run.status in runs.LIVE and run.job_id is not None:
        job = project.db.execute("SELECT status FROM jobs WHERE id = ?", [run.job_id]).fetchone()
        if job and job[0] in ("queued", "running"):
            raise ValueError(
                f"Run {run_id} is still running (job {run.job_id}); stop it before resuming."
            )
    if run.status == "done":
        raise ValueError(
            f"Run {run_id} finished at step {run.step}; start a new run to train further "
            "(init_checkpoint continues from its adapter)."
        )
    config = RunConfig.from_dict(run.config)
    folder = run_folder(project, run_id)
    checkpoint, step = latest_intact_checkpoint(folder / "checkpoints")
    return Plan(
        config, load_snapshot(folder), run.dataset, run.dataset_hash or "", run_id, checkpoint, step
    )


def latest_intact_checkpoint(root: Path) -> tuple[Path | None, int]:
    """The highest-step checkpoint whose files match its manifest (a kill can leave none
    half-written, but a disk can still damage one), or (None, 0)."""
    from engine.checkpoints import verify_checkpoint

    found = sorted(
        (
            (int(p.name.split("-")[1]), p)
            for p in root.glob("step-*")
            if p.name.split("-")[1].isdigit()
        ),
        reverse=True,
    )
    for step, path in found:
        if not verify_checkpoint(path) and (path / "training_state.pt").is_file():
            return path, step
    return None, 0


def execute(
    project, session, plan: Plan, *, ctx=None, job_id: int | None = None, on_progress=None
) -> dict[str, Any]:
    """Train ``plan`` and return the run's summary. Rank 0 records; others only train."""
    from engine.model_source import ModelSpec
    from engine.training import train

    rank, world, local_rank = process_rank()
    config = plan.config
    require_launch(config)
    model = resolve_model(project, config.model_id)
    parent_id = config.init_checkpoint
    init_adapter = None if parent_id is None else checkpoint_adapter(project, parent_id)
    device = config.train.device
    if world > 1 and device in ("auto", "cuda"):
        device = _local_device(local_rank)
    if rank != 0:
        loaded = _load_base(session, ModelSpec(**model.load_spec()), model.name, config, device)
        rewards = _rewards(project, config, loaded)
        rewards.pop("described", None)
        root = run_folder(project, plan.run_id or 0) / "checkpoints"
        result = train(
            loaded,
            plan.data,
            config.train,
            quiet_hooks(root),
            init_adapter=init_adapter,
            resume_from=plan.resume_from,
            **rewards,
        )
        return {"status": result.status, "step": result.step, "rank": rank}
    # The run exists before the model loads, so its phase says "Loading model…" and a
    # model that cannot load fails the run with the reason.
    run_id = _open_run(project, plan, model.id, plan.continues_checkpoint or parent_id, job_id)
    recorder = RunRecorder(project, run_id, ctx, on_progress)
    hooks = recorder.hooks(
        run_folder(project, run_id) / "checkpoints", project.path / REFERENCE_CACHE
    )
    try:
        recorder.phase(LOADING)
        loaded = _load_base(session, ModelSpec(**model.load_spec()), model.name, config, device)
        if session.threads_note:
            runs.log(project, run_id, session.threads_note)
        rewards = _rewards(project, config, loaded)
        for line in rewards.pop("described", []):
            runs.log(project, run_id, f"reward {line}")
        result = train(
            loaded,
            plan.data,
            config.train,
            hooks,
            init_adapter=init_adapter,
            resume_from=plan.resume_from,
            **rewards,
        )
    except BaseException as exc:
        if isinstance(exc, NonFiniteError):
            exc = continue_hint(exc, project, run_id)
        runs.end_run(project, run_id, "failed", error=user_message(exc, project.path))
        raise exc
    summary = _summary(project, run_id, plan, result, recorder)
    runs.end_run(project, run_id, result.status, summary=summary)
    return summary


def _rewards(project, config: RunConfig, loaded) -> dict[str, Any]:
    """The online run's reward sources (nothing for an offline run)."""
    if not config.train.online:
        return {}
    from workbench.training.rewards import reward_sources

    sources, preference, described = reward_sources(project, config, loaded)
    return {"rewards": sources, "preference": preference, "described": described}


def _load_base(session, spec, name: str, config: RunConfig, device: str):
    """The run's base model; QLoRA's options refused off CUDA before it loads."""
    from engine.training.qlora import check_options, quantization

    check_options(config.train, device)
    dtype = _base_dtype(session, spec, config.train.base_dtype, device)
    return session.get(
        spec, device=device, dtype=dtype, label=name, quantization=quantization(config.train)
    )


def _base_dtype(session, spec, choice: str, device: str) -> str:
    """The dtype the run's base loads in, so that it never loads in float32 only to be
    cast (engine.training.memory_defaults says what "auto" picks for the model's size)."""
    from engine.device import pick_device
    from engine.errors import EngineError
    from engine.loading import model_folder
    from engine.training.memory_defaults import folder_parameters, resolve_base_dtype

    if choice != "auto":
        return choice
    try:
        folder, _ = model_folder(spec, session.offline, cache_dir=session.cache_dir)
        count = folder_parameters(folder)
    except EngineError:  # an adapter used as a model, or one that will not load: the
        return "auto"  # loader says why; the run casts the base itself if it must
    return resolve_base_dtype(choice, pick_device(device), count)


def _local_device(local_rank: int) -> str:
    from engine.device import pick_device

    return f"cuda:{local_rank}" if pick_device("auto").startswith("cuda") else "cpu"


def _open_run(project, plan: Plan, model_id: int, parent_id: int | None, job_id: int | None) -> int:
    config = plan.config
    if plan.run_id is not None:
        runs.forget_after(project, plan.run_id, plan.resume_step)
        runs.update_run(
            project, plan.run_id, status="running", job_id=job_id, error=None, ended_at=None
        )
        runs.log(
            project,
            plan.run_id,
            f"resumed from step {plan.resume_step}"
            + (
                f" ({plan.resume_from.name})"
                if plan.resume_from
                else " (no checkpoint: from the start)"
            ),
        )
        return plan.run_id
    name = config.name or f"{config.train.algorithm} {time.strftime('%Y-%m-%d %H:%M')}"
    run_id = runs.create_run(
        project,
        algorithm=config.train.algorithm,
        config=config.to_dict(),
        dataset=plan.snapshot,
        dataset_hash=plan.dataset_hash,
        model_id=model_id,
        parent_checkpoint_id=parent_id,
        job_id=job_id,
        name=name,
        max_steps=config.train.max_steps,
    )
    try:
        save_snapshot(run_folder(project, run_id), plan.data)
    except Exception as exc:  # a full disk, say: the new run must not stay "running"
        runs.end_run(project, run_id, "failed", error=user_message(exc, project.path))
        raise
    return run_id


def _summary(project, run_id: int, plan: Plan, result, recorder: RunRecorder) -> dict[str, Any]:
    checkpoint_id = recorder.checkpoint_ids.get(result.step)
    if checkpoint_id is None and result.checkpoint is not None:
        rows = [r for r in runs.checkpoint_rows(project, run_id) if r["step"] == result.step]
        checkpoint_id = rows[-1]["id"] if rows else None
    return runs.finite(
        {
            "run_id": run_id,
            "status": result.status,
            "step": result.step,
            "max_steps": plan.config.train.max_steps,
            "algorithm": plan.config.train.algorithm,
            "checkpoint_id": checkpoint_id,
            "checkpoint_path": str(result.checkpoint) if result.checkpoint else None,
            "train": result.train_metrics,
            "eval": result.eval_metrics,
            "prepared": result.prepared,
            "dataset": plan.snapshot.get("counts", {}),
            "reference": result.reference,
            "seconds": round(result.seconds, 3),
            "world_size": result.world_size,
            "replicas_in_sync": result.replicas_in_sync,
        }
    )
