"""What every training run shares, offline or online: the optimizer and its schedule, the
step loop with control between steps (pause is the caller's, inside poll), the NaN guard,
evaluation at its interval, atomic checkpoints with exact resume, and the result.

A loop subclasses ``TrainingRun`` and writes what differs: how big its schedule is, one
training step, and one evaluation."""

from __future__ import annotations

import functools
import math
import time
import warnings
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import torch

from engine.loading import LoadedModel
from engine.training import distributed as dist
from engine.training import qlora, sharding
from engine.training.batching import StepSchedule
from engine.training.config import TrainSettings
from engine.training.hooks import NonFiniteError, TrainData, TrainHooks, TrainResult
from engine.training.metrics import memory_gb
from engine.training.phases import CHECKPOINTING, EVALUATING, TRAINING
from engine.training.precision import autocast_and_scaler
from engine.training.state import (
    load_adapter_weights,
    load_training_state,
    read_trainer_state,
    save_training_checkpoint,
    set_rng_state,
)
from engine.training.system_metrics import SystemMeter


class TrainingRun(ABC):
    """One run on ``model`` (the trainable policy); ``setup_optimizer`` then ``loop``."""

    # What the schedule draws from, in the first log line.
    schedule_unit = "examples"
    # Where a NaN loss most likely comes from, in the NaN guard's advice.
    nonfinite_suspect = "the labels for empty or extreme completions"
    # The phase a step starts in (an online step samples first).
    step_phase = TRAINING

    def __init__(
        self,
        accelerator: Any,
        loaded: LoadedModel,
        model: Any,
        settings: TrainSettings,
        hooks: TrainHooks,
        data: TrainData,
    ) -> None:
        self.accelerator, self.loaded, self.model = accelerator, loaded, model
        self.settings, self.hooks, self.data = settings, hooks, data
        self.pad_id = loaded.tokenizer.pad_token_id
        self.device = accelerator.device
        self.main = accelerator.is_main_process
        self.start_step = 0
        self.last_checkpoint: Path | None = None
        self.saved_step: int | None = None
        self.last_eval: dict[str, float] = {}
        self.last_eval_step: int | None = None
        # Running sums of the objectives' ``totals`` (kept in checkpoints for exact resume).
        self.totals: dict[str, float] = {}
        self.autocast, self.scaler = autocast_and_scaler(settings, str(self.device))

    # --- what a loop writes ----------------------------------------------------------
    @abstractmethod
    def schedule_size(self) -> int:
        """How many examples (or prompts) the step schedule draws batches from."""

    @abstractmethod
    def train_step(self, step: int) -> dict[str, float]:
        """Train step ``step + 1`` (through ``apply_update``) and return its metrics."""

    @abstractmethod
    def evaluate_at(self, step: int) -> None:
        """Evaluate after ``step`` steps and report it (sets ``last_eval``)."""

    def updates_per_step(self) -> int:
        return 1

    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        return [p for p in self.model.parameters() if p.requires_grad]

    def load_extra_state(self, checkpoint: Path, state: dict) -> None:
        """What a subclass keeps beside the adapter (PPO's value head)."""
        return None

    def write_extra_state(self, folder: Path) -> None:
        """Called inside the checkpoint's temporary folder before its manifest is written."""
        return None

    def extra_trainer_state(self) -> dict:
        return {}

    # --- setup -------------------------------------------------------------------------
    @functools.cached_property
    def sharded(self) -> bool:
        """FSDP: launched from an FSDP accelerate config on more than one process."""
        return sharding.fsdp_requested() and self.accelerator.num_processes > 1

    def policy(self) -> Any:
        """The trained model without its multi-process wrapper."""
        return self.accelerator.unwrap_model(self.ddp_model)

    def setup_optimizer(self, resume_from: Path | None) -> None:
        from transformers import get_scheduler

        s = self.settings
        if self.sharded and resume_from is not None:
            load_adapter_weights(self.model, resume_from)  # whole, before it is sharded
        if self.sharded:
            sharding.shard(self.model, self.device)
        optimizer = qlora.make_optimizer(self.trainable_parameters(), s, str(self.device))
        updates = s.max_steps * self.updates_per_step()
        self.scheduler = get_scheduler(
            s.lr_scheduler,
            optimizer,
            num_warmup_steps=round(s.warmup_ratio * updates),
            num_training_steps=updates,
        )
        if resume_from is not None:
            state = load_training_state(resume_from)
            self.load_extra_state(resume_from, state)
            if self.sharded:
                sharding.load_full_optimizer_state(self.model, optimizer, state["optimizer"])
            else:
                load_adapter_weights(self.model, resume_from)
                optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            self._apply_changed_settings(optimizer)
            set_rng_state(state["rng"])
            self.start_step = self.saved_step = int(state["step"])
            self.last_checkpoint = Path(resume_from)
            self.totals = dict(read_trainer_state(resume_from).get("totals", {}))
        else:
            # LoRA dropout draws from the global generator: seed it, so that the same
            # settings give the same run (a resumed run restores the saved state instead).
            torch.manual_seed(s.seed)
        if self.sharded:  # FSDP's own hooks exchange the gradients: no DDP wrapper
            self.ddp_model, self.optimizer = self.model, optimizer
        else:
            self.ddp_model, self.optimizer = self.accelerator.prepare(self.model, optimizer)
        self.schedule = StepSchedule(
            self.schedule_size(),
            s.batch_size,
            s.gradient_accumulation_steps,
            self.accelerator.num_processes,
            s.seed,
        )

    def _apply_changed_settings(self, optimizer: torch.optim.Optimizer) -> None:
        """A run continued with new settings (after a NaN: a lower learning rate) keeps the
        checkpoint's moments and step but not its learning rate or weight decay, which the
        loaded states carry. With unchanged settings nothing is touched, so an exact resume
        stays bit-identical."""
        s = self.settings
        sched = self.scheduler
        same_lr = all(base == s.learning_rate for base in sched.base_lrs)
        same_decay = all(g["weight_decay"] == s.weight_decay for g in optimizer.param_groups)
        if same_lr and same_decay:
            return
        sched.base_lrs = [s.learning_rate for _ in sched.base_lrs]
        lambdas = getattr(sched, "lr_lambdas", [None] * len(sched.base_lrs))
        for group, fn in zip(optimizer.param_groups, lambdas, strict=True):
            group["initial_lr"] = s.learning_rate
            group["weight_decay"] = s.weight_decay
            factor = fn(sched.last_epoch) if fn is not None else 1.0
            group["lr"] = s.learning_rate * factor
        sched._last_lr = [g["lr"] for g in optimizer.param_groups]

    # --- the step loop -----------------------------------------------------------------
    def loop(self, prepared: dict, reference: dict, started: float) -> TrainResult:
        s, step, status = self.settings, self.start_step, "done"
        train_metrics: dict[str, float] = {}
        self._log(
            f"training {s.algorithm} from step {step} to {s.max_steps} on "
            f"{self.schedule_size()} {self.schedule_unit}, "
            f"{self.accelerator.num_processes} process(es)"
            + (f", {sharding.describe(self.model)}" if self.sharded else "")
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
            if "save" in commands:  # checkpoint now while paused: save, take no step
                if self.saved_step != step and step > 0:
                    self.save(step)
                continue
            self.phase(self.step_phase, step + 1, s.max_steps)
            train_metrics = self.train_step(step)
            step += 1
            self._after_step(step, train_metrics, "checkpoint" in commands)
        if status == "done" and self.last_eval_step != step:
            self.evaluate(step)
        if self.saved_step != step and step > 0:  # stopped before any step: nothing to save
            self.save(step)
        return self.result(
            status, step, self.last_checkpoint, prepared, reference, started, train_metrics
        )

    def backward(self, loss: torch.Tensor) -> None:
        """Backward pass of one micro-batch's loss, through the fp16 loss scaler if any."""
        self.scaler.scale(loss).backward() if self.scaler else loss.backward()

    def apply_update(self, step: int, losses: list[float], *, learns: bool = True) -> float:
        """Clip the accumulated gradient, refuse a non-finite step, then step the optimizer
        and the schedule. ``losses`` are the micro-batches' losses of step ``step + 1``;
        returns the gradient norm before clipping.

        ``learns`` False on every process (a best-of-N batch that kept no sample) skips the
        optimizer: a zero gradient still moves the weights by AdamW's momentum and weight
        decay. The schedule advances all the same, so the learning rate stays a function of
        the step."""
        grad_norm = self._clip()
        self._refuse_non_finite(step, losses, grad_norm)
        if dist.any_process(self.accelerator, learns):
            self._optimizer_step()
        else:
            self._skip_optimizer_step()
        return grad_norm

    def _refuse_non_finite(self, step: int, losses: list[float], grad_norm: float) -> None:
        """The NaN guard: every process stops when any has a non-finite loss or gradient,
        before the update, so the last checkpoint stays the last good state."""
        losses_finite = all(map(math.isfinite, losses))
        if not dist.any_process(self.accelerator, not (losses_finite and math.isfinite(grad_norm))):
            return
        self.optimizer.zero_grad(set_to_none=True)
        what = "loss" if not losses_finite else "gradient"
        raise NonFiniteError(
            f"At step {step + 1} the {what} became NaN or infinite, so the run stopped before "
            "applying it; no checkpoint was written from this step.",
            self._nonfinite_advice(),
        )

    def _nonfinite_advice(self) -> str:
        """What to change, with the values this run used, and where to continue from."""
        s = self.settings
        changes = [f"lower learning_rate (now {s.learning_rate:g}; try {s.learning_rate / 4:g})"]
        if not s.max_grad_norm:
            changes.append("set max_grad_norm to clip the gradient (e.g. 1.0)")
        elif s.max_grad_norm > 0.5:
            changes.append(f"clip harder with a lower max_grad_norm (now {s.max_grad_norm:g})")
        if s.method.get("beta") is not None or self.settings.spec.default_beta:
            changes.append(
                f"raise beta (now {s.resolved_beta():g}) to keep closer to the reference"
            )
        if s.precision == "fp16":
            changes.append("use bf16 or fp32 instead of fp16")
        where = (
            f"Continue from the last checkpoint ({self.last_checkpoint.name}) with the changes"
            if self.last_checkpoint is not None
            else "No checkpoint was written before this step, so start the run again with them"
        )
        return f"Change: {'; '.join(changes)}; or check {self.nonfinite_suspect}. {where}."

    def _clip(self) -> float:
        if self.scaler:
            self.scaler.unscale_(self.optimizer)
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        limit = self.settings.max_grad_norm or float("inf")
        return float(dist.whole(torch.nn.utils.clip_grad_norm_(params, limit)))

    def _optimizer_step(self) -> None:
        if self.scaler:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)

    def _skip_optimizer_step(self) -> None:
        if self.scaler:
            self.scaler.update()  # closes the unscale_ of _clip (none found inf: no change)
        with warnings.catch_warnings():
            # torch warns when the schedule steps before the optimizer ever has.
            warnings.filterwarnings("ignore", message="Detected call of `lr_scheduler.step")
            self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)

    def add_totals(self, parts: list[dict[str, torch.Tensor]]) -> dict[str, float]:
        """Add the step's ``Objective.totals`` (every micro-batch, every process) to the
        run's running sums, and return those sums."""
        local: dict[str, float] = {}
        for part in parts:
            for name, value in part.items():
                local[name] = local.get(name, 0.0) + float(value)
        for gathered in dist.gather_lists(self.accelerator, [local]):
            for name, value in gathered.items():
                self.totals[name] = self.totals.get(name, 0.0) + value
        return dict(self.totals)

    @functools.cached_property
    def _system(self) -> SystemMeter:
        return SystemMeter()

    def step_metrics(self, step: int, grad_norm: float, seconds: float) -> dict[str, float]:
        """The metrics of every step, whatever the algorithm."""
        s = self.settings
        examples = s.batch_size * s.gradient_accumulation_steps * self.accelerator.num_processes
        return {
            "grad_norm": grad_norm,
            "learning_rate": self.scheduler.get_last_lr()[0],
            "epoch": self.schedule.epoch(step),
            "train/step_seconds": seconds,
            "train/examples_per_second": examples / max(seconds, 1e-9),
            "memory/peak_gb": memory_gb(self.device),
            **self._system.read(self.device),
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
            self.evaluate(step)
        if checkpoint_now or (
            s.checkpoint_every and step % s.checkpoint_every == 0 and step < s.max_steps
        ):
            self.save(step)

    def evaluate(self, step: int) -> None:
        self.phase(EVALUATING)  # evaluate_at reports its count as it goes
        self.evaluate_at(step)

    def phase(self, name: str, done: int = 0, total: int = 0) -> None:
        """What the run is doing now (engine.training.phases), for its progress display."""
        if self.main:
            self.hooks.on_phase(name, done, total)

    # --- checkpoints and the result ------------------------------------------------------
    def save(self, step: int) -> None:
        dest = Path(self.hooks.checkpoint_dir(step))
        self.phase(CHECKPOINTING, step, self.settings.max_steps)
        whole: dict[str, Any] = {}
        if self.sharded:  # collectives: every process gathers, rank 0 writes
            whole["adapter_state"] = sharding.full_trainable_state(self.model)
            whole["optimizer_state"] = sharding.full_optimizer_state(self.model, self.optimizer)
        if self.main:
            state = {
                "algorithm": self.settings.algorithm,
                "settings": self.settings.to_dict(),
                "eval": {k: v for k, v in self.last_eval.items() if math.isfinite(v)},
                "totals": self.totals,
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
                need_mb=self.checkpoint_mb(),
                **whole,
            )
            self.hooks.on_checkpoint(step, dest, manifest)
            self._log(f"checkpoint at step {step}: {dest}")
        self.accelerator.wait_for_everyone()
        self.last_checkpoint, self.saved_step = dest, step

    def checkpoint_mb(self) -> float:
        """About what one checkpoint takes: the trainable weights and AdamW's two moments
        of each (the free-space check before writing it)."""
        params = self.trainable_parameters()
        return 3 * sum(p.numel() * p.element_size() for p in params) / 2**20

    def result(
        self,
        status: str,
        step: int,
        checkpoint: Path | None,
        prepared: dict,
        reference: dict,
        started: float,
        train_metrics: dict[str, float] | None = None,
    ) -> TrainResult:
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
