"""Online RL: the policy samples completions of prompts, a reward scores them, and GRPO,
RLOO, PPO or Online DPO learn from the scores (docs/architecture.md, "The loop")."""
