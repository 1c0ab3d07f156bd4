"""What every online algorithm provides to the loop, and the scoring passes they share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

import torch

from engine.training.online.forward import TokenOutputs, rollout_batch, token_outputs
from engine.training.online.shared_prompt import GroupedRows, grouped_token_outputs
from engine.training.reference import reference_mode

if TYPE_CHECKING:
    from engine.training.config import TrainSettings
    from engine.training.objectives import Objective
    from engine.training.online.rewards import Rewards
    from engine.training.online.rollout import Rollouts
    from engine.training.protocols import AlgorithmRun


class Algorithm(ABC):
    """``prepare`` turns one micro-batch of rollouts and rewards into what ``objective``
    trains on (no gradient); ``finalize`` sees every micro-batch of the step before the
    updates (for quantities over the whole step, gathered over processes)."""

    def __init__(self, settings: TrainSettings, run: AlgorithmRun) -> None:
        self.s, self.run = settings, run

    def updates_per_step(self) -> int:
        """Optimizer updates on each step's batches: the spec's ``num_iterations``, or one
        for an algorithm without that setting."""
        return int(self.s.method.get("num_iterations", 1))

    def learns_from(self, batches: list) -> bool:
        """Whether this process's batches hold anything to learn from; when no process's
        do, the update is skipped (``TrainingRun.apply_update``)."""
        return True

    @abstractmethod
    def prepare(self, rollouts: Rollouts, rewards: Rewards) -> Any:
        """One micro-batch's training batch (the algorithm's own dataclass)."""

    @abstractmethod
    def objective(self, batch: Any) -> Objective:
        """The loss of ``batch`` under the policy being trained, with its statistics."""

    # state beyond the adapter (PPO's value head)
    def extra_parameters(self) -> list[torch.nn.Parameter]:
        return []

    def prepare_modules(self, accelerator) -> None:
        return None

    def load_state(self, checkpoint) -> None:
        return None

    def save_state(self, folder) -> None:
        return None

    def trainer_state(self) -> dict:
        return {}

    def no_sync(self, accelerator, model):
        return accelerator.no_sync(model)

    def finalize(self, batches: list) -> None:
        return None

    def micro_scale(self, micro_batches: int) -> float:
        """Factor of each micro-batch's loss (a mean over micro-batches by default)."""
        return 1.0 / micro_batches

    def step_metrics(self, batches: list, metrics: dict) -> dict[str, float]:
        return {}

    # shared scoring passes
    def batch(self, rollouts):
        return rollout_batch(
            rollouts.prompt_ids, rollouts.completion_ids, self.run.pad_id, self.run.device
        )

    @torch.no_grad()
    def score(
        self, batch, *, reference: bool = False, value_head=None, grouped: GroupedRows | None = None
    ) -> TokenOutputs:
        """Per-token log-probs of the current policy (or the frozen reference), no dropout;
        with ``grouped`` (the same rows), each prompt is run once for its group."""
        model = self.run.policy()
        was_training = model.training
        model.eval()
        t = self.s.method.temperature
        try:
            with self.run.autocast():
                if reference:
                    with reference_mode(model):
                        if grouped is not None:
                            return grouped_token_outputs(model, grouped, temperature=t)
                        return token_outputs(model, batch, temperature=t)
                if grouped is not None and value_head is None:
                    return grouped_token_outputs(model, grouped, temperature=t)
                return token_outputs(model, batch, temperature=t, value_head=value_head)
        finally:
            model.train(was_training)

    def samples(self, rollouts, rewards, batch, count: int) -> list[dict]:
        """The first ``count`` prompts' completions with their rewards and advantages."""
        rows = []
        advantages = self.sample_advantages(batch)
        for i in range(min(count * rollouts.group_size, len(rollouts.texts))):
            values = {name: v[i] for name, v in rewards.parts.items()}
            values["total"] = rewards.total[i]
            rows.append(
                {
                    "prompt": rollouts.prompts[i],
                    "completion": rollouts.texts[i],
                    "rewards": values,
                    "advantage": advantages[i] if advantages else None,
                    "num_tokens": len(rollouts.completion_ids[i]),
                    "finish_reason": "length" if rollouts.truncated[i] else "stop",
                }
            )
        return rows

    def sample_advantages(self, batch) -> list[float] | None:
        return None
