"""ORPO (Hong et al. 2024, arXiv 2403.07691): supervised fine-tuning on the chosen
completions plus an odds-ratio preference term, no reference model. The loss is
``engine.losses.preference.orpo_loss``."""

from __future__ import annotations

from typing import Any

from engine.losses.preference import orpo_loss
from engine.training.batching import pair_batch
from engine.training.logprobs import sequence_logps
from engine.training.objectives import Objective, paired_stats, split_pair
from engine.training.offline.base import GatherMean, OfflineAlgorithm
from engine.training.split import Split


class ORPO(OfflineAlgorithm):
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
        # TRL's SFT term: mean NLL over all chosen tokens of the batch (a token mean, not a row mean).
        nll = -chosen.sums.sum() / chosen.counts.sum().clamp_min(1)
        out = orpo_loss(chosen.means, rejected.means, nll, beta=self.s.resolved_beta())
        stats = paired_stats(out.chosen_rewards, out.rejected_rewards, chosen.means, rejected.means)
        stats["nll_loss"] = (-chosen.means).detach()
        stats["log_odds_ratio"] = out.log_odds_ratio.expand_as(chosen.means)
        stats["log_odds_chosen"] = out.log_odds_chosen.expand_as(chosen.means)
        stats["loss"] = out.losses.detach()
        return Objective(out.losses.mean(), stats)
