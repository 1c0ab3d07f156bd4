"""The next round of iterative DPO: a run that continues from the arena's winning
checkpoint and trains on the labels gathered since that checkpoint's run began (the
arena's votes among them), so each round learns from what people said about the last.

The plan is computed first and shown (winner, dataset counts), then launched as an
ordinary `train` job; nothing is stored until the person confirms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workbench.arena.battles import BASE_ENTRANT, CHECKPOINT_PREFIX
from workbench.arena.board import entrant_labels
from workbench.arena.leaderboard import project_ratings
from workbench.jobs import queue as jobs
from workbench.project import Project
from workbench.training.config import RunConfig, project_defaults, with_defaults
from workbench.training.data import dataset_counts

ALGORITHM = "dpo"


class NoWinner(ValueError):
    """The arena has no vote on a model of this project yet."""


@dataclass(frozen=True)
class NextRound:
    winner: str  # the battle name: base or checkpoint-ID
    winner_label: str
    rating: float
    checkpoint_id: int | None  # None: the base model won, and the run starts from it
    model_id: int | None  # the winner's base model (None: the project's default)
    since: float | None  # labels made from this time on; None: every label
    counts: dict[str, Any]  # the dataset the run would train on, as dataset_counts gives it
    config: dict[str, Any]  # the train job's config


def _winner(project: Project, source: str) -> tuple[str, float]:
    table = project_ratings(project, None if source == "all" else [source], bootstrap_rounds=0)
    for row in table.ratings:  # highest first
        if row.model == BASE_ENTRANT or row.model.startswith(CHECKPOINT_PREFIX):
            return row.model, row.rating
    raise NoWinner(
        "No arena vote on a model of this project yet: vote in the arena (or let a judge "
        "play it) before starting the next round."
    )


def plan_next_round(
    project: Project, source: str = "human", overrides: dict[str, Any] | None = None
) -> NextRound:
    """The run the next round would start, with the counts of the labels it would use."""
    winner, rating = _winner(project, source)
    checkpoint_id = model_id = since = None
    if winner != BASE_ENTRANT:
        checkpoint_id = int(winner[len(CHECKPOINT_PREFIX) :])
        row = project.db.execute(
            "SELECT r.model_id, r.created_at FROM checkpoints c JOIN runs r ON r.id = c.run_id "
            "WHERE c.id = ?",
            [checkpoint_id],
        ).fetchone()
        if row is None:
            raise NoWinner(f"The winning checkpoint {checkpoint_id} is no longer in the project.")
        model_id, since = row
    label = entrant_labels(project, [winner])[winner]
    given: dict[str, Any] = {
        "algorithm": ALGORITHM,
        "name": f"next round from {label}",
        **({"init_checkpoint": checkpoint_id} if checkpoint_id is not None else {}),
        **({"model_id": model_id} if model_id is not None else {}),
        **({"labels_since": since} if since is not None else {}),
        **(overrides or {}),
    }
    config = with_defaults(given, project_defaults(project))
    checked = RunConfig.from_dict(config)  # a bad override is refused before anything runs
    counts = dataset_counts(
        project,
        checked.sources,
        checked.min_confidence,
        checked.eval_fraction,
        checked.train.seed,
        since=checked.labels_since,
    )
    return NextRound(winner, label, rating, checkpoint_id, model_id, since, counts, config)


def check_startable(plan: NextRound) -> None:
    """Refuse a round with no preference pair to train on, saying what to do."""
    if not plan.counts["train"]["pairs"]:
        raise ValueError(
            f"No preference pair to train on among the labels since {plan.winner_label}'s "
            "run. Vote in the arena (left or right better, not tie) on a comparison of "
            "train-split prompts: votes on eval-split prompts are kept for evaluation."
        )


def start_next_round(project: Project, plan: NextRound) -> int:
    """Queue the planned run; returns the job id. Refused when it has no pair to train on."""
    check_startable(plan)
    return jobs.submit(project, "train", {"config": plan.config})
