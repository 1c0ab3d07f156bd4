"""PPO for language models (Schulman et al. 2017; Ziegler et al. 2019 for the
KL-penalised per-token reward and the adaptive KL coefficient): a value head on the
policy's hidden states, GAE advantages (Schulman et al. 2016), clipped policy and value
losses, an entropy bonus, several epochs (``num_iterations``) on each batch. The losses
are ``engine.losses.ppo`` / ``engine.losses.ppo_loss``."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from engine.losses.kl import AdaptiveKLController, FixedKLController, kl_k1
from engine.losses.ppo import gae, ppo_token_rewards
from engine.losses.ppo_loss import ppo_loss
from engine.training.batching import SequenceBatch
from engine.training.objectives import Objective
from engine.training.online.algorithms.base import Algorithm
from engine.training.online.forward import token_outputs
from engine.training.online.value_head import (
    ValueHead,
    hidden_size,
    load_value_head,
    save_value_head,
)
from engine.training.state import read_trainer_state

if TYPE_CHECKING:
    from engine.training.config import TrainSettings
    from engine.training.protocols import AlgorithmRun


@dataclass
class PPOBatch:
    sequences: SequenceBatch  # (N, T)
    mask: torch.Tensor  # (N, T-1)
    old_logps: torch.Tensor  # (N, T-1)
    old_values: torch.Tensor  # (N, T-1)
    advantages: torch.Tensor  # (N, T-1)
    returns: torch.Tensor  # (N, T-1)
    stats: dict  # objective/* of the rollouts


class PPO(Algorithm):
    def __init__(self, settings: TrainSettings, run: AlgorithmRun) -> None:
        super().__init__(settings, run)
        self.value_head = ValueHead(hidden_size(run.model), settings.seed).to(run.device)
        self.ddp_value = self.value_head
        beta = settings.resolved_beta()
        self.kl_ctl = (
            FixedKLController(beta)
            if settings.method.kl_target is None
            else AdaptiveKLController(beta, settings.method.kl_target, settings.method.kl_horizon)
        )

    def extra_parameters(self):
        return list(self.value_head.parameters())

    def prepare_modules(self, accelerator) -> None:
        if accelerator.num_processes > 1:
            self.ddp_value = accelerator.prepare(self.value_head)

    def no_sync(self, accelerator, model):
        stack = contextlib.ExitStack()
        stack.enter_context(accelerator.no_sync(model))
        if self.ddp_value is not self.value_head:
            stack.enter_context(accelerator.no_sync(self.ddp_value))
        return stack

    def load_state(self, checkpoint) -> None:
        load_value_head(self.value_head, checkpoint)
        kl_coef = read_trainer_state(checkpoint).get("kl_coef")
        if kl_coef is not None:
            self.kl_ctl = type(self.kl_ctl)(**{**self.kl_ctl.__dict__, "value": float(kl_coef)})

    def save_state(self, folder) -> None:
        save_value_head(self.value_head, folder)

    def trainer_state(self) -> dict:
        return {"kl_coef": self.kl_ctl.value}

    def prepare(self, rollouts, rewards) -> PPOBatch:
        batch, mask = self.batch(rollouts)
        old = self.score(batch, value_head=self.value_head)
        assert old.values is not None, "scored with the value head"
        ref = self.score(batch, reference=True).logps
        scores = torch.tensor(rewards.total, dtype=torch.float32, device=mask.device)
        token_rewards, stats = ppo_token_rewards(
            scores, kl_k1(old.logps, ref), mask, self.kl_ctl.value
        )
        advantages, returns = gae(
            token_rewards,
            old.values,
            mask,
            self.s.method.gamma,
            self.s.method.lam,
            whiten=self.s.method.whiten_advantages,
        )
        return PPOBatch(batch, mask, old.logps, old.values, advantages, returns, stats)

    def objective(self, batch: PPOBatch) -> Objective:
        s = self.s
        out = token_outputs(
            self.run.ddp_model,
            batch.sequences,
            entropy=True,
            temperature=s.method.temperature,
            value_head=self.ddp_value,
        )
        assert out.values is not None, "computed with the value head"
        loss, stats = ppo_loss(
            out.logps,
            batch.old_logps,
            batch.advantages,
            out.values,
            batch.old_values,
            batch.returns,
            batch.mask,
            cliprange=s.method.epsilon,
            cliprange_value=s.method.cliprange_value,
            vf_coef=s.method.vf_coef,
            entropies=out.entropy,
            entropy_coef=s.method.entropy_coef,
        )
        return Objective(
            loss, {"loss": loss.detach(), **stats, **batch.stats, "kl": batch.stats["objective/kl"]}
        )

    def step_metrics(self, batches: list[PPOBatch], metrics: dict) -> dict[str, float]:
        used = self.kl_ctl.value
        episodes = sum(b.mask.shape[0] for b in batches) * self.run.accelerator.num_processes
        self.kl_ctl = self.kl_ctl.update(float(metrics.get("objective/kl", 0.0)), episodes)
        return {"objective/kl_coef": used}

    def sample_advantages(self, batch: PPOBatch) -> list[float]:
        # A sequence's advantage: its first completion token's (the whole future's estimate).
        first = batch.mask.argmax(dim=1)
        return batch.advantages.gather(1, first.unsqueeze(1)).squeeze(1).tolist()
