"""The offline training loop: LoRA on accelerate, with gradient accumulation, warmup and
a schedule, clipping, autocast, evaluation, samples, atomic checkpoints with exact
resume, a NaN guard, and control between steps (pause is the caller's, inside poll)."""

from __future__ import annotations

import contextlib
import math
import time
from pathlib import Path

import torch

from engine.device import pick_device
from engine.errors import EngineError
from engine.loading import LoadedModel
from engine.training import distributed as dist
from engine.training.batching import StepSchedule
from engine.training.config import TrainSettings
from engine.training.evaluation import evaluate, generate_samples
from engine.training.hooks import NonFiniteError, TrainData, TrainHooks, TrainResult
from engine.training.metrics import memory_gb, reduce_stats
from engine.training.policy import reward_policy, trainable_policy
from engine.training.prepared import check_trainable, counts, encode_split, split_objective
from engine.training.reference import prepare_reference
from engine.training.state import (
    load_adapter_weights,
    load_training_state,
    save_training_checkpoint,
    set_rng_state,
)


def train(
    loaded: LoadedModel,
    data: TrainData,
    settings: TrainSettings,
    hooks: TrainHooks,
    *,
    init_adapter: Path | None = None,
    resume_from: Path | None = None,
    rewards=None,
    preference=None,
) -> TrainResult:
    """Train a LoRA adapter on ``loaded``'s base model; the base is left without adapter.

    ``init_adapter`` continues from an adapter (it is also the reference); ``resume_from``
    is a checkpoint of this same run to continue exactly where it was saved. Online
    algorithms sample ``data.train_prompts`` and need ``rewards`` (a list of
    ``online.rewards.RewardSource``); Online DPO may rank its pairs with ``preference``.
    """
    settings.validate()
    if settings.online:
        from engine.training.online.loop import train_online

        return train_online(
            loaded,
            data,
            settings,
            hooks,
            rewards=rewards or [],
            preference=preference,
            init_adapter=init_adapter,
            resume_from=resume_from,
        )
    started = time.monotonic()
    accelerator = dist.make_accelerator(pick_device(loaded.device))
    train_split = encode_split(loaded.tokenizer, settings, data.train_pairs, data.train_unpaired)
    eval_split = encode_split(loaded.tokenizer, settings, data.eval_pairs, data.eval_unpaired)
    check_trainable(train_split, settings)
    prepared = counts(train_split, eval_split)
    if accelerator.is_main_process:
        hooks.on_prepared(prepared)
    if settings.algorithm == "reward":
        model = reward_policy(
            loaded.source_dir, settings, loaded.dtype, loaded.device, loaded.tokenizer.pad_token_id
        )
        context = contextlib.nullcontext(model)
    else:
        context = trainable_policy(loaded.model, settings, init_adapter)
    with context as model:
        run = _Run(accelerator, loaded, model, settings, hooks, train_split, eval_split, data)
        reference = prepare_reference(run, init_adapter)
        if reference is None:
            return run.result("cancelled", 0, None, prepared, {}, started)
        run.setup_optimizer(resume_from)
        return run.loop(prepared, reference, started)


