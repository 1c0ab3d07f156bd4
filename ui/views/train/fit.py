"""The shape the memory estimate is asked about for a run config: offline, batch_size
sequences of max_length tokens; online, every completion sampled in a step at once
(batch_size prompts x the group of each), each its prompt plus max_completion_length."""

from __future__ import annotations

from typing import Any

from engine.algorithms.registry import is_online, spec


def fit_shape(config: dict[str, Any], longest_prompt: int | None) -> tuple[Any, Any, str]:
    """(sequences, tokens each, a line saying so). `longest_prompt` bounds a prompt's tokens
    (its UTF-8 size; None when unknown). Values may be invalid (the form is mid-edit): the
    caller uses only whole numbers."""
    batch, max_length = config.get("batch_size"), config.get("max_length")
    if not is_online(config.get("algorithm")):
        return batch, max_length, "Batch of pairs or examples, each up to max_length tokens."
    # Online DPO fixes its group (2) rather than offering num_generations.
    group = dict(spec(config["algorithm"]).fixed).get(
        "num_generations", config.get("num_generations")
    )
    completion = config.get("max_completion_length")
    if not all(isinstance(v, int) for v in (batch, group, completion, max_length)):
        return None, None, ""
    # The run leaves out prompts that do not fit max_length with a whole completion.
    prompt = (
        max_length - completion
        if longest_prompt is None
        else min(longest_prompt, max_length - completion)
    )
    line = (
        f"Online: {batch} prompts × {group} completions = {batch * group} sequences per "
        f"step, each the longest prompt (about {max(prompt, 0)} tokens) + {completion}."
    )
    return batch * group, min(max_length, max(prompt, 0) + completion), line
