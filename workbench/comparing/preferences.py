"""A preference expressed in the Compare grid: a person reads a model's answer beside the
baseline's and says which is better. It is stored as an ordinary preference label (the
baseline's completion first, so outcome `a` means the baseline won), so the next DPO run
trains on it like a Label view label, and the two completions name the checkpoints that
wrote them. The grid is not blind, so no arena battle is made of it."""

from __future__ import annotations

from workbench.labels.comparisons import add_comparison
from workbench.project import Project

# What the grid's buttons say -> the label's outcome with the baseline shown first.
GRID_OUTCOMES = {"baseline": "a", "other": "b", "tie": "tie", "both_bad": "both_bad"}


def record_grid_preference(
    project: Project,
    baseline_completion_id: int,
    other_completion_id: int,
    preferred: str,
    source: str = "human",
) -> int:
    """Store the preference (baseline, other, tie or both_bad); returns the label's id.
    ValueError when the two are not answers to the same prompt."""
    if preferred not in GRID_OUTCOMES:
        raise ValueError(f"a preference is one of {', '.join(GRID_OUTCOMES)}, not {preferred!r}")
    ids = [baseline_completion_id, other_completion_id]
    found = dict(
        project.db.execute(
            "SELECT id, prompt_id FROM completions WHERE id IN (?, ?)", ids
        ).fetchall()
    )
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValueError(f"The project has no completion {missing[0]}.")
    if found[ids[0]] != found[ids[1]]:
        raise ValueError(
            f"Completions {ids[0]} and {ids[1]} answer different prompts; a preference "
            "compares two answers to the same prompt."
        )
    return add_comparison(project, found[ids[0]], ids, GRID_OUTCOMES[preferred], source)
