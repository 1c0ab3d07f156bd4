"""What the arena's ratings panel shows: the rating table of one kind of vote (human or
AI, kept apart), each entrant under a readable name, and how often the AI judge agreed
with people on the battles both voted on (the same two completions)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workbench.arena.battles import BASE_ENTRANT, CHECKPOINT_PREFIX
from workbench.arena.leaderboard import project_ratings
from workbench.arena.ratings import RatingTable
from workbench.data.models import default_model
from workbench.project import Project


@dataclass(frozen=True)
class Agreement:
    shared: int  # completion pairs voted on by a person and by the judge
    agreed: int  # of them, the same verdict (the same winner, or both a tie)

    @property
    def rate(self) -> float | None:
        return self.agreed / self.shared if self.shared else None


def entrant_labels(project: Project, names: list[str]) -> dict[str, str]:
    """{battle name: "base: MODEL" or "RUN · step N"}; external names stay as they are."""
    labels = {}
    for name in names:
        if name == BASE_ENTRANT:
            try:
                labels[name] = f"base: {default_model(project).name}"
            except KeyError:
                labels[name] = name
        elif name.startswith(CHECKPOINT_PREFIX) and name[len(CHECKPOINT_PREFIX) :].isdigit():
            row = project.db.execute(
                "SELECT r.id, r.name, c.step FROM checkpoints c LEFT JOIN runs r "
                "ON r.id = c.run_id WHERE c.id = ?",
                [int(name[len(CHECKPOINT_PREFIX) :])],
            ).fetchone()
            labels[name] = f"{row[1] or f'run {row[0]}'} · step {row[2]}" if row else name
        else:
            labels[name] = name
    return labels


def _verdicts(project: Project, source: str) -> dict[frozenset[int], int | None]:
    """{completion pair: the winning completion id, None for a tie} of a source's latest
    vote on each pair."""
    verdicts: dict[frozenset[int], int | None] = {}
    for a, b, winner in project.db.execute(
        "SELECT completion_a_id, completion_b_id, winner FROM arena_battles WHERE source = ? "
        "AND completion_a_id IS NOT NULL AND completion_b_id IS NOT NULL ORDER BY id",
        [source],
    ):
        verdicts[frozenset((a, b))] = {"model_a": a, "model_b": b}.get(winner)
    return verdicts


def judge_agreement(project: Project) -> Agreement:
    """Human against AI votes on the battles both cast; a tie and both-bad count as one."""
    human, ai = _verdicts(project, "human"), _verdicts(project, "ai")
    shared = human.keys() & ai.keys()
    return Agreement(len(shared), sum(human[k] == ai[k] for k in shared))


def arena_board(
    project: Project,
    source: str,
    bootstrap_rounds: int = 1000,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """The table of one source's votes ("human", "ai" or "all"), names and agreement."""
    sources = None if source == "all" else [source]
    table: RatingTable = project_ratings(
        project, sources, bootstrap_rounds=bootstrap_rounds, seed=seed, progress=progress
    )
    agreement = judge_agreement(project)
    return {
        "source": source,
        "table": table,
        "labels": entrant_labels(project, table.models),
        "agreement": {
            "shared": agreement.shared,
            "agreed": agreement.agreed,
            "rate": agreement.rate,
        },
    }
