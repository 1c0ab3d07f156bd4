import math
import warnings

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from workbench.arena.ratings import BattleCount, count_battles, fit_ratings, rating_of

C = math.log(10) / 400  # natural log-odds per rating point


def independent_fit(battles, baseline):
    """Maximum likelihood straight from the raw battles, a tie (or both bad) as two half
    battles, one won by each side; BFGS in rating points with the baseline held at 1000."""
    names = list(dict.fromkeys(n for a, b, _ in battles for n in (a, b)))
    free = [n for n in names if n != baseline]
    index = {n: i for i, n in enumerate(free)}
    # (winner, loser, weight) rows; index -1 is the baseline
    rows = []
    for a, b, winner in battles:
        ia, ib = index.get(a, -1), index.get(b, -1)
        if winner == "model_a":
            rows.append((ia, ib, 1.0))
        elif winner == "model_b":
            rows.append((ib, ia, 1.0))
        else:
            rows += [(ia, ib, 0.5), (ib, ia, 0.5)]
    won, lost, weight = (np.array(col) for col in zip(*rows, strict=True))

    def negative(ratings):
        full = np.append(ratings, 0.0)  # relative to the baseline
        margin = C * (full[won] - full[lost])
        value = -(weight * log_expit(margin)).sum()
        push = weight * C * expit(-margin)
        grad = np.zeros(len(full))
        np.add.at(grad, won, -push)
        np.add.at(grad, lost, push)
        return value, grad[:-1]

    result = minimize(
        negative, np.zeros(len(free)), jac=True, method="BFGS", options={"gtol": 1e-10}
    )
    ratings = {n: 1000.0 + float(result.x[i]) for n, i in index.items()}
    return {**ratings, baseline: 1000.0}


def random_battles(rng, strengths, n, tie_rate=0.2, skip_pairs=()):
    names = list(strengths)
    pairs = [
        (a, b)
        for i, a in enumerate(names)
        for b in names[i + 1 :]
        if (a, b) not in skip_pairs and (b, a) not in skip_pairs
    ]
    battles = []
    for _ in range(n):
        a, b = pairs[rng.integers(len(pairs))]
        if rng.random() < 0.5:
            a, b = b, a
        if rng.random() < tie_rate:
            winner = "tie" if rng.random() < 0.6 else "tie (bothbad)"
        else:
            p = 1 / (1 + 10 ** ((strengths[b] - strengths[a]) / 400))
            winner = "model_a" if rng.random() < p else "model_b"
        battles.append((a, b, winner))
    return battles


SYNTHETIC = [
    # (seed, strengths, battles, tie rate, pairs that never meet)
    (1, {"base": 1000, "b": 1100, "c": 950, "d": 1300, "e": 880, "f": 1010}, 800, 0.2, ()),
    (2, {"x": 1200, "y": 1000, "z": 1050}, 120, 0.5, ()),
    (3, {"base": 1000, "p": 1400, "q": 700, "r": 1000}, 400, 0.1, (("p", "q"), ("base", "r"))),
    (4, {"m": 1000, "n": 1000}, 30, 0.3, ()),
]


@pytest.mark.parametrize("seed,strengths,n,tie_rate,skip", SYNTHETIC)
def test_agrees_with_an_independent_maximum_likelihood_fit(seed, strengths, n, tie_rate, skip):
    battles = random_battles(np.random.default_rng(seed), strengths, n, tie_rate, skip)
    baseline = next(iter(strengths))
    expected = independent_fit(battles, baseline)
    table = fit_ratings(count_battles(battles), baseline=baseline, bootstrap_rounds=0)
    assert table.baseline == baseline
    assert {r.model: r.rating for r in table.ratings} == pytest.approx(expected, abs=0.5)
    assert rating_of(table, baseline).rating == 1000.0


def simulated_counts(rng, truth, n, tie_rate):
    """Aggregated battles whose expected score (ties half) follows Bradley-Terry exactly:
    ties come at a fixed rate, and the decisive share is set so the score matches."""
    names = list(truth)
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    per_pair = rng.multinomial(n, np.full(len(pairs), 1 / len(pairs)))
    counts = []
    for (a, b), m in zip(pairs, per_pair, strict=True):
        score = 1 / (1 + 10 ** ((truth[b] - truth[a]) / 400))
        a_wins = (score - tie_rate / 2) / (1 - tie_rate)
        shares = [(1 - tie_rate) * a_wins, (1 - tie_rate) * (1 - a_wins)]
        shares += [tie_rate * 0.7, tie_rate * 0.3]
        outcomes = rng.multinomial(m, shares)
        for winner, k in zip(("model_a", "model_b", "tie", "tie (bothbad)"), outcomes, strict=True):
            counts.append(BattleCount(a, b, winner, int(k)))
    return counts


def test_bootstrap_intervals_cover_the_true_ratings_about_95_percent_of_the_time():
    # Not centred on 1000, so ratings left unanchored to the baseline miss the truth; gaps
    # of 100 points, about 7 standard errors at 3,000 battles, so the order always shows.
    truth = {"base": 1000, "b": 1100, "c": 900, "d": 1300, "e": 1200}
    order = sorted(truth, key=truth.get, reverse=True)
    rng = np.random.default_rng(2024)
    covered = {name: 0 for name in truth if name != "base"}
    repetitions = 200
    for rep in range(repetitions):
        counts = simulated_counts(rng, truth, 3000, tie_rate=0.15)
        table = fit_ratings(counts, baseline="base", bootstrap_rounds=300, seed=rep)
        assert [r.model for r in table.ratings] == order
        base = rating_of(table, "base")
        assert (base.rating, base.ci_low, base.ci_high) == (1000.0, 1000.0, 1000.0)
        for name in covered:
            row = rating_of(table, name)
            covered[name] += row.ci_low <= truth[name] <= row.ci_high
    pooled = sum(covered.values()) / (len(covered) * repetitions)
    # A correct 95% interval gives 0.95 +- 0.008 (one standard error) here; a 50% one, or
    # one off by the 100 points of a wrong anchor, lands far outside.
    assert 0.90 <= pooled <= 0.99, covered
    for name, hits in covered.items():
        assert hits / repetitions >= 0.85, (name, hits)


