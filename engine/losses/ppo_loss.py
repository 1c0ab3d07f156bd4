"""PPO's clipped policy and value loss with an entropy bonus, as one pure function.

Schulman et al. 2017, "Proximal Policy Optimization Algorithms", arXiv 1707.06347: Eq. 7 (the
clipped surrogate), Eq. 9 (value loss and entropy bonus); the value clipping is the one of
OpenAI's baselines and TRL's PPO trainer. Rewards, GAE and the rest are in ``ppo.py``.
"""

from __future__ import annotations

import torch

from engine.losses.masked import masked_mean
from engine.losses.ppo import explained_variance


def ppo_loss(
    logps: torch.Tensor,  # (B, T) current log-probs of the sampled tokens, with gradient
    old_logps: torch.Tensor,  # (B, T) at sampling
    advantages: torch.Tensor,  # (B, T) from gae
    values: torch.Tensor,  # (B, T) current value-head output, with gradient
    old_values: torch.Tensor,  # (B, T) value-head output at sampling
    returns: torch.Tensor,  # (B, T) from gae
    mask: torch.Tensor,  # (B, T) 0/1
    *,
    cliprange: float = 0.2,
    cliprange_value: float = 0.2,
    vf_coef: float = 0.1,
    entropies: torch.Tensor | None = None,  # (B, T), e.g. entropy_from_logits(logits)
    entropy_coef: float = 0.0,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``loss = pg + vf_coef * vf - entropy_coef * H``, each a mean over the masked tokens:

    - ``pg = mean max(-A w, -A clip(w, 1-c, 1+c))``, ``w = exp(logps - old_logps)``;
    - ``vf = 0.5 * mean max((V - R)^2, (clip(V, V_old - cv, V_old + cv) - R)^2)``;
    - ``H`` the mean entropy (needs ``entropies`` when ``entropy_coef != 0``).

    Returns ``(loss, stats)`` with detached 0-dim ``loss/policy``, ``loss/value`` (the 0.5 *
    mean, before ``vf_coef``), ``policy/approxkl`` (0.5 * mean squared log-ratio),
    ``policy/clipfrac`` (fraction of tokens whose policy term is clipped), ``val/clipfrac``,
    ``val/explained_variance`` (of ``old_values`` for ``returns``) and ``entropy`` if given.
    """
    if entropy_coef != 0.0 and entropies is None:
        raise ValueError("entropy_coef != 0 needs entropies")
    log_ratio = logps - old_logps
    ratio = torch.exp(log_ratio)
    pg_losses = -advantages * ratio
    pg_losses_clipped = -advantages * torch.clamp(ratio, 1.0 - cliprange, 1.0 + cliprange)
    pg_loss = masked_mean(torch.max(pg_losses, pg_losses_clipped), mask)

    values_clipped = torch.clamp(values, old_values - cliprange_value, old_values + cliprange_value)
    vf_losses = (values - returns) ** 2
    vf_losses_clipped = (values_clipped - returns) ** 2
    vf_loss = 0.5 * masked_mean(torch.max(vf_losses, vf_losses_clipped), mask)

    loss = pg_loss + vf_coef * vf_loss
    if entropies is not None and entropy_coef != 0.0:
        loss = loss - entropy_coef * masked_mean(entropies, mask)

    with torch.no_grad():
        stats = {
            "loss/policy": pg_loss.detach(),
            "loss/value": vf_loss.detach(),
            "policy/approxkl": 0.5 * masked_mean(log_ratio.detach() ** 2, mask),
            "policy/clipfrac": masked_mean((pg_losses_clipped > pg_losses).float(), mask),
            "val/clipfrac": masked_mean((vf_losses_clipped > vf_losses).float(), mask),
            "val/explained_variance": explained_variance(old_values, returns, mask),
        }
        if entropies is not None:
            stats["entropy"] = masked_mean(entropies.detach(), mask)
    return loss, stats
