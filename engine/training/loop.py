"""The offline training loop: the preference methods, SFT and reward modelling on labelled
examples, with gradient accumulation, their evaluation split and greedy samples. The
optimizer, control, NaN guard and checkpoints are ``TrainingRun``'s."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import torch

from engine.device import pick_device
from engine.loading import LoadedModel
from engine.training import distributed as dist
from engine.training import sharding
from engine.training.config import TrainSettings
from engine.training.evaluation import evaluate, generate_samples
from engine.training.hooks import TrainData, TrainHooks, TrainResult
from engine.training.lora_products import wide_lora_products
from engine.training.metrics import reduce_stats
from engine.training.policy import resolve_run_settings, reward_policy, trainable_policy
from engine.training.prepared import (
    Split,
    check_trainable,
    counts,
    encode_split,
    offline_algorithm,
    split_objective,
)
from engine.training.reference import prepare_reference
from engine.training.run import TrainingRun


def train_offline(
    loaded: LoadedModel,
    data: TrainData,
    settings: TrainSettings,
    hooks: TrainHooks,
    *,
    init_adapter: Path | None = None,
    resume_from: Path | None = None,
) -> TrainResult:
    """``engine.training.train`` for the offline methods (``settings`` already validated)."""
    started = time.monotonic()
    accelerator = dist.make_accelerator(pick_device(loaded.device))
    train_split = encode_split(loaded.tokenizer, settings, data, "train")
    eval_split = encode_split(loaded.tokenizer, settings, data, "eval")
    check_trainable(train_split, settings)
    prepared = counts(train_split, eval_split)
    if accelerator.is_main_process:
        hooks.on_prepared(prepared)
        for note in offline_algorithm(settings).data_notes(train_split):
            hooks.on_log(note)
    context: contextlib.AbstractContextManager[Any]
    if settings.spec.policy == "sequence_scorer":
        # "auto" memory settings as the policy resolves them (trainable_policy does it
        # for the others); the run's own settings keep what the user set.
        resolved = resolve_run_settings(settings, loaded.model, loaded.device)
        model = reward_policy(
            loaded.source_dir,
            resolved,
            resolved.base_dtype,
            loaded.device,
            loaded.tokenizer.pad_token_id,
        )
        context = contextlib.nullcontext(model)
    else:
        context = trainable_policy(loaded.model, settings, init_adapter)
    with context as model:
        run = OfflineRun(accelerator, loaded, model, settings, hooks, data, train_split, eval_split)
        reference = prepare_reference(run, init_adapter)
        if reference is None:
            return run.result("cancelled", 0, None, prepared, {}, started)
        run.setup_optimizer(resume_from)
        return run.loop(prepared, reference, started)


class OfflineRun(TrainingRun):
    """Each step: the objective of ``gradient_accumulation_steps`` micro-batches of the
    train split, then one update."""

    def __init__(
        self,
        accelerator: Any,
        loaded: LoadedModel,
        model: Any,
        settings: TrainSettings,
        hooks: TrainHooks,
        data: TrainData,
        train_split: Split,
        eval_split: Split,
    ) -> None:
        super().__init__(accelerator, loaded, model, settings, hooks, data)
        self.train_split, self.eval_split = train_split, eval_split

    def schedule_size(self) -> int:
        return len(self.train_split.examples)

    def train_step(self, step: int) -> dict[str, float]:
        s, tick = self.settings, time.monotonic()
        self.ddp_model.train()
        stats, losses, totals = [], [], []
        for micro in range(s.gradient_accumulation_steps):
            indices = self.schedule.indices(step, micro, self.accelerator.process_index)
            last = micro == s.gradient_accumulation_steps - 1
            # DDP averages gradients only on the last micro-batch of the step.
            sync = contextlib.nullcontext() if last else self.accelerator.no_sync(self.ddp_model)
            with sync:
                with self.autocast(), wide_lora_products(self.ddp_model):
                    objective = split_objective(
                        self.ddp_model,
                        self.train_split,
                        indices,
                        s,
                        pad_id=self.pad_id,
                        device=self.device,
                        gather_mean=self._gather_mean,
                    )
                self.backward(objective.loss / s.gradient_accumulation_steps)
            stats.append(objective.stats)
            totals.append(objective.totals)
            losses.append(float(objective.loss.detach()))
        grad_norm = self.apply_update(step, losses)
        metrics = reduce_stats(self.accelerator, stats)
        metrics.update(self.add_totals(totals))
        metrics.update(self.step_metrics(step + 1, grad_norm, time.monotonic() - tick))
        return metrics

    def _gather_mean(self, value: torch.Tensor) -> torch.Tensor:
        return dist.gather_mean(self.accelerator, value)

    def evaluate_at(self, step: int) -> None:
        if self.eval_split.examples:
            metrics = evaluate(self, step)
            self.last_eval, self.last_eval_step = metrics, step
            if self.main:
                self.hooks.on_metrics(step, metrics)
        generates = self.settings.spec.policy == "language_model"
        if not (self.data.sample_prompts and generates):
            return
        if self.sharded:  # every process gathers the blocks and decodes; rank 0 reports
            with sharding.whole_weights(self.model):
                samples = generate_samples(self, step)
            if self.main:
                self.hooks.on_samples(step, samples)
        elif self.main:
            self.hooks.on_samples(step, generate_samples(self, step))
