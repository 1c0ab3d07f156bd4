"""What a training run reports to, and asks of, the application (plain data, no torch)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.algorithms.spec import Data
from engine.errors import EngineError
from engine.training.examples import (
    DemonstrationExample,
    PairExample,
    Prompt,
    PromptExample,
    UnpairedExample,
)


def _noop(*_args) -> None:
    return None


@dataclass
class TrainData:
    train_pairs: list[PairExample] = field(default_factory=list)
    eval_pairs: list[PairExample] = field(default_factory=list)
    train_unpaired: list[UnpairedExample] = field(default_factory=list)
    eval_unpaired: list[UnpairedExample] = field(default_factory=list)
    sample_prompts: list[Prompt] = field(default_factory=list)  # shown at each evaluation
    train_prompts: list[PromptExample] = field(default_factory=list)  # online RL samples these
    eval_prompts: list[PromptExample] = field(default_factory=list)  # answered greedily in eval
    train_demonstrations: list[DemonstrationExample] = field(default_factory=list)  # SFT
    eval_demonstrations: list[DemonstrationExample] = field(default_factory=list)

    def examples(self, kind: Data, part: str) -> list:
        """The examples of one kind (an algorithm spec's ``data``) of the "train" or
        "eval" part."""
        train = part == "train"
        by_kind: dict[str, list] = {
            "pairs": self.train_pairs if train else self.eval_pairs,
            "unpaired": self.train_unpaired if train else self.eval_unpaired,
            "prompts": self.train_prompts if train else self.eval_prompts,
            "demonstrations": self.train_demonstrations if train else self.eval_demonstrations,
        }
        return by_kind[kind]


@dataclass
class TrainHooks:
    """Called on the main process only, except ``poll`` whose answer all processes share.

    ``poll()`` returns pending commands: "stop" (save a checkpoint and end), "cancel"
    (end without saving), "checkpoint" (save one after the next step and go on) and "save"
    (save the current step now, take no step, and poll again: a paused run's checkpoint)."""

    checkpoint_dir: Callable[[int], Path]
    on_metrics: Callable[[int, dict[str, float]], None] = _noop
    on_checkpoint: Callable[[int, Path, dict[str, Any]], None] = _noop
    on_samples: Callable[[int, list[dict[str, Any]]], None] = _noop
    on_progress: Callable[[int, int, str], None] = _noop
    # (phase, done, total): what the run is doing now, one of engine.training.phases.
    on_phase: Callable[[str, int, int], None] = _noop
    on_prepared: Callable[[dict[str, Any]], None] = _noop
    on_log: Callable[[str], None] = _noop
    poll: Callable[[], set[str]] = lambda: set()
    reference_cache_dir: Path | None = None


@dataclass
class TrainResult:
    status: str  # done | stopped | cancelled
    step: int
    checkpoint: Path | None
    train_metrics: dict[str, float]
    eval_metrics: dict[str, float]
    prepared: dict[str, Any]
    reference: dict[str, Any]
    replicas_in_sync: bool | None
    world_size: int
    seconds: float


class NonFiniteError(EngineError):
    """The loss or the gradient became NaN or infinite: the run stops before the update."""
