"""The online training loop: each step samples completions of a batch of prompts from
the policy, scores them with the reward sources, and makes ``num_iterations`` optimizer
updates on them with the chosen algorithm. Generation and training time are timed
apart. Checkpoints, exact resume, control, the NaN guard and multi-process come from
``TrainingRun``, which this extends."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from engine.decoding.vllm_rollouts import VllmRollouts, require_vllm
from engine.device import pick_device
from engine.errors import EngineError
from engine.generation import encode_prompts, max_positions, stop_token_ids
from engine.judge.reward import PairPreference
from engine.loading import LoadedModel
from engine.training import distributed as dist
from engine.training.config import TrainSettings
from engine.training.examples import PromptExample
from engine.training.hooks import TrainData, TrainHooks, TrainResult
from engine.training.lora_products import wide_lora_products
from engine.training.metrics import reduce_stats
from engine.training.online import algorithms, dynamic_sampling, rollout
from engine.training.online.evaluation import evaluate_online
from engine.training.online.metrics import completion_metrics, reward_metrics
from engine.training.online.rewards import Rewards, RewardSource, combine
from engine.training.phases import SAMPLING, SCORING, TRAINING
from engine.training.policy import trainable_policy
from engine.training.protocols import EncodedPrompt
from engine.training.run import TrainingRun


def train_online(
    loaded: LoadedModel,
    data: TrainData,
    settings: TrainSettings,
    hooks: TrainHooks,
    *,
    rewards: Sequence[RewardSource],
    preference: PairPreference | None = None,
    init_adapter: Path | None = None,
    resume_from: Path | None = None,
) -> TrainResult:
    """``engine.training.train`` for the online methods (``settings`` already validated)."""
    started = time.monotonic()
    if not rewards and not (settings.spec.ranks_pairs and preference is not None):
        raise EngineError(
            f"{settings.algorithm} needs a reward, and none is set.",
            "Enable a rule, choose a reward model checkpoint, or a judge.",
        )
    if settings.method.get("rollout_engine", "auto") == "vllm":
        require_vllm(loaded.device)  # before anything is prepared
    accelerator = dist.make_accelerator(pick_device(loaded.device))
    train_prompts, train_too_long = _fitting(loaded, data.train_prompts, settings)
    eval_prompts, eval_too_long = _fitting(loaded, data.eval_prompts, settings)
    if not train_prompts:
        raise EngineError(
            "There are no prompts to sample from"
            + (
                f": all {len(train_too_long)} are too long for "
                f"max_length {settings.max_length} with max_completion_length "
                f"{settings.method.max_completion_length}."
                if train_too_long
                else "."
            ),
            "Add train-split prompts (Data view), or raise max_length.",
        )
    prepared = {
        "train_prompts": len(train_prompts),
        "eval_prompts": len(eval_prompts),
        "too_long": len(train_too_long) + len(eval_too_long),
    }
    if accelerator.is_main_process:
        hooks.on_prepared(prepared)
    with trainable_policy(loaded.model, settings, init_adapter) as model:
        run = OnlineRun(
            accelerator,
            loaded,
            model,
            settings,
            hooks,
            data,
            train_prompts,
            eval_prompts,
            rewards,
            preference,
        )
        run.setup_optimizer(resume_from)
        return run.loop(prepared, {"needed": False}, started)


def _fitting(
    loaded: LoadedModel, examples: list[PromptExample], settings: TrainSettings
) -> tuple[list[EncodedPrompt], list[EncodedPrompt]]:
    """(kept [(example, ids)], too long): prompt + completion must fit max_length and the
    model's positions; a prompt is never cut."""
    limit = min(settings.max_length, max_positions(loaded.model) or settings.max_length)
    encoded = encode_prompts(loaded.tokenizer, [e.prompt for e in examples]) if examples else []
    kept: list[EncodedPrompt] = []
    too_long: list[EncodedPrompt] = []
    for example, ids in zip(examples, encoded, strict=True):
        fits = len(ids) + settings.method.max_completion_length <= limit
        (kept if fits else too_long).append((example, ids))
    return kept, too_long


