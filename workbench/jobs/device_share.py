"""Whether an interactive job may share a GPU with the training run on it.

The interactive lane runs beside a training run. On a CPU both share the machine's RAM and
cores and always run; on a GPU the job starts only when engine/fit.py's estimate of the run
(training) plus the job (generation) fits the device's memory, otherwise it waits with the
reason shown, e.g. "waits for run 3: both would need 19.0 GiB of 16.0 GiB"."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any

from workbench.project import Project

# Generation estimate of an interactive job: a batch of this many rows of this length.
JOB_BATCH = 8
JOB_SEQ_LEN = 1024
# The dtype weights load in on a GPU when a config does not say (the session's default).
GPU_DTYPE = "bfloat16"


@dataclass(frozen=True)
class TrainingOnDevice:
    run_id: int
    config: dict[str, Any]


def training_on_host(project: Project, host: str | None = None) -> TrainingOnDevice | None:
    """The run that a live worker of this machine is training now, if any."""
    row = project.db.execute(
        "SELECT r.id, r.config FROM runs r JOIN jobs j ON j.id = r.job_id "
        "JOIN workers w ON w.id = j.worker_id WHERE j.kind = 'train' AND j.status = 'running' "
        "AND r.status IN ('running', 'paused') AND w.status != 'stopped' AND w.host = ? "
        "ORDER BY r.id DESC LIMIT 1",
        [host or socket.gethostname()],
    ).fetchone()
    return None if row is None else TrainingOnDevice(row[0], json.loads(row[1] or "{}"))


def waiting_reason(run_id: int, needed: int, total: int) -> str | None:
    """None when both fit; else the sentence the job shows while it waits."""
    from engine.fit import format_bytes

    if needed <= total:
        return None
    return (
        f"waits for run {run_id}: both would need {format_bytes(needed)} of {format_bytes(total)}"
    )


def share_verdict(project: Project, params: dict[str, Any], device: str) -> str | None:
    """None when an interactive job with `params` may start on `device` now."""
    if not device.startswith("cuda"):
        return None
    training = training_on_host(project)
    if training is None:
        return None
    from engine.device import device_memory

    total = device_memory(device)[0]
    needed = _training_need(project, training.config) + _job_need(project, params)
    return waiting_reason(training.run_id, needed, total)


def _model_dir(project: Project, model_id: int | None):
    from engine.model_source import ModelSpec, resolve
    from workbench.data.models import resolve_model

    model = resolve_model(project, model_id)
    return resolve(ModelSpec.from_dict(model.load_spec()), offline=True).local_dir


def _training_need(project: Project, config: dict[str, Any]) -> int:
    from engine.fit import estimate_fit

    folder = _model_dir(project, config.get("model_id"))
    if folder is None:
        return 0
    from engine.training.memory_defaults import folder_parameters, resolve_checkpointing

    lora = config.get("lora") or {}
    base_dtype = config.get("base_dtype", "auto")
    checkpointing = config.get("gradient_checkpointing", "auto")
    return estimate_fit(
        folder,
        dtype=config.get("dtype") or (GPU_DTYPE if base_dtype == "auto" else base_dtype),
        lora_rank=int(lora.get("r", 8)),
        batch_size=int(config.get("batch_size", 1)),
        seq_len=int(config.get("max_length", 512)),
        training=True,
        gradient_checkpointing=resolve_checkpointing(checkpointing, folder_parameters(folder)),
    ).total_bytes


def _job_need(project: Project, params: dict[str, Any]) -> int:
    from engine.fit import estimate_fit

    folder = _model_dir(project, params.get("model_id"))
    if folder is None:
        return 0
    return estimate_fit(
        folder, dtype=GPU_DTYPE, batch_size=JOB_BATCH, seq_len=JOB_SEQ_LEN
    ).total_bytes
