"""A reward model trained in the app (a ``reward`` run: Bradley-Terry on a
sequence-classification head with LoRA) as a reward source for online RL: its scalar
score of prompt + completion, exactly as it was trained to give (the same encoding,
the end token included)."""

from __future__ import annotations

from pathlib import Path

import torch

from engine.generation import encode_prompts
from engine.training.batching import pad_sequences
from engine.training.encode import completion_ids
from engine.training.logprobs import sequence_rewards
from engine.training.online.rewards import RewardSource, SourceScores
from engine.training.policy import load_reward_base


def reward_model_source(
    source_dir: Path,
    adapter_dir: Path,
    tokenizer,
    *,
    dtype: str,
    device: str,
    weight: float = 1.0,
    batch_size: int = 32,
) -> RewardSource:
    from engine.lora import load_adapter

    base = load_reward_base(Path(source_dir), dtype, device, tokenizer.pad_token_id, seed=0)
    model = load_adapter(base, Path(adapter_dir), trainable=False)
    model.eval()

    @torch.no_grad()
    def score(prompts, completions, references) -> SourceScores:
        prompt_ids = encode_prompts(tokenizer, list(prompts))
        comp_ids = [
            completion_ids(tokenizer, c, p) for p, c in zip(prompts, completions, strict=True)
        ]
        values: list[float | None] = []
        for start in range(0, len(comp_ids), batch_size):
            batch = pad_sequences(
                prompt_ids[start : start + batch_size],
                comp_ids[start : start + batch_size],
                tokenizer.pad_token_id,
            ).to(device)
            values += sequence_rewards(model, batch).tolist()
        return SourceScores(values)

    return RewardSource("reward_model", weight, score)
