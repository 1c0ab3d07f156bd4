"""Offline preference-optimization losses as pure functions.

Every function takes per-sequence log-probabilities, shape ``(B,)``: the log-probability of a
whole completion, i.e. the per-token log-probs *summed* over the completion tokens, except where
a method defines a length-averaged score (SimPO, ORPO, and IPO as TRL implements it), in which
case the caller passes the *average* over completion tokens (sum / number of completion tokens).

Each function returns per-example losses ``(B,)`` (reduce with ``.mean()``) and the implicit
rewards that TRL logs, so that ``preference_metrics`` yields TRL's metric names. Parity with
TRL 1.16 is checked in ``tests/engine/test_preference_losses.py``.

This module imports torch; only the training worker imports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from engine.losses.options import DPO_LOSS_TYPES


def dpo_loss(
    policy_chosen_logps: torch.Tensor,  # (B,)
    policy_rejected_logps: torch.Tensor,  # (B,)
    ref_chosen_logps: torch.Tensor,  # (B,)
    ref_rejected_logps: torch.Tensor,  # (B,)
    beta: float = 0.1,
    loss_type: str = "sigmoid",
    label_smoothing: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Direct Preference Optimization and its pairwise variants.

    DPO: Rafailov et al. 2023, arXiv 2305.18290. With ``h = (pi_c - ref_c) - (pi_r - ref_r)``:

    - ``"sigmoid"``: ``-log sigma(beta h)``. With ``label_smoothing = eps > 0`` this is
      conservative DPO (cDPO, Mitchell 2023): ``-(1-eps) log sigma(beta h) - eps log sigma(-beta h)``.
      (TRL 1.16's ``DPOTrainer`` ignores ``label_smoothing`` for ``"sigmoid"``; its CPO trainer
      and older TRL DPO use this cDPO form.)
    - ``"robust"``: robust DPO, Chowdhury et al. 2024, arXiv 2403.00409:
      ``((1-eps)(-log sigma(beta h)) - eps(-log sigma(-beta h))) / (1 - 2 eps)``; needs eps < 0.5.
    - ``"hinge"``: SLiC-HF, Zhao et al. 2023, arXiv 2305.10425: ``relu(1 - beta h)``.
    - ``"ipo"``: IPO, Azar et al. 2023, arXiv 2310.12036, Eq. 17: ``(h - 1/(2 beta))^2``.
      TRL normalises IPO by completion length, so to match TRL the caller must pass all four
      log-probs *length-averaged*: each sequence's summed log-prob divided by its own number of
      completion tokens (policy and reference of the same completion share that length).

    Shapes: all inputs ``(B,)``. Returns ``(losses (B,), chosen_rewards (B,), rejected_rewards (B,))``
    where the rewards are ``beta * (pi - ref)`` (detached), as TRL logs them.
    """
    chosen_logratios = policy_chosen_logps - ref_chosen_logps  # (B,)
    rejected_logratios = policy_rejected_logps - ref_rejected_logps  # (B,)
    h = chosen_logratios - rejected_logratios  # (B,)

    if loss_type == "sigmoid":
        losses = (
            -F.logsigmoid(beta * h) * (1 - label_smoothing)
            - F.logsigmoid(-beta * h) * label_smoothing
        )
    elif loss_type == "robust":
        if not 0.0 <= label_smoothing < 0.5:
            raise ValueError("robust DPO needs 0 <= label_smoothing < 0.5")
        clean = -(1 - label_smoothing) * F.logsigmoid(beta * h)
        flipped = -label_smoothing * F.logsigmoid(-beta * h)
        losses = (clean - flipped) / (1 - 2 * label_smoothing)
    elif loss_type == "hinge":
        losses = torch.relu(1 - beta * h)
    elif loss_type == "ipo":
        losses = (h - 1 / (2 * beta)) ** 2
    else:
        raise ValueError(f"Unknown DPO loss_type {loss_type!r}; expected one of {DPO_LOSS_TYPES}")

    chosen_rewards = beta * chosen_logratios.detach()  # (B,)
    rejected_rewards = beta * rejected_logratios.detach()  # (B,)
    return losses, chosen_rewards, rejected_rewards


