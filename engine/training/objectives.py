"""One micro-batch's loss and per-example statistics for each offline algorithm.

Each objective returns the scalar loss to back-propagate and ``stats``: tensors of shape
(B,) whose means (NaN entries ignored) are the logged metrics, under TRL's names. The
losses themselves are the pure functions of ``engine.losses.preference``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.losses.preference import bradley_terry_loss, dpo_loss, kto_loss, orpo_loss, simpo_loss
from engine.training.batching import SequenceBatch
from engine.training.config import TrainSettings
from engine.training.logprobs import SequenceLogps, sequence_logps, sequence_rewards


@dataclass
class Objective:
    loss: torch.Tensor  # scalar
    stats: dict[str, torch.Tensor]  # name -> (B,) per-example values


@dataclass
class PairReference:
    chosen: torch.Tensor  # (B,) reference summed log-probs of the chosen completions
    rejected: torch.Tensor  # (B,)


@dataclass
class UnpairedReference:
    logps: torch.Tensor  # (B,) reference summed log-probs of the completions
    kl_logps: torch.Tensor  # (B,) reference log-probs of the mismatched (prompt, completion)


def split_pair(logps: SequenceLogps) -> tuple[SequenceLogps, SequenceLogps]:
    """Rows are [chosen..., rejected...] (see batching.pair_batch)."""
    sums_c, sums_r = logps.sums.chunk(2)
    counts_c, counts_r = logps.counts.chunk(2)
    return SequenceLogps(sums_c, counts_c), SequenceLogps(sums_r, counts_r)


def _paired_stats(chosen_rewards, rejected_rewards, chosen_logps, rejected_logps) -> dict:
    return {
        "rewards/chosen": chosen_rewards.detach(),
        "rewards/rejected": rejected_rewards.detach(),
        "rewards/margins": (chosen_rewards - rejected_rewards).detach(),
        "rewards/accuracies": (chosen_rewards > rejected_rewards).float(),
        "logps/chosen": chosen_logps.detach(),
        "logps/rejected": rejected_logps.detach(),
    }


def dpo_objective(model, batch: SequenceBatch, ref: PairReference, s: TrainSettings) -> Objective:
    chosen, rejected = split_pair(sequence_logps(model, batch))
    loss_type = s.resolved_loss_type()
    if loss_type == "ipo":  # IPO is length-normalised (TRL): every log-prob divided by its length
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
        label_smoothing=s.label_smoothing,
    )
    stats = {"loss": losses.detach(), **_paired_stats(cr, rr_, chosen.sums, rejected.sums)}
    loss = losses.mean()
    if s.rpo_alpha:
        # RPO (Pang et al. 2024, arXiv 2404.19733): the chosen completions' NLL (a token
        # mean, as TRL's "sft" loss term) keeps DPO from lowering the chosen likelihood too.
        nll = -chosen.sums.sum() / chosen.counts.sum().clamp_min(1)
        loss = loss + s.rpo_alpha * nll
        stats["nll_loss"] = (-chosen.means).detach()
    return Objective(loss, stats)


def simpo_objective(model, batch: SequenceBatch, s: TrainSettings) -> Objective:
    chosen, rejected = split_pair(sequence_logps(model, batch))
    losses, cr, rr = simpo_loss(
        chosen.means,
        rejected.means,
        beta=s.resolved_beta(),
        gamma_beta_ratio=s.simpo_gamma_beta_ratio,
        label_smoothing=s.label_smoothing,
    )
    return Objective(
        losses.mean(),
        {"loss": losses.detach(), **_paired_stats(cr, rr, chosen.means, rejected.means)},
    )


def orpo_objective(model, batch: SequenceBatch, s: TrainSettings) -> Objective:
    chosen, rejected = split_pair(sequence_logps(model, batch))
    # TRL's SFT term: mean NLL over all chosen tokens of the batch (a token mean, not a row mean).
    nll = -chosen.sums.sum() / chosen.counts.sum().clamp_min(1)
    out = orpo_loss(chosen.means, rejected.means, nll, beta=s.resolved_beta())
    stats = _paired_stats(out.chosen_rewards, out.rejected_rewards, chosen.means, rejected.means)
    stats["nll_loss"] = (-chosen.means).detach()
    stats["log_odds_ratio"] = out.log_odds_ratio.expand_as(chosen.means)
    stats["log_odds_chosen"] = out.log_odds_chosen.expand_as(chosen.means)
    stats["loss"] = out.losses.detach()
    return Objective(out.losses.mean(), stats)


def kto_objective(
    model,
    batch: SequenceBatch,
    kl_batch: SequenceBatch,
    desirable: torch.Tensor,
    ref: UnpairedReference,
    s: TrainSettings,
    gather_mean,
) -> Objective:
    """``gather_mean(x)`` averages a scalar over all processes: z0 is a global estimate."""
    policy = sequence_logps(model, batch)
    with torch.no_grad():
        kl_policy = sequence_logps(model, kl_batch)
    z0 = gather_mean((kl_policy.sums - ref.kl_logps).mean().detach()).clamp(min=0)
    out = kto_loss(
        policy.sums,
        ref.logps,
        desirable,
        z0,
        beta=s.resolved_beta(),
        desirable_weight=s.desirable_weight,
        undesirable_weight=s.undesirable_weight,
    )
    nan = torch.full_like(out.rewards, float("nan"))
    stats = {
        "loss": out.losses.detach(),
        "kl": z0.expand_as(out.rewards),
        "rewards/chosen": torch.where(desirable, out.rewards, nan),
        "rewards/rejected": torch.where(~desirable, out.rewards, nan),
        "logps/chosen": torch.where(desirable, policy.sums.detach(), nan),
        "logps/rejected": torch.where(~desirable, policy.sums.detach(), nan),
    }
    return Objective(out.losses.mean(), stats)


def reward_objective(
    model, batch: SequenceBatch, margin: torch.Tensor | None, s: TrainSettings
) -> Objective:
    chosen, rejected = sequence_rewards(model, batch).chunk(2)  # (B,), (B,)
    out = bradley_terry_loss(
        chosen,
        rejected,
        margin=margin if s.use_margin else None,
        center_rewards_coefficient=s.center_rewards_coefficient,
    )
    stats = {
        "loss": out.losses.detach(),
        "rewards/chosen": chosen.detach(),
        "rewards/rejected": rejected.detach(),
        "rewards/margins": (chosen - rejected).detach(),
        "accuracy": (chosen > rejected).float(),
    }
    return Objective(out.losses.mean(), stats)
