"""One name for a checkpoint wherever the window or the command line lists it:
"run name · step 300 (#12)", or "run 3 dpo · step 300 (#12)" for a run without a name."""

from __future__ import annotations


def run_name(run_id: int | None, name: str | None, algorithm: str | None = None) -> str:
    if name:
        return name
    return " ".join(part for part in (f"run {run_id}", algorithm) if part and part != "run None")


def checkpoint_label(
    checkpoint_id: int,
    step: int | None,
    run_id: int | None,
    name: str | None = None,
    algorithm: str | None = None,
) -> str:
    at = f" · step {step}" if step is not None else ""
    return f"{run_name(run_id, name, algorithm)}{at} (#{checkpoint_id})"