class OnlineRun(TrainingRun):
    schedule_unit = "prompts"
    nonfinite_suspect = "the reward for NaN or extreme values"
    step_phase = SAMPLING

    def __init__(
        self,
        accelerator: Any,
        loaded: LoadedModel,
        model: Any,
        settings: TrainSettings,
        hooks: TrainHooks,
        data: TrainData,
        train_prompts: list[EncodedPrompt],
        eval_prompts: list[EncodedPrompt],
        sources: Sequence[RewardSource],
        preference: PairPreference | None,
    ) -> None:
        super().__init__(accelerator, loaded, model, settings, hooks, data)
        self.train_prompts, self.eval_prompts = train_prompts, eval_prompts
        self.sources, self.preference = sources, preference
        self.eos_ids = stop_token_ids(loaded)
        self.algorithm = algorithms.make(settings, self)
        self.vllm = None
        if settings.method.get("rollout_engine", "auto") == "vllm":
            limit = min(settings.max_length, max_positions(loaded.model) or settings.max_length)
            self.vllm = VllmRollouts(loaded.source_dir, loaded.dtype, limit, settings.lora.r)

    # --- what TrainingRun leaves to a loop --------------------------------------------
    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        return super().trainable_parameters() + self.algorithm.extra_parameters()

    def updates_per_step(self) -> int:
        return self.algorithm.updates_per_step()

    def schedule_size(self) -> int:
        return len(self.train_prompts)

    def setup_optimizer(self, resume_from: Path | None) -> None:
        super().setup_optimizer(resume_from)
        self.algorithm.prepare_modules(self.accelerator)

    def load_extra_state(self, checkpoint: Path, state: dict) -> None:
        self.algorithm.load_state(checkpoint)

    def write_extra_state(self, folder: Path) -> None:
        self.algorithm.save_state(folder)

    def extra_trainer_state(self) -> dict:
        return self.algorithm.trainer_state()

    # --- one step ----------------------------------------------------------------------
    def sample(self, step: int, micro: int) -> rollout.Rollouts:
        rank = self.accelerator.process_index
        return self.sample_prompts(
            self.schedule.indices(step, micro, rank),
            rollout.rollout_seed(self.settings.seed, step, micro, rank),
        )

    def sample_prompts(self, indices: list[int], seed: int) -> rollout.Rollouts:
        chosen = [self.train_prompts[i] for i in indices]
        return rollout.sample(
            self.policy(),
            self.loaded.tokenizer,
            [e for e, _ in chosen],
            [ids for _, ids in chosen],
            self.settings,
            seed=seed,
            eos_ids=self.eos_ids,
            device=self.device,
            vllm=self.vllm,
        )

    def reward(self, rollouts: rollout.Rollouts) -> Rewards:
        return combine(self.sources, rollouts.prompts, rollouts.texts, rollouts.references)

    def train_step(self, step: int) -> dict[str, float]:
        s, tick = self.settings, time.monotonic()
        micro_batches = range(s.gradient_accumulation_steps)
        rollouts = [self.sample(step, m) for m in micro_batches]
        generated = time.monotonic()
        self.phase(SCORING, step + 1, s.max_steps)
        scored = [self.reward(r) for r in rollouts]
        rewarded = time.monotonic()
        dynamic: dict[str, float] = {}
        if getattr(s.method, "dynamic_sampling", False):
            self.phase(SAMPLING, step + 1, s.max_steps)
            rollouts, scored, dynamic = self._refill(step, rollouts, scored)
            generated += time.monotonic() - rewarded  # the extra rounds count as sampling
            rewarded = time.monotonic()
        self.phase(TRAINING, step + 1, s.max_steps)
        batches = [self.algorithm.prepare(r, w) for r, w in zip(rollouts, scored, strict=True)]
        self.algorithm.finalize(batches)
        stats: list[dict] = []
        totals: list[dict] = []
        for _ in range(self.updates_per_step()):
            stats += self._update(step, batches, totals)
        metrics = reduce_stats(self.accelerator, stats)
        metrics.update(self.add_totals(totals))
        metrics.update(self._rollout_metrics(rollouts, scored))
        metrics.update(dynamic)
        metrics.update(self.algorithm.step_metrics(batches, metrics))
        metrics.update(self.step_metrics(step + 1, self._grad_norm, time.monotonic() - tick))
        metrics["train/generation_seconds"] = generated - tick
        metrics["train/reward_seconds"] = rewarded - generated
        metrics["train/training_seconds"] = time.monotonic() - rewarded
        metrics["train/generation_share"] = (generated - tick) / max(time.monotonic() - tick, 1e-9)
        if self.main and s.method.samples_per_step:
            self.hooks.on_samples(
                step + 1,
                self.algorithm.samples(
                    rollouts[0], scored[0], batches[0], s.method.samples_per_step
                ),
            )
        return metrics

    def _refill(self, step: int, rollouts: list, scored: list) -> tuple[list, list, dict]:
        rank = self.accelerator.process_index
        counts = {"dropped_groups": 0.0, "extra_rounds": 0.0, "unfilled_groups": 0.0}
        out_rollouts, out_scored = [], []
        for micro, (r, w) in enumerate(zip(rollouts, scored, strict=True)):
            done = dynamic_sampling.refill(
                self,
                r,
                w,
                num_prompts=len(self.train_prompts),
                seed=self.settings.seed,
                step=step,
                micro=micro,
                rank=rank,
            )
            out_rollouts.append(done.rollouts)
            out_scored.append(done.rewards)
            counts["dropped_groups"] += done.dropped
            counts["extra_rounds"] += done.extra_rounds
            counts["unfilled_groups"] += done.unfilled
        every = dist.gather_lists(self.accelerator, [counts])
        merged = {f"dynamic_sampling/{k}": sum(c[k] for c in every) for k in counts}
        return out_rollouts, out_scored, merged

    def _update(self, step: int, batches, totals: list[dict]) -> list[dict]:
        stats, losses = [], []
        self.ddp_model.train()
        for m, batch in enumerate(batches):
            last = m == len(batches) - 1
            sync = (
                contextlib.nullcontext()
                if last
                else self.algorithm.no_sync(self.accelerator, self.ddp_model)
            )
            with sync:
                with self.autocast(), wide_lora_products(self.ddp_model):
                    objective = self.algorithm.objective(batch)
                self.backward(objective.loss * self.algorithm.micro_scale(len(batches)))
            stats.append(objective.stats)
            totals.append(objective.totals)
            losses.append(float(objective.loss.detach()))
        learns = self.algorithm.learns_from(batches)
        self._grad_norm = self.apply_update(step, losses, learns=learns)
        return stats

    def _rollout_metrics(self, rollouts, scored) -> dict[str, float]:
        # What this process sends the others: lists and per-name dicts, merged by name.
        local: dict[str, Any] = {
            "totals": [],
            "lengths": [],
            "truncated": [],
            "parts": {},
            "failures": {},
        }
        for r, w in zip(rollouts, scored, strict=True):
            local["totals"] += w.total
            local["lengths"] += [len(c) for c in r.completion_ids]
            local["truncated"] += r.truncated
            for name, values in w.parts.items():
                local["parts"].setdefault(name, []).extend(values)
            for name, count in w.failures.items():
                local["failures"][name] = local["failures"].get(name, 0) + count
        return _merge_rollout_metrics(
            dist.gather_lists(self.accelerator, [local]), self.settings.group_size()
        )

    # --- evaluation: greedy answers to eval prompts, scored by the reward -----------
    def evaluate_at(self, step: int) -> None:
        if not self.eval_prompts:
            return
        metrics, samples = evaluate_online(self, step)
        self.last_eval, self.last_eval_step = metrics, step
        if self.main:
            self.hooks.on_metrics(step, metrics)
            if samples:
                self.hooks.on_samples(step, samples)


def _merge_rollout_metrics(parts: list[dict], group_size: int) -> dict[str, float]:
    totals: list[float] = []
    lengths: list[int] = []
    truncated: list[bool] = []
    named: dict[str, list[float]] = {}
    failures: dict[str, int] = {}
    for part in parts:  # each process's rollouts hold whole groups, so groups stay intact
        totals += part["totals"]
        lengths += part["lengths"]
        truncated += part["truncated"]
        for name, values in part["parts"].items():
            named.setdefault(name, []).extend(values)
        for name, count in part["failures"].items():
            failures[name] = failures.get(name, 0) + count
    out = reward_metrics(totals, group_size, named)
    out.update(completion_metrics(lengths, truncated))
    out.update({f"rewards/{name}/failures": float(n) for name, n in failures.items() if n})
    return out
