"""SimPO (Meng et al. 2024, arXiv 2405.14734): a length-normalised margin with no
reference model, with CPO-SimPO's optional NLL term (``rpo_alpha``, TRL's ``cpo_alpha``).
The loss is ``engine.losses.preference.simpo_loss``."""

from __future__ import annotations

from typing import Any

from engine.losses.preference import simpo_loss
from engine.training.batching import pair_batch
from engine.training.logprobs import sequence_logps
from engine.training.objectives import Objective, paired_stats, split_pair
from engine.training.offline.base import GatherMean, OfflineAlgorithm
from engine.training.split import Split


class SimPO(OfflineAlgorithm):
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
        batch = pair_batch(split.rows(indices), pad_id).to(device)
        chosen, rejected = split_pair(sequence_logps(model, batch))
        losses, cr, rr = simpo_loss(
            chosen.means,
            rejected.means,
            beta=self.s.resolved_beta(),
            gamma_beta_ratio=self.s.method.simpo_gamma_beta_ratio,
            label_smoothing=self.s.method.label_smoothing,
        )
        stats = {"loss": losses.detach(), **paired_stats(cr, rr, chosen.means, rejected.means)}
        loss = losses.mean()
        if self.s.method.rpo_alpha:
            # CPO-SimPO (TRL's CPOTrainer with loss_type "simpo" and cpo_alpha > 0; Xu et al.
            # 2024, arXiv 2401.08417): the chosen completions' NLL, a token mean, keeps the
            # reference-free margin from lowering the right answers along with the wrong ones.
            nll = -chosen.sums.sum() / chosen.counts.sum().clamp_min(1)
            loss = loss + self.s.method.rpo_alpha * nll
            stats["nll_loss"] = (-chosen.means).detach()
        return Objective(loss, stats)
