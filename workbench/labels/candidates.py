"""Candidates to label: what they can be generated with (base models and checkpoints,
splits, sampling defaults) and the `generate` job that makes them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workbench.data.prompts import split_counts
from workbench.project import Project
from workbench.training.start_points import start_choices

# Candidates must differ to be compared: sampling stays on whatever the project's
# defaults say (the demo's are greedy, for its accuracy figures).
CANDIDATE_SAMPLING = {"do_sample": True, "temperature": 1.0, "top_p": 1.0}


@dataclass(frozen=True)
class CandidateRequest:
    model_id: int | None  # the base model; ignored when a checkpoint is given
    checkpoint_id: int | None
    n: int
    sampling: dict[str, Any]
    split: str | None = None
    unlabelled_only: bool = True
    limit: int | None = None  # at most this many prompts; None for all


def generation_choices(project: Project) -> dict[str, Any]:
    """Base models and checkpoints to generate with, the splits, and sampling defaults."""
    choices = start_choices(project)
    defaults = project.setting("default_sampling", {}) or {}
    return {
        **choices,
        "splits": split_counts(project),
        "sampling": {**defaults, **CANDIDATE_SAMPLING},
    }


def candidate_prompt_ids(
    project: Project, split: str | None, unlabelled_only: bool, limit: int | None
) -> list[int]:
    clauses, params = [], []
    if split is not None:
        clauses.append("split = ?")
        params.append(split)
    if unlabelled_only:
        clauses.append(
            "id NOT IN (SELECT prompt_id FROM comparisons "
            "WHERE source = 'human' AND superseded_by IS NULL)"
        )
    where = " WHERE " + " AND ".join(clauses) if clauses else ""
    rows = project.db.execute(
        f"SELECT id FROM prompts{where} ORDER BY id LIMIT ?", [*params, limit or -1]
    )
    return [row[0] for row in rows]


def generate_params(project: Project, request: CandidateRequest) -> dict[str, Any]:
    """The `generate` job's params for a request; ValueError when no prompt matches."""
    if request.n < 2:
        raise ValueError(
            "generate at least 2 candidates per prompt: one alone has nothing to be compared with"
        )
    ids = candidate_prompt_ids(project, request.split, request.unlabelled_only, request.limit)
    if not ids:
        where = f"the {request.split!r} split" if request.split else "the project"
        which = "without a human label " if request.unlabelled_only else ""
        raise ValueError(f"No prompts {which}in {where} to generate candidates for.")
    params: dict[str, Any] = {
        "prompt_ids": ids,
        "n": request.n,
        "store": True,
        "sampling": dict(request.sampling),
    }
    if request.checkpoint_id is not None:
        params["checkpoint_id"] = request.checkpoint_id
        params["model_id"] = _checkpoint_model(project, request.checkpoint_id)
    elif request.model_id is not None:
        params["model_id"] = request.model_id
    return params


def _checkpoint_model(project: Project, checkpoint_id: int) -> int | None:
    """An adapter only fits the base model its run trained."""
    row = project.db.execute(
        "SELECT runs.model_id FROM checkpoints JOIN runs ON runs.id = checkpoints.run_id "
        "WHERE checkpoints.id = ?",
        [checkpoint_id],
    ).fetchone()
    if row is None:
        raise ValueError(f"The project has no checkpoint {checkpoint_id}.")
    return row[0]
