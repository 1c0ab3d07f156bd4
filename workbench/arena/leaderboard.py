"""A project's arena ratings: its battles of the chosen sources, fitted with the base
model as the baseline (1000) when it battled."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from workbench.arena.battles import BASE_ENTRANT, battle_counts
from workbench.arena.ratings import RatingTable, fit_ratings
from workbench.project import Project


def project_ratings(
    project: Project,
    sources: Iterable[str] | None = None,
    *,
    bootstrap_rounds: int = 1000,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> RatingTable:
    """The rating table of the battles of `sources` (default: all)."""
    return fit_ratings(
        battle_counts(project, sources),
        baseline=BASE_ENTRANT,
        bootstrap_rounds=bootstrap_rounds,
        seed=seed,
        progress=progress,
    )
