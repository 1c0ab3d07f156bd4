"""The online algorithms, by name."""

from __future__ import annotations


def make(settings, run):
    from engine.training.online.algorithms.grpo import GRPO, RLOO
    from engine.training.online.algorithms.online_dpo import OnlineDPO
    from engine.training.online.algorithms.ppo import PPO

    return {"grpo": GRPO, "rloo": RLOO, "ppo": PPO, "online_dpo": OnlineDPO}[settings.algorithm](
        settings, run
    )
