"""Evaluation during a run: the same objective on the eval split (no gradient, no
dropout), and greedy sample completions of a few prompts for the sample browser."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import torch

from engine.generation import SamplingSettings, generate
from engine.training.metrics import reduce_stats
from engine.training.phases import EVALUATING
from engine.training.prepared import split_objective

if TYPE_CHECKING:
    from engine.training.protocols import OfflineEvalRun


def evaluate(run: OfflineEvalRun, step: int) -> dict[str, float]:
    """``eval_``-prefixed metrics (TRL's convention) over the eval split; each process
    takes every world_size-th batch."""
    s, split = run.settings, run.eval_split
    size, world, rank = s.batch_size, run.accelerator.num_processes, run.accelerator.process_index
    batches = [
        list(range(i, min(i + size, len(split.examples))))
        for i in range(0, len(split.examples), size)
    ]
    if s.eval_batches:
        batches = batches[: s.eval_batches]
    model = run.accelerator.unwrap_model(run.ddp_model)
    was_training = model.training
    model.eval()
    stats = []
    try:
        with torch.no_grad(), run.autocast():
            for b, indices in enumerate(batches):
                run.phase(EVALUATING, b, len(batches))  # batches evaluated so far
                # Sharded (FSDP) blocks need every process in each forward pass: each
                # evaluates every batch (the mean of the copies is the mean of one).
                if b % world == rank or run.sharded:
                    stats.append(
                        split_objective(
                            model,
                            split,
                            indices,
                            s,
                            pad_id=run.pad_id,
                            device=run.device,
                            gather_mean=lambda x: x,
                        ).stats
                    )
    finally:
        model.train(was_training)
    return {f"eval_{name}": value for name, value in reduce_stats(run.accelerator, stats).items()}


def generate_samples(run: OfflineEvalRun, step: int) -> list[dict]:
    """Greedy completions of the first ``samples_per_eval`` sample prompts by the policy."""
    prompts = run.data.sample_prompts[: run.settings.method.samples_per_eval]
    if not prompts:
        return []
    policy = dataclasses.replace(run.loaded, model=run.accelerator.unwrap_model(run.ddp_model))
    settings = SamplingSettings(
        max_new_tokens=run.settings.method.sample_max_new_tokens, do_sample=False
    )
    outputs = generate(policy, prompts, settings, n=1, batch_size=len(prompts))
    return [
        {
            "prompt": prompt,
            "completion": out[0].text,
            "num_tokens": out[0].num_tokens,
            "finish_reason": out[0].finish_reason,
        }
        for prompt, out in zip(prompts, outputs, strict=True)
    ]
