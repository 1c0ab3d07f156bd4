"""The variants the losses accept, as plain tuples without torch: the losses check their
arguments against them, and the algorithm registry offers them as a setting's choices,
so the two cannot drift apart."""

from __future__ import annotations

# engine.losses.preference.dpo_loss(loss_type=...)
DPO_LOSS_TYPES = ("sigmoid", "robust", "hinge", "ipo")
# engine.losses.grpo.grpo_loss(loss_type=...)
GRPO_LOSS_TYPES = ("grpo", "bnpo", "dr_grpo", "dapo")
# engine.losses.grpo.grpo_advantages(scale_rewards=...)
SCALE_REWARDS = ("group", "batch", "none")
# engine.losses.grpo.grpo_loss(importance_sampling_level=...)
IMPORTANCE_SAMPLING_LEVELS = ("token", "sequence")
