"""Sampling the policy's completions for a batch of prompts (the rollouts).

Batched and left-padded with the KV cache; each row stops at its end token; seeded
from (seed, step, micro-batch, rank), so a resumed run samples what the uninterrupted
run would have. Models the lean decode loop covers (``engine.decoding``) prefill each
prompt once for its whole group and decode without ``generate()``'s per-token overhead,
drawing the same tokens ``generate()`` would under the same seed; the others use
``generate()``. The model is put in eval mode so LoRA dropout does not act while
sampling, and the global RNG is restored afterwards so training dropout is unaffected.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.decoding.loop import decode
from engine.decoding.sampler import Sampling
from engine.decoding.support import lean_decoding_supported
from engine.decoding.vllm_rollouts import VllmRollouts
from engine.generation import SamplingSettings, generation_config
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
    # (P * G,) each sampled token's log-prob at the sampling temperature, when the lean loop
    # sampled with no top-k/top-p filter (the policy's own distribution); else None
    logprobs: list[list[float]] | None = None

    @property
    def prompts(self) -> list:
        return [self.examples[i // self.group_size].prompt for i in range(len(self.texts))]

    @property
    def references(self) -> list[str | None]:
        return [self.examples[i // self.group_size].reference for i in range(len(self.texts))]


def sampled_logps(rollouts: Rollouts, width: int, device) -> torch.Tensor | None:
    """The sampling log-probs in the shifted frame of ``forward.rollout_batch`` ((N, T-1),
    column t the log-prob of token t + 1; 0 off the completions), or None when the loop
    did not keep them."""
    if rollouts.logprobs is None:
        return None
    out = torch.zeros((len(rollouts.logprobs), width - 1), dtype=torch.float32)
    for i, (prompt, logps) in enumerate(zip(rollouts.prompt_ids, rollouts.logprobs, strict=True)):
        start = len(prompt) - 1
        out[i, start : start + len(logps)] = torch.tensor(logps, dtype=torch.float32)
    return out.to(device)


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
    vllm: VllmRollouts | None = None,
) -> Rollouts:
    """``group_size`` (default the settings' group size) completions of every prompt;
    sampled (not greedy) ones by ``vllm`` when the run has it."""
    g = 1 if greedy else (group_size or settings.group_size())
    rows = [ids for ids in encoded for _ in range(g)]
    pad_id = pad_token_id(tokenizer)
    limit = settings.method.max_completion_length
    if vllm is not None and not greedy:
        tokens, truncated = vllm.decode(
            model,
            encoded,
            g,
            max_new_tokens=limit,
            sampling=_sampling(settings, greedy),
            stop_ids=eos_ids,
            seed=seed,
        )
        texts = tokenizer.batch_decode(tokens, skip_special_tokens=True)
        return Rollouts(list(examples), rows, tokens, texts, truncated, g)
    if lean_decoding_supported(model, device):
        return _sample_lean(
            model, tokenizer, examples, encoded, settings, seed, eos_ids, device, greedy, g
        )
    # Every knob explicit (top-k 0 is off): left unset, generate() would take the model's
    # generation_config or the library's defaults (top-k 50) instead of the settings.
    config = generation_config(
        SamplingSettings(
            max_new_tokens=limit,
            temperature=float(settings.method.temperature),
            top_p=float(settings.method.top_p),
            top_k=int(settings.method.top_k or 0),
            do_sample=not greedy,
        ),
        pad_id,
        eos_ids,
    )
    input_ids, attention = left_pad(rows, pad_id)
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
        limit,
        g,
    )


def _sample_lean(
    model, tokenizer, examples, encoded, settings, seed, eos_ids, device, greedy, g
) -> Rollouts:
    m = settings.method
    sampling = _sampling(settings, greedy)
    was_training = model.training
    model.eval()
    try:
        with seeded(seed, device), torch.no_grad():
            out = decode(
                model,
                encoded,
                [p for p in range(len(encoded)) for _ in range(g)],
                max_new_tokens=m.max_completion_length,
                sampling=sampling,
                stop_ids=eos_ids,
                pad_id=pad_token_id(tokenizer),
                device=device,
                logprobs=sampling.plain,  # only then the policy's own log-probs
            )
    finally:
        model.train(was_training)
    texts = tokenizer.batch_decode(out.tokens, skip_special_tokens=True)
    rows = [ids for ids in encoded for _ in range(g)]
    return Rollouts(list(examples), rows, out.tokens, texts, out.truncated, g, out.logprobs)


def _sampling(settings, greedy: bool) -> Sampling:
    m = settings.method
    return Sampling(greedy, float(m.temperature), int(m.top_k or 0), float(m.top_p))


def _cut(new_tokens, rows, examples, tokenizer, eos_set, limit, g) -> Rollouts:
    completions, truncated = [], []
    for tokens in new_tokens:
        kept, cut = cut_at_end(tokens, eos_set, limit)
        completions.append(kept)
        truncated.append(cut)
    texts = tokenizer.batch_decode(completions, skip_special_tokens=True)
    return Rollouts(list(examples), rows, completions, texts, truncated, g)
