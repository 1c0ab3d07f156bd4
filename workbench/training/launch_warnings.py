"""Warnings before a run is launched (never a block): data too small for the steps asked,
an eval set too small to mean much, a learning rate far from what LoRA runs use.

Pure functions of the run's settings and the dataset's counts, shown by the Train view
under the dataset's (or the prompts') counts.
"""

from __future__ import annotations

from typing import Any

MIN_BATCHES = 4  # fewer examples than 4 batches: every step sees nearly the same data
MAX_EPOCHS = 20.0  # more passes than this over the data memorises it
MIN_EVAL = 20  # below this, one example moves the eval accuracy by 5 points or more
# LoRA learning rates users run with (TRL's and LLaMA-Factory's examples: 5e-6 to 5e-4);
# beyond these bounds a run barely moves, or diverges.
LR_LOW, LR_HIGH = 1e-6, 1e-2
LR_HIGH_LARGE = 1e-3  # models of a billion parameters or more diverge well below 1e-2
LARGE_MODEL = 1e9


def examples_per_step(config: dict[str, Any]) -> int:
    batch = int(config.get("batch_size", 1)) * int(config.get("gradient_accumulation_steps", 1))
    return max(1, batch)


def launch_warnings(
    config: dict[str, Any],
    train_examples: int,
    eval_examples: int,
    *,
    unit: str = "examples",
    model_parameters: int | None = None,
) -> list[str]:
    """What might make the run a waste of time, each with what to do; [] when none.
    ``unit`` names what is counted ("pairs", "prompts", ...)."""
    warnings: list[str] = []
    per_step = examples_per_step(config)
    steps = int(config.get("max_steps", 0))
    if train_examples and train_examples < MIN_BATCHES * per_step:
        warnings.append(
            f"Only {train_examples} training {unit} for {per_step} a step: each step sees "
            f"nearly the same data. Add data (at least {MIN_BATCHES * per_step}) or lower "
            "the batch size."
        )
    if train_examples and steps:
        epochs = steps * per_step / train_examples
        if epochs > MAX_EPOCHS:
            warnings.append(
                f"{steps} steps of {per_step} over {train_examples} {unit} is {epochs:.0f} "
                f"passes over the data: the run will learn them by heart. Lower max_steps "
                f"(about {max(1, int(MAX_EPOCHS * train_examples / per_step))}) or add data."
            )
    if 0 < eval_examples < MIN_EVAL:
        warnings.append(
            f"The eval set has {eval_examples} {unit}: one of them moves its accuracy by "
            f"{100 / eval_examples:.0f} points. Hold out more ({MIN_EVAL} or more)."
        )
    warnings.extend(_learning_rate_warning(config, model_parameters))
    return warnings


def _learning_rate_warning(config: dict[str, Any], parameters: int | None) -> list[str]:
    lr = config.get("learning_rate")
    if not isinstance(lr, int | float) or lr <= 0:
        return []
    high = LR_HIGH_LARGE if parameters is not None and parameters >= LARGE_MODEL else LR_HIGH
    if lr > high:
        size = "a model this size" if high == LR_HIGH_LARGE else "LoRA"
        return [
            f"A learning rate of {lr:g} is high for {size} (runs use {LR_LOW:g} to {high:g}): "
            "the loss may jump or turn NaN. Try a tenth of it."
        ]
    if lr < LR_LOW:
        return [
            f"A learning rate of {lr:g} is below what LoRA runs use ({LR_LOW:g} and up): "
            "the adapter will barely move in this many steps."
        ]
    return []
