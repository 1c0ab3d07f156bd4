"""Arena ratings: Bradley-Terry on the Elo scale with bootstrap intervals, as FastChat and
lmarena compute their leaderboard.

A tie and a "both bad" count half a win to each side. Strengths are turned into ratings
on the 400-point, base-10 scale (a 400-point lead means 10:1 odds) and anchored so the
baseline entrant is exactly 1000: the base model when it battled, else the first entrant
to appear. Intervals are the 2.5th and 97.5th percentiles over bootstrap rounds, each a
refit on as many battles drawn with replacement; they are relative to the baseline, whose
own interval is therefore [1000, 1000]. A seeded generator makes the same votes and seed
give the same table. Everything is fitted on aggregated counts: a round draws how often
each distinct (pair, outcome) comes up, which is the same distribution as resampling the
battles one by one, and the rounds are fitted together as one batch. How an entrant that
never lost or never won is handled, in the data or in a round: see `bradley_terry`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from workbench.arena.bradley_terry import RIDGE, fit_strengths, strongly_connected

WINNERS = ("model_a", "model_b", "tie", "tie (bothbad)")
BASE_RATING = 1000.0
SCALE = 400.0 / math.log(10.0)  # rating points per unit of natural log-odds
BOOTSTRAP_CHUNK = 100  # rounds fitted as one batch, fewer when there are many entrants
CHUNK_CELLS = 4_000_000  # rounds x entrants^2 per batch: about 32 MB per (batch, k, k) array
# An outcome of a pair (i, j), i first in the entrant order: i won, j won, or a tie.
I_WON, J_WON, TIE = 0, 1, 2
SCORE_SHARES = ((1.0, 0.0), (0.0, 1.0), (0.5, 0.5))  # (to i, to j) per outcome


@dataclass(frozen=True)
class BattleCount:
    """`count` battles of model_a against model_b that ended with `winner`."""

    model_a: str
    model_b: str
    winner: str
    count: int = 1


@dataclass(frozen=True)
class Rating:
    model: str
    rating: float
    ci_low: float | None  # None when no bootstrap was run
    ci_high: float | None
    battles: int
    wins: int  # decisive wins; a tie or both-bad is in `ties`
    ties: int


@dataclass(frozen=True)
class RatingTable:
    ratings: list[Rating]  # highest rating first
    baseline: str | None  # the entrant at exactly 1000; None without battles
    models: list[str]  # the order of the matrices' rows and columns: first appearance
    win_fraction: list[list[float | None]]  # row beats column, ties half; None: never met
    battle_counts: list[list[int]]
    bootstrap_rounds: int
    seed: int


@dataclass(frozen=True)
class _Cells:
    """The distinct (i, j, outcome) of the battles, i < j in entrant order."""

    names: list[str]
    first: np.ndarray  # (cells,) int: entrant i
    second: np.ndarray  # (cells,) int: entrant j
    outcome: np.ndarray  # (cells,) int: I_WON, J_WON or TIE
    counts: np.ndarray  # (cells,) int
    wins: np.ndarray  # (k,) int: decisive wins of each entrant
    ties: np.ndarray  # (k,) int


def count_battles(battles: Iterable[tuple[str, str, str]]) -> list[BattleCount]:
    """Per-battle (model_a, model_b, winner) aggregated, in the order of first appearance."""
    counts: dict[tuple[str, str, str], int] = {}
    for key in battles:
        counts[key] = counts.get(key, 0) + 1
    return [BattleCount(a, b, winner, n) for (a, b, winner), n in counts.items()]


def _cells(counts: Iterable[BattleCount]) -> _Cells:
    index: dict[str, int] = {}
    merged: dict[tuple[int, int, int], int] = {}
    decisive: dict[int, int] = {}
    tied: dict[int, int] = {}
    for row in counts:
        if row.winner not in WINNERS:
            raise ValueError(f"winner must be one of {', '.join(WINNERS)}, not {row.winner!r}")
        if row.model_a == row.model_b:
            raise ValueError(f"{row.model_a!r} cannot battle itself")
        if row.count <= 0:
            continue
        a = index.setdefault(row.model_a, len(index))
        b = index.setdefault(row.model_b, len(index))
        if row.winner in ("model_a", "model_b"):
            won = a if row.winner == "model_a" else b
            decisive[won] = decisive.get(won, 0) + row.count
            outcome = I_WON if won == min(a, b) else J_WON
        else:
            tied[a] = tied.get(a, 0) + row.count
            tied[b] = tied.get(b, 0) + row.count
            outcome = TIE
        key = (min(a, b), max(a, b), outcome)
        merged[key] = merged.get(key, 0) + row.count
    k = len(index)
    keys = np.array(list(merged), dtype=np.int64).reshape(-1, 3)
    return _Cells(
        names=list(index),
        first=keys[:, 0],
        second=keys[:, 1],
        outcome=keys[:, 2],
        counts=np.array(list(merged.values()), dtype=np.int64),
        wins=np.array([decisive.get(i, 0) for i in range(k)], dtype=np.int64),
        ties=np.array([tied.get(i, 0) for i in range(k)], dtype=np.int64),
    )


def _score_matrices(cells: _Cells, counts: np.ndarray) -> np.ndarray:
    """counts (batch, cells) -> scores (batch, k, k): wins of row over column, ties half."""
    k = len(cells.names)
    scores = np.zeros((counts.shape[0], k, k))
    for outcome, (to_first, to_second) in enumerate(SCORE_SHARES):
        # Within one outcome every (i, j) occurs once, so fancy-index += adds each cell.
        sel = cells.outcome == outcome
        i, j = cells.first[sel], cells.second[sel]
        scores[:, i, j] += to_first * counts[:, sel]
        scores[:, j, i] += to_second * counts[:, sel]
    return scores


def _fit(scores: np.ndarray, baseline: int) -> np.ndarray:
    """scores (batch, k, k) -> ratings (batch, k), the ridge only where it is needed."""
    ridge = np.where(strongly_connected(scores), 0.0, RIDGE)
    return BASE_RATING + SCALE * fit_strengths(scores, baseline, ridge)


def _bootstrap(
    cells: _Cells,
    baseline: int,
    rounds: int,
    seed: int,
    progress: Callable[[int, int], None] | None,
) -> np.ndarray:
    """(rounds, k) ratings of the resampled battles; NaN for an entrant a round left out."""
    rng = np.random.default_rng(seed)
    total = int(cells.counts.sum())
    share = cells.counts / total
    k = len(cells.names)
    chunk = max(1, min(BOOTSTRAP_CHUNK, CHUNK_CELLS // k**2))
    out = [np.empty((0, k))]
    for start in range(0, rounds, chunk):
        draws = rng.multinomial(total, share, size=min(chunk, rounds - start))
        scores = _score_matrices(cells, draws)
        ratings = _fit(scores, baseline)
        played = (scores + scores.transpose(0, 2, 1)).sum(axis=2) > 0
        out.append(np.where(played, ratings, np.nan))
        if progress is not None:
            progress(start + len(draws), rounds)
    return np.concatenate(out)


def _interval(samples: np.ndarray) -> tuple[float | None, float | None]:
    """The 95% percentile interval of one entrant's bootstrap ratings: None without rounds,
    and a round that drew none of its battles says nothing about it."""
    kept = samples[~np.isnan(samples)]
    if kept.size == 0:
        return None, None
    low, high = np.percentile(kept, [2.5, 97.5])
    return float(low), float(high)


def fit_ratings(
    counts: Iterable[BattleCount],
    *,
    baseline: str | None = None,
    bootstrap_rounds: int = 1000,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> RatingTable:
    """The rating table of the battles. The entrant named `baseline` (the base model) is
    rated exactly 1000 when it battled, else the first entrant; `progress(done, total)`
    follows the bootstrap."""
    if bootstrap_rounds < 0:
        raise ValueError("the number of bootstrap rounds cannot be negative")
    cells = _cells(counts)
    if not cells.names:
        return RatingTable([], None, [], [], [], bootstrap_rounds, seed)
    anchor = baseline if baseline in cells.names else cells.names[0]
    base = cells.names.index(anchor)
    scores = _score_matrices(cells, cells.counts[None, :])
    point = _fit(scores, base)[0]
    samples = _bootstrap(cells, base, bootstrap_rounds, seed, progress)
    games = (scores + scores.transpose(0, 2, 1))[0]
    rows = []
    for i, name in enumerate(cells.names):
        low, high = _interval(samples[:, i])
        battles = int(round(games[i].sum()))
        rows.append(
            Rating(
                name, float(point[i]), low, high, battles, int(cells.wins[i]), int(cells.ties[i])
            )
        )
    rows.sort(key=lambda r: (-r.rating, r.model))
    return RatingTable(
        ratings=rows,
        baseline=anchor,
        models=list(cells.names),
        win_fraction=_win_fraction(scores[0], games),
        battle_counts=[[int(round(n)) for n in row] for row in games],
        bootstrap_rounds=bootstrap_rounds,
        seed=seed,
    )


def _win_fraction(scores: np.ndarray, games: np.ndarray) -> list[list[float | None]]:
    k = len(games)
    return [
        [float(scores[i, j] / games[i, j]) if games[i, j] > 0 else None for j in range(k)]
        for i in range(k)
    ]


def rating_of(table: RatingTable, model: str) -> Rating:
    """The row of one entrant."""
    for row in table.ratings:
        if row.model == model:
            return row
    raise KeyError(f"{model!r} has no battles")
