"""Sampling the policy's completions for a batch of prompts (the rollouts).

Batched and left-padded with the KV cache; each row stops at its end token; seeded
from (seed, step, micro-batch, rank), so a resumed run samples what the uninterrupted
run would have. The model is put in eval mode so LoRA dropout does not act while
sampling, and the global RNG is restored afterwards so training dropout is unaffected.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.padding import cut_at_end, left_pad, pad_token_id
from engine.seeding import seeded
from engine.training.examples import PromptExample


@dataclass
class Rollouts:
    """``G`` completions per prompt, grouped: row i belongs to prompt i // G."""

    examples: list[PromptExample]  # (P,) the prompts
    prompt_ids: list[list[int]]  # (P * G,) token ids of each row's prompt
    completion_ids: list[list[int]]  # (P * G,) sampled ids, with the end token when it stopped
    texts: list[str]  # (P * G,) decoded completions, special tokens skipped
    truncated: list[bool]  # (P * G,) cut at max_completion_length without an end token
    group_size: int

    @property
    def prompts(self) -> list:
        return [self.examples[i // self.group_size].prompt for i in range(len(self.texts))]

    @property
    def references(self) -> list[str | None]:
        return [self.examples[i // self.group_size].reference for i in range(len(self.texts))]


def rollout_seed(seed: int, step: int, micro: int, rank: int) -> int:
    return (seed * 1_000_003 + step * 7_919 + micro * 104_729 + rank * 15_485_863) % (2**63)


def sample(
    model,
    tokenizer,
    examples: list[PromptExample],
    encoded: list[list[int]],
    settings,
    *,
    seed: int,
    eos_ids: list[int],
    device,
    greedy: bool = False,
    group_size: int | None = None,
) -> Rollouts:
    """``group_size`` (default the settings' group size) completions of every prompt."""
    from transformers import GenerationConfig

    g = 1 if greedy else (group_size or settings.group_size())
    rows = [ids for ids in encoded for _ in range(g)]
    pad_id = pad_token_id(tokenizer)
    input_ids, attention = left_pad(rows, pad_id)
    config = GenerationConfig(
        max_new_tokens=settings.method.max_completion_length,
        do_sample=not greedy,
        temperature=settings.method.temperature if not greedy else None,
        top_p=settings.method.top_p if not greedy else None,
        top_k=(settings.method.top_k or None) if not greedy else None,
        pad_token_id=pad_id,
        eos_token_id=eos_ids,
        bos_token_id=None,
    )
    was_training = model.training
    model.eval()
    try:
        with seeded(seed, device), torch.no_grad():
            out = model.generate(
                input_ids=input_ids.to(device),
                attention_mask=attention.to(device),
                generation_config=config,
            )
    finally:
        model.train(was_training)
    return _cut(
        out[:, input_ids.shape[1] :].tolist(),
        rows,
        examples,
        tokenizer,
        set(eos_ids),
        settings.method.max_completion_length,
        g,
    )


def _cut(new_tokens, rows, examples, tokenizer, eos_set, limit, g) -> Rollouts:
    completions, truncated = [], []
    for tokens in new_tokens:
        kept, cut = cut_at_end(tokens, eos_set, limit)
        completions.append(kept)
        truncated.append(cut)
    texts = tokenizer.batch_decode(completions, skip_special_tokens=True)
    return Rollouts(list(examples), rows, completions, texts, truncated, g)
