"""Builders shared by the training tests: demo-task preference data, fast settings, and
hooks that record what a run reports (and answer ``poll`` with scripted commands)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from engine.demo.task import demo_splits, format_answer
from engine.training.config import TrainSettings
from engine.training.examples import (
    DemonstrationExample,
    PairExample,
    UnpairedExample,
    content_key,
)
from engine.training.hooks import TrainData, TrainHooks

# Metric names every run logs (TRL's), by algorithm; "reward" logs no log-probs.
PAIRED_METRICS = (
    "loss",
    "rewards/chosen",
    "rewards/rejected",
    "rewards/margins",
    "rewards/accuracies",
    "logps/chosen",
    "logps/rejected",
)
EXPECTED_METRICS = {
    "dpo": PAIRED_METRICS,
    "ipo": PAIRED_METRICS,
    "simpo": PAIRED_METRICS,
    "orpo": PAIRED_METRICS + ("nll_loss", "log_odds_ratio", "log_odds_chosen"),
    "kto": (
        "loss",
        "kl",
        "rewards/chosen",
        "rewards/rejected",
        "rewards/margins",
        "logps/chosen",
        "logps/rejected",
    ),
    "sft": ("loss", "mean_token_accuracy", "num_tokens"),
    "reward": ("loss", "accuracy", "rewards/chosen", "rewards/rejected", "rewards/margins"),
}
# The training metrics that are running totals, which an evaluation does not log.
TOTAL_METRICS = ("num_tokens",)
STEP_METRICS = (
    "grad_norm",
    "learning_rate",
    "epoch",
    "train/step_seconds",
    "train/examples_per_second",
    "memory/peak_gb",
)


def demo_pairs(split: str, n: int) -> list[PairExample]:
    """Chosen: the correct answer; rejected: the answer plus one."""
    pairs = []
    for problem in demo_splits()[split][:n]:
        chosen, rejected = format_answer(problem.answer), format_answer(problem.answer + 1)
        pairs.append(
            PairExample(
                content_key(problem.question, chosen, rejected), problem.question, chosen, rejected
            )
        )
    return pairs


def demo_unpaired(split: str, n: int) -> list[UnpairedExample]:
    """Two examples per problem: the correct answer (desirable) and answer + 1 (not)."""
    examples = []
    for problem in demo_splits()[split][:n]:
        for value, desirable in ((problem.answer, True), (problem.answer + 1, False)):
            text = format_answer(value)
            examples.append(
                UnpairedExample(
                    content_key(problem.question, text), problem.question, text, desirable
                )
            )
    return examples


def demo_demonstrations(split: str, n: int) -> list[DemonstrationExample]:
    """The correct answer of each problem, in the demo model's format."""
    examples = []
    for problem in demo_splits()[split][:n]:
        text = format_answer(problem.answer)
        examples.append(
            DemonstrationExample(content_key(problem.question, text), problem.question, text)
        )
    return examples


def load_demo(dtype: str = "float32"):
    """A fresh LoadedModel of the demo model on the CPU in ``dtype`` (about 20 ms)."""
    from engine.demo import DEMO_MODEL_DIR
    from engine.loading import load_model
    from engine.model_source import ModelSpec

    return load_model(ModelSpec(path=str(DEMO_MODEL_DIR)), "cpu", dtype)


def lora_demo(r: int = 4, alpha: float = 8, dropout: float = 0.0):
    """The demo model (float32, CPU) with an all-linear LoRA adapter whose B is drawn (it
    starts at 0), so that the adapter changes the outputs and gets gradients everywhere."""
    import torch
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=r, lora_alpha=alpha, target_modules="all-linear", lora_dropout=dropout)
    model = get_peft_model(load_demo().model, config)
    torch.manual_seed(0)
    for name, p in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.05)
    return model


def demo_data(n_train: int = 16, n_eval: int = 4, sample_prompts: int = 0) -> TrainData:
    questions = [p.question for p in demo_splits()["eval"][:sample_prompts]]
    return TrainData(
        train_pairs=demo_pairs("train", n_train),
        eval_pairs=demo_pairs("eval", n_eval),
        train_unpaired=demo_unpaired("train", n_train // 2),
        eval_unpaired=demo_unpaired("eval", n_eval // 2),
        sample_prompts=questions,
        train_demonstrations=demo_demonstrations("train", n_train),
        eval_demonstrations=demo_demonstrations("eval", n_eval),
    )


def fast_settings(**overrides: Any) -> TrainSettings:
    """Few steps on small batches, no evaluation or checkpoint before the end, no samples."""
    values: dict[str, Any] = dict(
        max_steps=3, batch_size=4, eval_every=0, checkpoint_every=0, samples_per_eval=0
    )
    values.update(overrides)
    return TrainSettings.from_dict(values)


class Recorder:
    """TrainHooks that record everything; ``commands`` maps a step to the commands that
    ``poll`` answers (once) after that step has been reported done."""

    def __init__(
        self,
        root: Path,
        commands: dict[int, set[str]] | None = None,
        reference_cache_dir: Path | None = None,
    ):
        self.root = Path(root)
        self.commands = dict(commands or {})
        self.reference_cache_dir = reference_cache_dir
        self.step = 0
        self.metrics: list[tuple[int, dict[str, float]]] = []
        self.checkpoints: list[tuple[int, Path, dict]] = []
        self.samples: list[tuple[int, list[dict]]] = []
        self.prepared: dict | None = None
        self.logs: list[str] = []

    def checkpoint_dir(self, step: int) -> Path:
        return self.root / f"step-{step}"

    def _progress(self, done: int, total: int, text: str) -> None:
        if text.startswith("step "):
            self.step = done

    def _poll(self) -> set[str]:
        return self.commands.pop(self.step, set())

    def _prepared(self, prepared: dict) -> None:
        self.prepared = prepared

    @property
    def hooks(self) -> TrainHooks:
        return TrainHooks(
            checkpoint_dir=self.checkpoint_dir,
            on_metrics=lambda step, m: self.metrics.append((step, dict(m))),
            on_checkpoint=lambda step, path, manifest: self.checkpoints.append(
                (step, Path(path), manifest)
            ),
            on_samples=lambda step, s: self.samples.append((step, s)),
            on_progress=self._progress,
            on_prepared=self._prepared,
            on_log=self.logs.append,
            poll=self._poll,
            reference_cache_dir=self.reference_cache_dir,
        )

    def train_metrics(self) -> list[tuple[int, dict[str, float]]]:
        return [(step, m) for step, m in self.metrics if "grad_norm" in m]

    def eval_metrics(self) -> list[tuple[int, dict[str, float]]]:
        return [(step, m) for step, m in self.metrics if "grad_norm" not in m]

    def saved_steps(self) -> list[int]:
        return [step for step, _, _ in self.checkpoints]


def adapter_layers(model) -> list[str]:
    return [name for name, _ in model.named_modules() if "lora_" in name]


def all_finite(metrics: dict[str, float]) -> bool:
    return all(math.isfinite(v) for v in metrics.values())
