"""Training checkpoints: the adapter (PEFT format) plus everything an exact resume needs
(optimizer, scheduler, RNG states, step), written atomically with a manifest."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import torch

from engine.checkpoints import write_checkpoint
from engine.errors import CheckpointError
from engine.lora import ADAPTER_WEIGHTS, save_adapter

STATE_FILE = "training_state.pt"
TRAINER_FILE = "trainer_state.json"


def rng_state() -> dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_training_checkpoint(
    dest: Path,
    peft_model,
    optimizer,
    scheduler,
    step: int,
    trainer_state: dict[str, Any],
    extra=None,
    need_mb: float = 0,
    adapter_state: dict[str, torch.Tensor] | None = None,
    optimizer_state: dict[str, Any] | None = None,
) -> dict:
    """Write the checkpoint at ``dest``; returns its manifest. ``extra(folder)`` adds
    files of its own (inside the atomic write, so they are in the manifest too).
    ``need_mb``: the free space to find first (DiskFullError otherwise).
    ``adapter_state`` and ``optimizer_state``: an FSDP run's weights and moments gathered
    whole (the model's own hold only this process's shards)."""

    def write(tmp: Path) -> None:
        save_adapter(peft_model, tmp, state_dict=adapter_state)
        if extra is not None:
            extra(tmp)
        torch.save(
            {
                "optimizer": optimizer.state_dict() if optimizer_state is None else optimizer_state,
                "scheduler": scheduler.state_dict(),
                "rng": rng_state(),
                "step": step,
            },
            tmp / STATE_FILE,
        )
        (tmp / TRAINER_FILE).write_text(
            json.dumps({"step": step, **trainer_state}, indent=2, allow_nan=False)
        )

    return write_checkpoint(dest, write, {"step": step, "kind": "training"}, need_mb=need_mb)


def load_training_state(checkpoint_dir: Path) -> dict[str, Any]:
    """The saved optimizer, scheduler, RNG state and step, loaded without unpickling code."""
    path = Path(checkpoint_dir) / STATE_FILE
    if not path.is_file():
        raise CheckpointError(
            f"{checkpoint_dir} has no {STATE_FILE}, so the run cannot resume from it.",
            "Resume from a checkpoint written by a training run.",
        )
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(
            f"The training state in {checkpoint_dir} is unreadable: {exc}",
            "The checkpoint is damaged; resume from an earlier one.",
        ) from exc


def load_adapter_weights(peft_model, checkpoint_dir: Path) -> None:
    """Put a saved adapter's weights into the trainable adapter of ``peft_model``."""
    from peft.utils import set_peft_model_state_dict
    from safetensors.torch import load_file

    weights = load_file(str(Path(checkpoint_dir) / ADAPTER_WEIGHTS))
    result = set_peft_model_state_dict(peft_model, weights)
    unexpected = getattr(result, "unexpected_keys", [])
    if unexpected:
        raise CheckpointError(
            f"The adapter in {checkpoint_dir} does not fit this model "
            f"({len(unexpected)} unexpected weights, e.g. {unexpected[0]}).",
            "Resume with the same model and LoRA settings the run started with.",
        )


def read_trainer_state(checkpoint_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((Path(checkpoint_dir) / TRAINER_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointError(
            f"{checkpoint_dir} has no readable {TRAINER_FILE}: {exc}",
            "Resume from a checkpoint written by a training run.",
        ) from exc
