"""A training run's progress in words, the same in the Train view's run header and the
status bar: its phase ("Reference pass 120/400", "Training step 12/300"), the smoothed
step time and the ETA (workbench/training/run_phase.py), or paused and how it ended."""

from __future__ import annotations

from typing import Any

from engine.training.phases import CHECKPOINTING, EVALUATING, LOADING, REFERENCE


def duration_text(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def progress_text(p: dict[str, Any]) -> str:
    steps = f"Step {p['step']} / {p['max_steps'] or '?'}"
    parts = [steps]
    if p["status"] == "paused":
        parts.append("paused")
    elif p["status"] == "interrupted":
        parts.append(p.get("error") or "interrupted")
    elif p["status"] == "running":
        if p.get("job_message") == "paused":
            parts.append("paused")
            return " · ".join(parts)
        if p.get("phase_text"):  # what it is doing: "Reference pass 120/400", ...
            parts = [p["phase_text"]]
            if p.get("phase") in (EVALUATING, CHECKPOINTING):
                parts.append(f"after step {p['step']} / {p['max_steps'] or '?'}")
        if p.get("step_seconds"):
            parts.append(rate_text(p["step_seconds"]))
        elif p.get("rate"):
            parts.append(f"{p['rate']:.2f} steps/s")
        if p.get("eta_s") is not None and p.get("phase") not in (LOADING, REFERENCE):
            parts.append(f"about {duration_text(p['eta_s'])} left")
    else:
        parts.append(p["status"])
        if p.get("started_at") and p.get("ended_at"):
            parts.append(f"took {duration_text(p['ended_at'] - p['started_at'])}")
    return " · ".join(parts)


def rate_text(step_seconds: float) -> str:
    """Slow steps (online RL) as seconds per step, fast ones as steps per second."""
    if step_seconds >= 1:
        return f"{step_seconds:.1f} s/step"
    return f"{1 / step_seconds:.2f} steps/s"


def bar_range(p: dict[str, Any]) -> tuple[int, int]:
    """(maximum, value): a reference pass or an evaluation fills the bar with its own
    count; otherwise it counts steps."""
    if p["status"] == "running" and p.get("phase") in (REFERENCE, EVALUATING):
        if p.get("phase_total"):
            return p["phase_total"], min(p["phase_done"], p["phase_total"])
    top = p["max_steps"] or 0
    return max(top, 1), min(p["step"], top)
