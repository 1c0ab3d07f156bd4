"""A Bradley-Terry reward model (InstructGPT, Ouyang et al. 2022, arXiv 2203.02155):
a scalar head scores each completion, trained so the chosen one scores higher. The loss
is ``engine.losses.preference.bradley_terry_loss``."""

from __future__ import annotations

from typing import Any

import torch

from engine.losses.preference import bradley_terry_loss
from engine.training.batching import pair_batch
from engine.training.logprobs import sequence_rewards
from engine.training.objectives import Objective
from engine.training.offline.base import GatherMean, OfflineAlgorithm
from engine.training.split import Split


class RewardModel(OfflineAlgorithm):
    def objective(
        self,
        model: Any,
        split: Split,
        indices: list[int],
        *,
        pad_id: int,
        device: Any,
        gather_mean: GatherMean,
    ) -> Objective:
        rows = split.rows(indices)
        batch = pair_batch(rows, pad_id).to(device)
        chosen, rejected = sequence_rewards(model, batch).chunk(2)  # (B,), (B,)
        margin = torch.tensor([r.margin or 0.0 for r in rows], device=device)  # (B,)
        out = bradley_terry_loss(
            chosen,
            rejected,
            margin=margin if self.s.method.use_margin else None,
            center_rewards_coefficient=self.s.method.center_rewards_coefficient,
        )
        stats = {
            "loss": out.losses.detach(),
            "rewards/chosen": chosen.detach(),
            "rewards/rejected": rejected.detach(),
            "rewards/margins": (chosen - rejected).detach(),
            "accuracy": (chosen > rejected).float(),
        }
        return Objective(out.losses.mean(), stats)
