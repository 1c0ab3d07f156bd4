"""What a live run is doing: the phase the engine reports (engine.training.phases) kept in
the run's row with the smoothed step time and ETA (workbench/training/step_timer.py), so
a window or a `workbench runs` that looks later sees it; and the phase as the window and
the command line say it ("Reference pass 120/400", "Training step 12/300")."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from engine.training.phases import (
    CHECKPOINTING,
    EVALUATING,
    LOADING,
    PAUSES,
    REFERENCE,
    SAMPLING,
    SCORING,
    TRAINING,
)
from workbench.project import Project
from workbench.training.step_timer import StepTimer, counted_down

WRITE_INTERVAL_S = 0.25  # the same phase's count is written at most this often
STEP_PHASES = (SAMPLING, SCORING, TRAINING)


def phase_text(phase: str | None, done: int = 0, total: int = 0) -> str:
    """The phase as the run's header says it; "" for none."""
    if not phase:
        return ""
    counted = f" {done}/{total}" if total else ""
    return {
        LOADING: "Loading model…",
        REFERENCE: f"Reference pass{counted}",
        SAMPLING: f"Sampling{' · step' + counted if total else ''}",
        SCORING: f"Scoring{' · step' + counted if total else ''}",
        TRAINING: f"Training step{counted}",
        EVALUATING: f"Evaluating{counted}",
        CHECKPOINTING: "Checkpointing",
    }.get(phase, phase)


def set_phase(
    project: Project,
    run_id: int,
    phase: str | None,
    done: int = 0,
    total: int = 0,
    *,
    step_seconds: float | None = None,
    eta_s: float | None = None,
) -> None:
    project.db.execute(
        "UPDATE runs SET phase = ?, phase_done = ?, phase_total = ?, phase_at = ?, "
        "step_seconds = COALESCE(?, step_seconds), eta_s = ? WHERE id = ?",
        [phase, done, total, time.time(), step_seconds, eta_s, run_id],
    )


class PhaseWriter:
    """The recorder's ``on_phase``: times the steps and writes the phase, at once when it
    changes and at most every WRITE_INTERVAL_S while only its count moves."""

    def __init__(
        self,
        project: Project,
        run_id: int,
        max_steps: int,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.project, self.run_id, self.max_steps = project, run_id, max_steps
        self.clock = clock
        self.timer = StepTimer()
        self._written: tuple[str | None, float] = (None, float("-inf"))

    def __call__(self, phase: str, done: int = 0, total: int = 0) -> None:
        now = self.clock()
        if phase in STEP_PHASES and total:
            self.timer.step_begins(done, now)
        elif phase in PAUSES:
            self.timer.pause_begins(now)
        last_phase, last_time = self._written
        if phase == last_phase and now - last_time < WRITE_INTERVAL_S:
            return
        self._written = (phase, now)
        set_phase(
            self.project,
            self.run_id,
            phase,
            done,
            total,
            step_seconds=self.timer.seconds_per_step,
            eta_s=self.timer.eta(self.max_steps),
        )

    def paused(self, paused: bool) -> None:
        """The user's pause is left out of the step it falls in."""
        now = self.clock()
        self.timer.pause_begins(now) if paused else self.timer.pause_ends(now)


def phase_fields(row: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    """A runs row's phase as reads return it: ``phase``, ``phase_text``, ``eta_s`` (counted
    down since written while steps run) and ``step_seconds``; no phase once not live."""
    live = row.get("status") in ("running", "paused")
    phase = row.get("phase") if live else None
    done, total = row.get("phase_done") or 0, row.get("phase_total") or 0
    eta = row.get("eta_s") if live else None
    if eta is not None and row.get("status") == "running" and phase not in PAUSES:
        eta = counted_down(eta, row.get("phase_at"), time.time() if now is None else now)
    return {
        "phase": phase,
        "phase_done": done if phase else 0,
        "phase_total": total if phase else 0,
        "phase_text": phase_text(phase, done, total),
        "step_seconds": row.get("step_seconds"),
        "eta_s": eta,
    }


PHASE_COLUMNS = "status, phase, phase_done, phase_total, phase_at, step_seconds, eta_s"


def job_phase_rows(project: Project, job_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The phase columns of each train job's run, as stored (phase_fields says them), by
    job id; jobs without a run are left out."""
    rows = project.db.query(
        f"SELECT job_id, {PHASE_COLUMNS} FROM runs WHERE job_id IN "
        "(SELECT value FROM json_each(?))",
        [json.dumps(job_ids)],
    )
    return {row.pop("job_id"): row for row in rows}