def test_same_votes_and_seed_give_the_identical_table():
    battles = random_battles(np.random.default_rng(5), {"base": 1000, "a": 1080, "b": 960}, 200)
    first = fit_ratings(count_battles(battles), baseline="base", bootstrap_rounds=250, seed=7)
    again = fit_ratings(count_battles(battles), baseline="base", bootstrap_rounds=250, seed=7)
    other = fit_ratings(count_battles(battles), baseline="base", bootstrap_rounds=250, seed=8)
    assert first == again
    assert [r.rating for r in first.ratings] == [r.rating for r in other.ratings]
    assert [r.ci_low for r in first.ratings] != [r.ci_low for r in other.ratings]


def test_baseline_is_the_base_model_else_the_first_entrant():
    battles = [("a", "base", "model_a"), ("base", "b", "model_a"), ("b", "a", "tie")] * 3
    table = fit_ratings(count_battles(battles), baseline="base", bootstrap_rounds=50)
    assert table.baseline == "base" and rating_of(table, "base").rating == 1000.0
    without = [battle for battle in battles if "base" not in battle[:2]]
    table = fit_ratings(count_battles(without), baseline="base", bootstrap_rounds=50)
    assert table.baseline == "b" and rating_of(table, "b").rating == 1000.0
    assert table.models == ["b", "a"]


def test_counts_matrices_and_rows():
    battles = [
        ("a", "b", "model_a"),
        ("a", "b", "model_a"),
        ("b", "a", "model_a"),
        ("b", "a", "tie"),
        ("c", "a", "tie (bothbad)"),
        ("b", "c", "model_b"),
    ]
    table = fit_ratings(count_battles(battles), bootstrap_rounds=0)
    assert table.models == ["a", "b", "c"] and table.baseline == "a"
    assert table.battle_counts == [[0, 4, 1], [4, 0, 1], [1, 1, 0]]
    assert table.win_fraction == [
        [None, 2.5 / 4, 0.5],
        [1.5 / 4, None, 0.0],
        [0.5, 1.0, None],
    ]
    rows = {r.model: (r.battles, r.wins, r.ties, r.ci_low, r.ci_high) for r in table.ratings}
    assert rows == {
        "a": (5, 2, 2, None, None),
        "b": (5, 1, 1, None, None),
        "c": (2, 1, 1, None, None),
    }
    ratings = [r.rating for r in table.ratings]
    assert ratings == sorted(ratings, reverse=True)


def test_entrants_that_never_lost_or_never_won_stay_finite_without_warnings():
    rng = np.random.default_rng(11)
    battles = random_battles(rng, {"base": 1000, "b": 1050, "c": 980}, 150)
    battles += [("champ", name, "model_a") for name in ("base", "b", "c")] * 4
    battles += [(name, "dud", "model_a") for name in ("base", "b")] * 3
    battles += [("loner", "solo", "model_a")]  # a pair that met nobody else
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = fit_ratings(count_battles(battles), baseline="base", bootstrap_rounds=300, seed=1)
    values = [v for r in table.ratings for v in (r.rating, r.ci_low, r.ci_high)]
    assert all(math.isfinite(v) for v in values)
    assert table.ratings[0].model == "champ" and table.ratings[-1].model == "dud"
    champ, dud = rating_of(table, "champ"), rating_of(table, "dud")
    assert champ.ci_low <= champ.rating <= champ.ci_high
    assert dud.ci_low <= dud.rating <= dud.ci_high
    assert rating_of(table, "loner").rating > rating_of(table, "solo").rating
    # Entrants with proper estimates barely move: the ridge is a vague prior.
    connected = [b for b in battles if {"champ", "dud", "loner", "solo"}.isdisjoint(b[:2])]
    alone = fit_ratings(count_battles(connected), baseline="base", bootstrap_rounds=0)
    for name in ("b", "c"):
        assert rating_of(table, name).rating == pytest.approx(
            rating_of(alone, name).rating, abs=2.0
        )


def test_two_entrants_one_always_winning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = fit_ratings([BattleCount("base", "new", "model_b", 40)], baseline="base", seed=3)
    new = rating_of(table, "new")
    assert math.isfinite(new.rating) and new.rating > 1000.0
    assert new.ci_low is not None and math.isfinite(new.ci_low)


def test_no_battles_and_bad_input():
    empty = fit_ratings([], bootstrap_rounds=10)
    assert empty.ratings == [] and empty.baseline is None
    with pytest.raises(ValueError, match="winner must be one of"):
        fit_ratings([BattleCount("a", "b", "draw")])
    with pytest.raises(ValueError, match="cannot battle itself"):
        fit_ratings([BattleCount("a", "a", "tie")])
    with pytest.raises(ValueError, match="negative"):
        fit_ratings([BattleCount("a", "b", "tie")], bootstrap_rounds=-1)
