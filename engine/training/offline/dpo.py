"""DPO (Rafailov et al. 2023, arXiv 2305.18290) and its pairwise variants (robust DPO,
SLiC's hinge, IPO), with RPO's optional NLL term. IPO is this class with the loss_type
its spec fixes. The loss is ``engine.losses.preference.dpo_loss``."""

from __future__ import annotations

from typing import Any

from engine.losses.preference import dpo_loss
from engine.training.batching import SequenceBatch, pair_batch
from engine.training.logprobs import sequence_logps
from engine.training.objectives import Objective, PairReference, paired_stats, split_pair
from engine.training.offline.base import GatherMean, OfflineAlgorithm
from engine.training.split import Split


class DPO(OfflineAlgorithm):
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
        ref = split.reference_values(indices, device)  # (B, 2)
        return self.batch_objective(model, batch, PairReference(ref[:, 0], ref[:, 1]))

    def batch_objective(self, model: Any, batch: SequenceBatch, ref: PairReference) -> Objective:
        s = self.s
        chosen, rejected = split_pair(sequence_logps(model, batch))
        loss_type = s.resolved_loss_type()
        if loss_type == "ipo":  # IPO is length-normalised (TRL): each log-prob / its length
            pc, pr = chosen.means, rejected.means
            rc, rr = (
                ref.chosen / chosen.counts.clamp_min(1),
                ref.rejected / rejected.counts.clamp_min(1),
            )
        else:
            pc, pr, rc, rr = chosen.sums, rejected.sums, ref.chosen, ref.rejected
        losses, cr, rr_ = dpo_loss(
            pc,
            pr,
            rc,
            rr,
            beta=s.resolved_beta(),
            loss_type=loss_type,
            label_smoothing=s.method.get("label_smoothing", 0.0),  # IPO has none
        )
        stats = {"loss": losses.detach(), **paired_stats(cr, rr_, chosen.sums, rejected.sums)}
        loss = losses.mean()
        if s.method.rpo_alpha:
            # RPO (Pang et al. 2024, arXiv 2404.19733): the chosen completions' NLL (a token
            # mean, as TRL's "sft" loss term) keeps DPO from lowering the chosen likelihood too.
            nll = -chosen.sums.sum() / chosen.counts.sum().clamp_min(1)
            loss = loss + s.method.rpo_alpha * nll
            stats["nll_loss"] = (-chosen.means).detach()
        return Objective(loss, stats)
