"""Best-of-N fine-tuning, or rejection sampling fine-tuning (RAFT, Dong et al. 2023, arXiv
2304.06767; expert iteration, Anthony et al. 2017, arXiv 1705.08439): the loop samples N
completions per prompt and rewards them; this keeps each prompt's best
(``engine.losses.best_of_n.select_best``) and fine-tunes on the kept ones with the SFT
loss (``engine.losses.sft.sft_loss``), scored at temperature 1 whatever the sampling
temperature: the kept samples are demonstrations, not a policy-gradient estimate."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import torch

from engine.losses.best_of_n import select_best
from engine.training import distributed as dist
from engine.training.batching import SequenceBatch
from engine.training.objectives import Objective
from engine.training.online.algorithms.base import Algorithm
from engine.training.sft_objective import sft_objective


@dataclass
class KeptBatch:
    sequences: SequenceBatch  # (N, T), completion mask zero on the rows not kept
    kept: torch.Tensor  # (N,) bool
    rewards: list[float]  # (N,) total reward of each completion


class BestOfN(Algorithm):
    def prepare(self, rollouts, rewards) -> KeptBatch:
        batch, _ = self.batch(rollouts)
        kept = select_best(
            torch.tensor(rewards.total, dtype=torch.float32),
            rollouts.group_size,
            top_k=self.s.method.best_of_n_top_k,
            min_reward=self.s.method.best_of_n_min_reward,
        ).to(batch.completion_mask.device)
        batch.completion_mask = batch.completion_mask * kept.unsqueeze(1).to(
            batch.completion_mask.dtype
        )
        return KeptBatch(batch, kept, list(rewards.total))

    def objective(self, batch: KeptBatch) -> Objective:
        return sft_objective(self.run.ddp_model, batch.sequences)

    def learns_from(self, batches: list[KeptBatch]) -> bool:
        return any(bool(b.kept.any()) for b in batches)

    def step_metrics(self, batches: list[KeptBatch], metrics: dict) -> dict[str, float]:
        local = [(r, bool(k)) for b in batches for r, k in zip(b.rewards, b.kept, strict=True)]
        every = dist.gather_lists(self.run.accelerator, local)
        kept = [r for r, k in every if k]
        out = {"best_of_n/kept_fraction": len(kept) / max(len(every), 1)}
        if kept:
            out["best_of_n/kept_reward_mean"] = statistics.fmean(kept)
        return out

    def sample_advantages(self, batch: KeptBatch) -> list[float]:
        # The sample browser's advantage column: 1 for a kept sample (trained on), 0 if not.
        return [1.0 if k else 0.0 for k in batch.kept.tolist()]