class _Run:
    def __init__(self, accelerator, loaded, model, settings, hooks, train_split, eval_split, data):
        self.accelerator, self.loaded, self.model = accelerator, loaded, model
        self.settings, self.hooks = settings, hooks
        self.train_split, self.eval_split, self.data = train_split, eval_split, data
        self.pad_id = loaded.tokenizer.pad_token_id
        self.device = accelerator.device
        self.main = accelerator.is_main_process
        self.start_step = 0
        self.last_checkpoint: Path | None = None
        self.saved_step: int | None = None
        self.last_eval: dict[str, float] = {}
        self.last_eval_step: int | None = None
        self.autocast, self.scaler = _precision(settings, str(self.device))

    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        return [p for p in self.model.parameters() if p.requires_grad]

    def updates_per_step(self) -> int:
        return 1

    def schedule_size(self) -> int:
        return len(self.train_split.examples)

    def setup_optimizer(self, resume_from: Path | None) -> None:
        from transformers import get_scheduler

        s = self.settings
        optimizer = torch.optim.AdamW(
            self.trainable_parameters(), lr=s.learning_rate, weight_decay=s.weight_decay
        )
        updates = s.max_steps * self.updates_per_step()
        self.scheduler = get_scheduler(
            s.lr_scheduler,
            optimizer,
            num_warmup_steps=round(s.warmup_ratio * updates),
            num_training_steps=updates,
        )
        if resume_from is not None:
            state = load_training_state(resume_from)
            load_adapter_weights(self.model, resume_from)
            self.load_extra_state(resume_from, state)
            optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            set_rng_state(state["rng"])
            self.start_step = self.saved_step = int(state["step"])
            self.last_checkpoint = Path(resume_from)
        else:
            # LoRA dropout draws from the global generator: seed it, so that the same
            # settings give the same run (a resumed run restores the saved state instead).
            torch.manual_seed(s.seed)
        self.ddp_model, self.optimizer = self.accelerator.prepare(self.model, optimizer)
        self.schedule = StepSchedule(
            self.schedule_size(),
            s.batch_size,
            s.gradient_accumulation_steps,
            self.accelerator.num_processes,
            s.seed,
        )

    def loop(self, prepared: dict, reference: dict, started: float) -> TrainResult:
        s, step, status, train_metrics = self.settings, self.start_step, "done", {}
        self._log(
            f"training {s.algorithm} from step {step} to {s.max_steps} on "
            f"{self.schedule_size()} {'prompts' if s.online else 'examples'}, "
            f"{self.accelerator.num_processes} process(es)"
        )
        while step < s.max_steps:
            commands = dist.broadcast(self.accelerator, self.hooks.poll() if self.main else None)
            if "cancel" in commands:
                return self.result(
                    "cancelled",
                    step,
                    self.last_checkpoint,
                    prepared,
                    reference,
                    started,
                    train_metrics,
                )
            if "stop" in commands:
                status = "stopped"
                break
            train_metrics = self.train_step(step)
            step += 1
            self._after_step(step, train_metrics, "checkpoint" in commands)
        if status == "done" and self.last_eval_step != step:
            self._evaluate(step)
        if self.saved_step != step and step > 0:  # stopped before any step: nothing to save
            self.save(step)
        return self.result(
            status, step, self.last_checkpoint, prepared, reference, started, train_metrics
        )

    def train_step(self, step: int) -> dict[str, float]:
        s, tick = self.settings, time.monotonic()
        self.ddp_model.train()
        stats, losses = [], []
        for micro in range(s.gradient_accumulation_steps):
            indices = self.schedule.indices(step, micro, self.accelerator.process_index)
            last = micro == s.gradient_accumulation_steps - 1
            # DDP averages gradients only on the last micro-batch of the step.
            sync = contextlib.nullcontext() if last else self.accelerator.no_sync(self.ddp_model)
            with sync:
                with self.autocast():
                    objective = split_objective(
                        self.ddp_model,
                        self.train_split,
                        indices,
                        s,
                        pad_id=self.pad_id,
                        device=self.device,
                        gather_mean=self._gather_mean,
                    )
                loss = objective.loss / s.gradient_accumulation_steps
                self.scaler.scale(loss).backward() if self.scaler else loss.backward()
            stats.append(objective.stats)
            losses.append(float(objective.loss.detach()))
        grad_norm = self._clip()
        if dist.any_process(self.accelerator, not all(map(math.isfinite, losses + [grad_norm]))):
            self.optimizer.zero_grad(set_to_none=True)
            raise NonFiniteError(
                f"At step {step + 1} the {'loss' if not all(map(math.isfinite, losses)) else 'gradient'} "
                "became NaN or infinite, so the run stopped before applying it; no checkpoint was "
                "written from this step.",
                "Lower the learning rate, use fp32 or bf16 instead of fp16, or check the labels "
                "for empty or extreme completions; resume from the last checkpoint.",
            )
        self._optimizer_step()
        metrics = reduce_stats(self.accelerator, stats)
        metrics.update(self._step_metrics(step + 1, grad_norm, time.monotonic() - tick))
        return metrics

    def _gather_mean(self, value: torch.Tensor) -> torch.Tensor:
        return dist.gather_mean(self.accelerator, value)

    def load_extra_state(self, checkpoint: Path, state: dict) -> None:
        """What a subclass keeps beside the adapter (PPO's value head)."""

    def write_extra_state(self, folder: Path) -> None:
        """Called inside the checkpoint's temporary folder before its manifest is written."""

    def extra_trainer_state(self) -> dict:
        return {}

    def _clip(self) -> float:
        if self.scaler:
            self.scaler.unscale_(self.optimizer)
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        limit = self.settings.max_grad_norm or float("inf")
        return float(torch.nn.utils.clip_grad_norm_(params, limit))

    def _optimizer_step(self) -> None:
        if self.scaler:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)

    def _step_metrics(self, step: int, grad_norm: float, seconds: float) -> dict[str, float]:
        s = self.settings
        examples = s.batch_size * s.gradient_accumulation_steps * self.accelerator.num_processes
        return {
            "grad_norm": grad_norm,
            "learning_rate": self.scheduler.get_last_lr()[0],
            "epoch": self.schedule.epoch(step),
            "train/step_seconds": seconds,
            "train/examples_per_second": examples / max(seconds, 1e-9),
            "memory/peak_gb": memory_gb(self.device),
        }

    def _after_step(self, step: int, metrics: dict[str, float], checkpoint_now: bool) -> None:
        s = self.settings
        if self.main:
            if step % s.logging_every == 0 or step == s.max_steps:
                self.hooks.on_metrics(step, metrics)
            self.hooks.on_progress(
                step, s.max_steps, f"step {step}/{s.max_steps}  loss {metrics['loss']:.4f}"
            )
        if s.eval_every and step % s.eval_every == 0 and step < s.max_steps:
            self._evaluate(step)
        if checkpoint_now or (
            s.checkpoint_every and step % s.checkpoint_every == 0 and step < s.max_steps
        ):
            self.save(step)

    def _evaluate(self, step: int) -> None:
        if self.eval_split.examples:
            metrics = evaluate(self, step)
            self.last_eval, self.last_eval_step = metrics, step
            if self.main:
                self.hooks.on_metrics(step, metrics)
        if self.main and self.data.sample_prompts and self.settings.algorithm != "reward":
            self.hooks.on_samples(step, generate_samples(self, step))

    def save(self, step: int) -> None:
        dest = Path(self.hooks.checkpoint_dir(step))
        if self.main:
            state = {
                "algorithm": self.settings.algorithm,
                "settings": self.settings.to_dict(),
                "eval": {k: v for k, v in self.last_eval.items() if math.isfinite(v)},
                **self.extra_trainer_state(),
            }
            manifest = save_training_checkpoint(
                dest,
                self.accelerator.unwrap_model(self.ddp_model),
                self.optimizer,
                self.scheduler,
                step,
                state,
                extra=self.write_extra_state,
            )
            self.hooks.on_checkpoint(step, dest, manifest)
            self._log(f"checkpoint at step {step}: {dest}")
        self.accelerator.wait_for_everyone()
        self.last_checkpoint, self.saved_step = dest, step

    def result(self, status, step, checkpoint, prepared, reference, started, train_metrics=None):
        in_sync = None
        if self.accelerator.num_processes > 1 and hasattr(self, "ddp_model"):
            in_sync = dist.replicas_in_sync(self.accelerator, self.ddp_model)
        return TrainResult(
            status=status,
            step=step,
            checkpoint=checkpoint,
            train_metrics=train_metrics or {},
            eval_metrics=self.last_eval,
            prepared=prepared,
            reference=reference,
            replicas_in_sync=in_sync,
            world_size=self.accelerator.num_processes,
            seconds=time.monotonic() - started,
        )

    def _log(self, text: str) -> None:
        if self.main:
            self.hooks.on_log(text)


def _precision(settings: TrainSettings, device: str):
    """(autocast context factory, GradScaler or None) for the chosen precision."""
    from engine.device import pick_dtype

    precision = settings.precision
    if precision == "auto":
        precision = (
            "bf16" if device.startswith("cuda") and pick_dtype(device) == "bfloat16" else "fp32"
        )
    if precision == "fp32":
        return contextlib.nullcontext, None
    if precision == "fp16" and not device.startswith("cuda"):
        raise EngineError("fp16 training needs a CUDA GPU.", 'Use precision = "bf16" or "fp32".')
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    device_type = device.split(":")[0]
    scaler = torch.amp.GradScaler("cuda") if precision == "fp16" else None
    return (lambda: torch.autocast(device_type=device_type, dtype=dtype)), scaler