def simpo_loss(
    chosen_avg_logps: torch.Tensor,  # (B,) mean log-prob per completion token
    rejected_avg_logps: torch.Tensor,  # (B,)
    beta: float = 2.0,
    gamma_beta_ratio: float = 0.5,
    label_smoothing: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """SimPO: Meng et al. 2024, arXiv 2405.14734 (reference-free, length-normalised).

    ``loss = -log sigma(beta (avg_c - avg_r) - gamma)`` with ``gamma = gamma_beta_ratio * beta``
    (the paper's target margin); ``label_smoothing`` gives the conservative form as in TRL.
    TRL's ``CPOTrainer(loss_type="simpo")`` calls the margin ``simpo_gamma``: it equals
    ``gamma_beta_ratio * beta`` here.

    Inputs are *average* per-token log-probs ``(B,)``. Returns
    ``(losses (B,), chosen_rewards (B,), rejected_rewards (B,))`` with rewards ``beta * avg_logps``.
    """
    logits = (chosen_avg_logps - rejected_avg_logps) - gamma_beta_ratio  # (B,)
    losses = (
        -F.logsigmoid(beta * logits) * (1 - label_smoothing)
        - F.logsigmoid(-beta * logits) * label_smoothing
    )
    chosen_rewards = beta * chosen_avg_logps.detach()
    rejected_rewards = beta * rejected_avg_logps.detach()
    return losses, chosen_rewards, rejected_rewards


def _log1mexp(x: torch.Tensor) -> torch.Tensor:
    """Stable ``log(1 - exp(x))`` for ``x < 0`` (Maechler 2012)."""
    return torch.where(
        x < -0.6931471805599453, torch.log1p(-torch.exp(x)), torch.log(-torch.expm1(x))
    )


@dataclass
class ORPOOutput:
    """ORPO result; all tensors ``(B,)`` except the scalar metrics."""

    or_losses: torch.Tensor  # (B,) -log sigma(log odds ratio), weighted by beta (>= 0)
    losses: torch.Tensor  # (B,) chosen NLL + or_losses: the ORPO objective per example
    chosen_rewards: torch.Tensor  # (B,) beta * chosen_avg_logps
    rejected_rewards: torch.Tensor  # (B,) beta * rejected_avg_logps
    log_odds_ratio: torch.Tensor  # scalar: mean log sigma(log odds) (TRL's "log_odds_ratio")
    log_odds_chosen: torch.Tensor  # scalar: mean log odds (TRL's "log_odds_chosen")


def orpo_loss(
    chosen_avg_logps: torch.Tensor,  # (B,) mean log-prob per completion token, < 0
    rejected_avg_logps: torch.Tensor,  # (B,)
    chosen_nll: torch.Tensor,  # (B,) or scalar: SFT negative log-likelihood on the chosen completion
    beta: float = 0.1,
) -> ORPOOutput:
    """ORPO: Hong et al. 2024, arXiv 2403.07691, Eqs. 4-7.

    ``log odds(y) = avg_logp - log(1 - exp(avg_logp))``;
    ``L = L_SFT + beta * (-log sigma(log odds(y_c) - log odds(y_r)))``.
    TRL computes the odds from the length-*averaged* log-probs, as here. TRL's total is
    ``nll.mean() - (beta * log sigma(...)).mean()``, which equals ``losses.mean()`` here when
    ``chosen_nll`` is the per-batch NLL (pass a scalar, or per-example values whose mean is it).
    """
    chosen = chosen_avg_logps.float()
    rejected = rejected_avg_logps.float()
    log_odds = (chosen - rejected) - (_log1mexp(chosen) - _log1mexp(rejected))  # (B,)
    ratio = F.logsigmoid(log_odds)  # (B,)
    or_losses = -beta * ratio  # (B,)
    losses = chosen_nll + or_losses  # (B,)
    return ORPOOutput(
        or_losses=or_losses,
        losses=losses,
        chosen_rewards=beta * chosen.detach(),
        rejected_rewards=beta * rejected.detach(),
        log_odds_ratio=ratio.detach().mean(),
        log_odds_chosen=log_odds.detach().mean(),
    )


@dataclass
class KTOOutput:
    """KTO result, per example in the input order."""

    losses: torch.Tensor  # (B,) weighted per-example losses
    rewards: torch.Tensor  # (B,) beta * (policy - ref) log-ratio
    metrics: dict[str, float] = field(default_factory=dict)  # TRL's names (see kto_loss)


def kto_loss(
    policy_logps: torch.Tensor,  # (B,) summed completion log-probs
    ref_logps: torch.Tensor,  # (B,)
    is_desirable: torch.Tensor,  # (B,) bool: True = desirable ("chosen"), False = undesirable
    kl: torch.Tensor | float,  # scalar reference point z_0
    beta: float = 0.1,
    desirable_weight: float = 1.0,
    undesirable_weight: float = 1.0,
) -> KTOOutput:
    """KTO: Ethayarajh et al. 2024, arXiv 2402.01306, Eq. 7 (unpaired).

    With ``r = pi - ref``: desirable ``w_d (1 - sigma(beta (r - z0)))``, undesirable
    ``w_u (1 - sigma(beta (z0 - r)))``. ``kl`` is the reference point z0: TRL estimates it as the
    batch mean of ``pi - ref`` on mismatched (prompt, completion) pairs, detached, gathered
    across processes and clamped at 0 -- the caller does that (it is a plain input here).
    ``losses.mean()`` equals TRL's loss (TRL concatenates desirable then undesirable, then means).

    ``metrics``: ``kl``, and where present ``rewards/chosen``, ``logps/chosen`` (desirable mean),
    ``rewards/rejected``, ``logps/rejected`` (undesirable mean), ``rewards/margins``.
    """
    desirable = is_desirable.to(torch.bool)  # (B,)
    kl_t = torch.as_tensor(kl, dtype=policy_logps.dtype, device=policy_logps.device).detach()
    logratios = policy_logps - ref_logps  # (B,)
    chosen_losses = desirable_weight * (1 - torch.sigmoid(beta * (logratios - kl_t)))
    rejected_losses = undesirable_weight * (1 - torch.sigmoid(beta * (kl_t - logratios)))
    losses = torch.where(desirable, chosen_losses, rejected_losses)  # (B,)
    rewards = beta * logratios.detach()  # (B,)

    metrics: dict[str, float] = {"kl": float(kl_t)}
    if desirable.any():
        metrics["rewards/chosen"] = rewards[desirable].mean().item()
        metrics["logps/chosen"] = policy_logps.detach()[desirable].mean().item()
    if (~desirable).any():
        metrics["rewards/rejected"] = rewards[~desirable].mean().item()
        metrics["logps/rejected"] = policy_logps.detach()[~desirable].mean().item()
    if "rewards/chosen" in metrics and "rewards/rejected" in metrics:
        metrics["rewards/margins"] = metrics["rewards/chosen"] - metrics["rewards/rejected"]
    return KTOOutput(losses=losses, rewards=rewards, metrics=metrics)


@dataclass
class RewardModelOutput:
    losses: torch.Tensor  # (B,) per-pair loss (incl. the centering term)
    metrics: dict[str, float] = field(default_factory=dict)  # TRL RewardTrainer names


def bradley_terry_loss(
    chosen_rewards: torch.Tensor,  # (B,) scalar reward-model outputs for the chosen completions
    rejected_rewards: torch.Tensor,  # (B,)
    margin: torch.Tensor | None = None,  # (B,) optional required margin (Llama 2 style)
    center_rewards_coefficient: float | None = None,
) -> RewardModelOutput:
    """Pairwise Bradley-Terry reward-model loss: InstructGPT, Ouyang et al. 2022, arXiv 2203.02155.

    ``-log sigma(r_c - r_r - margin)``, plus ``c * (r_c + r_r)^2`` when
    ``center_rewards_coefficient = c`` is set (reward centering as in TRL's RewardTrainer;
    Eisenstein et al. 2023, arXiv 2312.09244). ``losses.mean()`` equals TRL's loss.

    ``metrics``: ``min_reward``, ``mean_reward``, ``max_reward`` over both completions,
    ``accuracy`` and ``margin`` (mean ``r_c - r_r``).
    """
    diff = chosen_rewards - rejected_rewards  # (B,)
    if margin is not None:
        diff = diff - margin
    losses = -F.logsigmoid(diff)  # (B,)
    if center_rewards_coefficient is not None:
        losses = losses + center_rewards_coefficient * (chosen_rewards + rejected_rewards) ** 2
    with torch.no_grad():
        all_rewards = torch.cat([chosen_rewards, rejected_rewards])
        metrics = {
            "min_reward": all_rewards.min().item(),
            "mean_reward": all_rewards.mean().item(),
            "max_reward": all_rewards.max().item(),
            "accuracy": (chosen_rewards > rejected_rewards).float().mean().item(),
            "margin": (chosen_rewards - rejected_rewards).mean().item(),
        }
    return RewardModelOutput(losses=losses, metrics=metrics)


def preference_metrics(
    chosen_rewards: torch.Tensor,  # (B,)
    rejected_rewards: torch.Tensor,  # (B,)
    chosen_logps: torch.Tensor | None = None,  # (B,) policy log-probs, as the method uses them
    rejected_logps: torch.Tensor | None = None,  # (B,)
) -> dict[str, float]:
    """Batch means under TRL's metric names for paired methods (DPO, SimPO/CPO, ORPO).

    ``rewards/chosen``, ``rewards/rejected``, ``rewards/margins`` (mean chosen - rejected),
    ``rewards/accuracies`` (fraction with chosen > rejected), and when log-probs are given
    ``logps/chosen``, ``logps/rejected``.
    """
    c = chosen_rewards.detach().float()
    r = rejected_rewards.detach().float()
    out = {
        "rewards/chosen": c.mean().item(),
        "rewards/rejected": r.mean().item(),
        "rewards/margins": (c - r).mean().item(),
        "rewards/accuracies": (c > r).float().mean().item(),
    }
    if chosen_logps is not None:
        out["logps/chosen"] = chosen_logps.detach().float().mean().item()
    if rejected_logps is not None:
        out["logps/rejected"] = rejected_logps.detach().float().mean().item()
    return out
