"""Which two entrants the next arena vote goes to: where a vote informs most.

A vote between i and j carries Fisher information p(1 - p) about the difference of
their strengths, p being the fitted chance that i wins: most when the two are rated
close (their intervals overlap), least when one is far ahead. Information already
gathered on that pair shrinks what one more vote adds, so the weight of a pair is
p(1 - p) / (1 + n_ij), n_ij the votes it has had. A pair that never met weighs 1/4, the
most any pair can, so new entrants and unplayed pairs come first.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping, Sequence

from workbench.arena.ratings import BASE_RATING, SCALE

TIE_TOLERANCE = 1e-9


def win_chance(rating_i: float, rating_j: float) -> float:
    """The Bradley-Terry chance that i beats j, from ratings on the 400-point scale."""
    return 1.0 / (1.0 + math.exp(-(rating_i - rating_j) / SCALE))


def pair_weight(rating_i: float, rating_j: float, battles: int) -> float:
    """What one more vote between i and j is worth (see the module doc)."""
    p = win_chance(rating_i, rating_j)
    return p * (1.0 - p) / (1.0 + battles)


def ranked_pairs(
    names: Sequence[str],
    battles: Mapping[frozenset[str], int],
    ratings: Mapping[str, float],
    rng: random.Random,
) -> list[tuple[str, str]]:
    """Every pair of `names`, the most informative first; pairs of equal weight in a random
    (seeded) order. An entrant without a rating counts as the baseline's 1000."""
    weighted = []
    for a, b in itertools.combinations(names, 2):
        weight = pair_weight(
            ratings.get(a, BASE_RATING),
            ratings.get(b, BASE_RATING),
            battles.get(frozenset((a, b)), 0),
        )
        weighted.append((weight, rng.random(), (a, b)))
    # Rounded so that pairs equal but for float noise are ordered by the random draw.
    weighted.sort(key=lambda w: (-round(w[0] / TIE_TOLERANCE), w[1]))
    return [pair for _, _, pair in weighted]
