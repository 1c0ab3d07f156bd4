"""The training hooks that record a run into the project: metrics, samples scored by the
project's rules, checkpoints, log lines and progress, and the control requests the
user makes (stop and save, cancel, checkpoint now). Only rank 0 records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.rules.spec import RuleSpec
from engine.training.hooks import TrainHooks
from workbench.rules.scoring import score_rows
from workbench.rules.store import rule_specs
from workbench.training import runs
from workbench.training.health import HealthMonitor, context_for
from workbench.training.run_phase import PhaseWriter
from workbench.training.sweeps import link_run


class RunRecorder:
    def __init__(self, project, run_id: int, ctx=None, on_progress=None):
        self.project, self.run_id, self.ctx = project, run_id, ctx
        self.on_progress = on_progress
        self.checkpoint_ids: dict[int, int] = {}
        self._references: dict[str, str | None] = {}
        self._specs: list[RuleSpec] | None = None  # the enabled rules, read at the first sample
        self._monitor: HealthMonitor | None = None  # read the run's config at the first metrics
        max_steps = runs.get_run(project, run_id).max_steps or 0
        self.phase = PhaseWriter(project, run_id, max_steps)  # and the ETA
        if ctx is not None:
            link_run(project, run_id, ctx.job.params)  # a sweep's run joins its sweep

    def hooks(self, checkpoint_root: Path, cache_dir: Path | None) -> TrainHooks:
        return TrainHooks(
            checkpoint_dir=lambda step: checkpoint_root / f"step-{step}",
            on_metrics=self._metrics,
            on_checkpoint=self._checkpoint,
            on_samples=self._samples,
            on_progress=self._progress,
            on_phase=self.phase,
            on_prepared=lambda counts: runs.log(self.project, self.run_id, _prepared_text(counts)),
            on_log=lambda text: runs.log(self.project, self.run_id, text),
            poll=self._poll,
            reference_cache_dir=cache_dir,
        )

    def _metrics(self, step: int, metrics: dict[str, float]) -> None:
        runs.record_metrics(self.project, self.run_id, step, metrics)
        self._health().add(step, metrics)
        self._say_health()

    def _health(self) -> HealthMonitor:
        if self._monitor is None:
            run = runs.get_run(self.project, self.run_id)
            self._monitor = HealthMonitor(context_for(run.algorithm, run.config or {}))
        return self._monitor

    def _say_health(self) -> None:
        """Each new warning once in the run's log, never blocking: the run goes on
        (docs/architecture.md, "Run health and sweeps")."""
        for warning in self._health().new_warnings():
            runs.log(self.project, self.run_id, warning.line())

    def _checkpoint(self, step: int, path: Path, manifest: dict[str, Any]) -> None:
        self.checkpoint_ids[step] = runs.add_checkpoint(
            self.project, self.run_id, step, path, manifest
        )

    def _progress(self, done: int, total: int, message: str) -> None:
        if self.ctx is not None:
            self.ctx.job.progress_done, self.ctx.job.progress_total = done, total
            self.ctx.progress(done, total, message)
        elif self.on_progress is not None:
            self.on_progress(done, total, message)

    def _poll(self) -> set[str]:
        if self.ctx is None:
            return set()
        if self.ctx.on_pause_change is None:
            self.ctx.saves_while_paused = True
            self.ctx.on_pause_change = self._paused
        others = self.ctx.poll_control()
        if self.ctx.paused and "checkpoint" in others:
            return {"save"}  # checkpoint now while paused: save this step, take no other
        commands = {c for c in others if c == "checkpoint"}
        if self.ctx.cancel_requested:
            commands.add("cancel")
        elif self.ctx.stop_requested:
            commands.add("stop")
        return commands

    def _paused(self, paused: bool) -> None:
        self.phase.paused(paused)
        runs.update_run(self.project, self.run_id, status="paused" if paused else "running")
        runs.log(self.project, self.run_id, "paused" if paused else "resumed")

    def _samples(self, step: int, samples: list[dict[str, Any]]) -> None:
        if samples and all("rewards" in s for s in samples):  # online: scored by the run's reward
            runs.record_samples(
                self.project,
                self.run_id,
                step,
                [
                    {
                        "prompt": _display(s["prompt"]),
                        "completion": s["completion"],
                        "rewards": s["rewards"],
                        "advantage": s.get("advantage"),
                    }
                    for s in samples
                ],
            )
            return
        if self._specs is None:
            self._specs = [s for s in rule_specs(self.project) if s.enabled]
        rows = [
            {
                "prompt": _display(s["prompt"]),
                "text": s["completion"],
                "reference": self._reference(s["prompt"]),
            }
            for s in samples
        ]
        per_rule: dict[str, list[float]] = {}
        totals: list[float] = [0.0] * len(rows)
        if self._specs and rows:
            batch = score_rows(self._specs, rows)
            per_rule, totals = batch.per_rule, batch.total
            self._health().add_samples(step, per_rule, totals)
            self._say_health()
        stored = [
            {
                "prompt": row["prompt"],
                "completion": row["text"],
                "rewards": {
                    **{name: values[i] for name, values in per_rule.items()},
                    **({"total": totals[i]} if per_rule else {}),
                },
            }
            for i, row in enumerate(rows)
        ]
        runs.record_samples(self.project, self.run_id, step, stored)

    def _reference(self, prompt) -> str | None:
        key = json.dumps(prompt, sort_keys=True)
        if key not in self._references:
            column, value = (
                ("text", prompt) if isinstance(prompt, str) else ("messages", json.dumps(prompt))
            )
            row = self.project.db.execute(
                f"SELECT reference FROM prompts WHERE {column} = ? LIMIT 1", [value]
            ).fetchone()
            self._references[key] = row[0] if row else None
        return self._references[key]


def _display(prompt) -> str:
    if isinstance(prompt, str):
        return prompt
    return "\n".join(f"{m.get('role')}: {m.get('content')}" for m in prompt)


def _prepared_text(counts: dict[str, Any]) -> str:
    if "train_prompts" in counts:  # online RL
        text = f"{counts['train_prompts']} training and {counts['eval_prompts']} eval prompts"
        if counts.get("too_long"):
            text += (
                f"; {counts['too_long']} left out: prompt + max_completion_length is over "
                "max_length"
            )
        return text
    text = f"{counts['train_examples']} training and {counts['eval_examples']} eval examples"
    if counts.get("too_long"):
        text += (
            f"; {counts['too_long']} left out as longer than max_length "
            f"(longest {counts['longest_too_long']} tokens)"
        )
    return text


def quiet_hooks(checkpoint_root: Path) -> TrainHooks:
    """Hooks for ranks other than 0: they train and keep in step, and record nothing."""
    return TrainHooks(checkpoint_dir=lambda step: checkpoint_root / f"step-{step}")
