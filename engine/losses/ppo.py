"""PPO for language models with a value head, as pure functions.

- Clipped surrogate and clipped value loss: Schulman et al. 2017, arXiv 1707.06347, Eq. 7 and 9.
- KL-penalised per-token reward (the score at the last token, ``-kl_coef * KL`` at every
  token): Ziegler et al. 2019, arXiv 1909.08593, section 2.2; as TRL's PPO trainer.
- Generalised advantage estimation: Schulman et al. 2016, arXiv 1506.02438, Eq. 16.

All per-token tensors are ``(B, T)`` over completion tokens, with a 0/1 ``mask``; masked-out
positions hold no reward, no value and no advantage. Checked by hand in
``tests/engine/losses/test_ppo_by_hand.py``.
"""

from __future__ import annotations

import torch

from engine.losses.masked import masked_var, masked_whiten


def ppo_token_rewards(
    scores: torch.Tensor,  # (B,) reward-model or rule score of each completion
    per_token_kl: torch.Tensor,  # (B, T) e.g. kl_k1(old_logps, ref_logps)
    mask: torch.Tensor,  # (B, T) 0/1
    kl_coef: float,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``r_t = -kl_coef * KL_t``, plus ``score`` at the last masked token of each completion.

    A completion with an empty mask gets no reward at all. Returns ``(rewards (B, T), stats)``
    with TRL PPO's 0-dim ``objective/kl`` (mean over sequences of the summed KL),
    ``objective/non_score_reward`` (mean summed KL penalty), ``objective/scores`` and
    ``objective/rlhf_reward`` (their sum).
    """
    mask = mask.to(per_token_kl.dtype)
    non_score = -kl_coef * per_token_kl * mask  # (B, T)
    positions = torch.arange(mask.shape[1], device=mask.device)
    last = (positions * mask).argmax(dim=1)  # (B,) index of the last masked token
    at_last = torch.nn.functional.one_hot(last, mask.shape[1]).to(mask.dtype) * mask  # (B, T)
    rewards = non_score + scores.unsqueeze(1) * at_last
    with torch.no_grad():
        stats = {
            "objective/kl": (per_token_kl * mask).sum(1).mean(),
            "objective/non_score_reward": non_score.sum(1).mean(),
            "objective/scores": scores.float().mean(),
        }
        stats["objective/rlhf_reward"] = (
            stats["objective/non_score_reward"] + stats["objective/scores"]
        )
    return rewards, stats


def gae(
    rewards: torch.Tensor,  # (B, T)
    values: torch.Tensor,  # (B, T) value-head estimates at sampling time
    mask: torch.Tensor,  # (B, T) 0/1
    gamma: float = 1.0,
    lam: float = 0.95,
    whiten: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """GAE: ``delta_t = r_t + gamma V_{t+1} - V_t``, ``A_t = delta_t + gamma lam A_{t+1}``;
    ``returns = A + V`` (the value target, from the *unwhitened* advantages).

    The recursion links each masked token to the next masked one and bootstraps 0 after the
    last, so right padding (and masked tokens inside a completion) are skipped.
    ``whiten`` (TRL's PPO always does) normalises the advantages over the mask. Masked-out
    positions get advantage and return 0. Call without gradient (``torch.no_grad()``).
    Returns ``(advantages (B, T), returns (B, T))``.
    """
    valid = mask.to(torch.bool)
    rewards, values = rewards * valid, values * valid
    next_value = torch.zeros_like(values[:, 0])  # (B,)
    running = torch.zeros_like(values[:, 0])  # (B,) A_{t+1}
    reversed_advantages = []
    for t in reversed(range(rewards.shape[1])):
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        running = torch.where(valid[:, t], delta + gamma * lam * running, running)
        next_value = torch.where(valid[:, t], values[:, t], next_value)
        reversed_advantages.append(running * valid[:, t])
    advantages = torch.stack(reversed_advantages[::-1], dim=1)  # (B, T)
    returns = advantages + values
    if whiten:
        advantages = masked_whiten(advantages, mask) * valid
    return advantages, returns


def entropy_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """Entropy of the softmax over the last axis: ``(B, T, V) -> (B, T)``, in nats.
    Tokens with logit -inf (masked out of the vocabulary) count as 0, not NaN."""
    log_probs = torch.log_softmax(logits.float(), dim=-1)
    probs = log_probs.exp()
    # Zero the -inf log-probs *before* multiplying: 0 * -inf would be NaN, in the backward too.
    finite_log_probs = torch.where(probs > 0, log_probs, torch.zeros_like(log_probs))
    return -(probs * finite_log_probs).sum(-1)


def explained_variance(
    values: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """``1 - Var(returns - values) / Var(returns)`` over the mask (0-dim): 1 for a perfect
    value head, 0 for a constant one, negative when worse; NaN when the returns are constant."""
    with torch.no_grad():
        var_returns = masked_var(returns, mask)
        ratio = masked_var(returns - values, mask) / var_returns
        return torch.where(var_returns > 0, 1 - ratio, torch.full_like(ratio, float("nan")))
