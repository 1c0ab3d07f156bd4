"""Per-token KL estimators and the KL-coefficient controllers of KL-penalised RL.

Estimators: Schulman 2020, "Approximating KL Divergence" (http://joschu.net/blog/kl-approx.html).
Both take log-probs of the *sampled* tokens, so they estimate KL(pi || ref) from samples of pi.

Controllers: Ziegler et al. 2019, "Fine-Tuning Language Models from Human Preferences",
arXiv 1909.08593, section 2.2 (the adaptive controller), as in TRL's ``FixedKLController`` and
``AdaptiveKLController``. They are frozen: ``update`` returns a new controller, so a checkpoint
can store the value and a resumed run continues from it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch


def kl_k1(logps: torch.Tensor, ref_logps: torch.Tensor) -> torch.Tensor:
    """k1 = log pi - log ref, per token ``(B, T)``: unbiased, can be negative per token.
    PPO's KL-penalised reward (Ziegler 2019) and RLOO's penalty use it."""
    return logps - ref_logps


def kl_k3(logps: torch.Tensor, ref_logps: torch.Tensor) -> torch.Tensor:
    """k3 = exp(ref - pi) - (ref - pi) - 1, per token ``(B, T)``: unbiased and always >= 0.
    GRPO's KL term to the reference (Shao et al. 2024, arXiv 2402.03300, Eq. 4) uses it."""
    log_ratio = ref_logps - logps
    return torch.exp(log_ratio) - log_ratio - 1


@dataclass(frozen=True)
class FixedKLController:
    """A constant KL coefficient."""

    value: float

    def update(self, current_kl: float, n_steps: int) -> FixedKLController:
        return self


@dataclass(frozen=True)
class AdaptiveKLController:
    """Ziegler et al. 2019's proportional controller: steer the measured KL towards ``target``.

    ``value <- value * (1 + clip(current_kl / target - 1, -0.2, 0.2) * n_steps / horizon)``,
    where ``current_kl`` is the batch's mean *sequence* KL and ``n_steps`` the number of samples
    (episodes) in the batch, as TRL's PPO passed them.
    """

    value: float
    target: float = 6.0
    horizon: float = 10000.0

    def update(self, current_kl: float, n_steps: int) -> AdaptiveKLController:
        error = min(max(current_kl / self.target - 1.0, -0.2), 0.2)
        return replace(self, value=self.value * (1.0 + error * n_steps / self.horizon))
