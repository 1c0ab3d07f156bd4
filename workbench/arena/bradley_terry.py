"""Bradley-Terry strengths by maximum likelihood, many fits at once (the bootstrap's rounds).

The model (Bradley & Terry 1952): P(i beats j) = 1 / (1 + exp(s_j - s_i)). Its input is a
score matrix, scores[i, j] = the battles i won against j plus half of their ties, the way
FastChat and lmarena count a tie or a "both bad": half a win to each side. The fit is
Newton's method on the concave log-likelihood with one strength (the baseline's) held at 0,
which removes the model's one free shift; each step is halved until the likelihood does
not drop, so it converges from any start.

An entrant that never lost (or never won) has no finite maximum likelihood strength: the
likelihood keeps rising as it moves away. More generally the estimate exists only when,
for every split of the entrants into two groups, each group scored against the other
(Hunter 2004, "MM algorithms for generalized Bradley-Terry models", assumption 1). When a
fit's battles fail that test, and only then, a ridge term -RIDGE/2 * sum(s_i^2) is added
to its log-likelihood: a vague Gaussian prior centred on the baseline, of standard
deviation 10 (about 1,700 rating points), which keeps every strength finite and the
Newton system positive definite. Such an entrant then comes out far above (below) the
others rather than at infinity, and groups of entrants that never met are each pulled
towards the baseline.
"""

from __future__ import annotations

import math

import numpy as np

RIDGE = 0.01
MAX_NEWTON_STEPS = 100
MAX_HALVINGS = 60
STEP_TOLERANCE = 1e-10  # in natural log-odds; 1e-10 of a unit is far below a rating point


def strongly_connected(scores: np.ndarray) -> np.ndarray:
    """(batch, k, k) score matrices -> (batch,) bools: whether the graph "i scored against
    j" reaches every entrant from every other, Hunter's condition for a finite estimate."""
    k = scores.shape[-1]
    reach = (scores > 0) | np.eye(k, dtype=bool)
    # Squaring the reachability matrix doubles the path length it covers.
    for _ in range(math.ceil(math.log2(k - 1)) if k > 2 else 1):
        as_float = reach.astype(np.float64)
        reach = reach | (as_float @ as_float > 0)
    return np.asarray(reach.all(axis=(1, 2)))


def log_likelihood(scores: np.ndarray, strengths: np.ndarray, ridge: np.ndarray) -> np.ndarray:
    """scores (batch, k, k), strengths (batch, k), ridge (batch,) -> (batch,) penalised
    log-likelihoods."""
    diff = strengths[:, :, None] - strengths[:, None, :]  # (batch, k, k): s_i - s_j
    # log sigmoid(d) = -log(1 + e^-d), stable for large |d| (numpy, so the app need not load scipy)
    fit = (scores * -np.logaddexp(0.0, -diff)).sum(axis=(1, 2))
    return fit - 0.5 * ridge * (strengths**2).sum(axis=1)


def _newton_step(scores: np.ndarray, strengths: np.ndarray, ridge: np.ndarray, free: np.ndarray):
    """The Newton direction of each fit for the free strengths (the baseline's stays 0)."""
    k = scores.shape[-1]
    games = scores + scores.transpose(0, 2, 1)  # (batch, k, k): battles between i and j
    # sigmoid(d) = (1 + tanh(d / 2)) / 2, which cannot overflow: P(i beats j), (batch, k, k)
    p = 0.5 * (1.0 + np.tanh(0.5 * (strengths[:, :, None] - strengths[:, None, :])))
    gradient = (scores - games * p).sum(axis=2) - ridge[:, None] * strengths  # (batch, k)
    weight = games * p * (1.0 - p)
    information = -weight  # minus the Hessian: a weighted graph Laplacian, plus the ridge
    diagonal = np.arange(k)
    information[:, diagonal, diagonal] = weight.sum(axis=2) + ridge[:, None]
    reduced = information[:, free][:, :, free]  # (batch, k-1, k-1)
    step = np.zeros_like(strengths)
    step[:, free] = np.linalg.solve(reduced, gradient[:, free][..., None])[..., 0]
    return step


def fit_strengths(scores: np.ndarray, baseline: int, ridge: np.ndarray) -> np.ndarray:
    """scores (batch, k, k) float, ridge (batch,) -> strengths (batch, k) in natural
    log-odds, the baseline's exactly 0. Give a fit ridge 0 only when `strongly_connected`
    says its estimate exists."""
    batch, k, _ = scores.shape
    strengths = np.zeros((batch, k))
    if k < 2:
        return strengths
    free = np.arange(k) != baseline
    objective = log_likelihood(scores, strengths, ridge)
    for _ in range(MAX_NEWTON_STEPS):
        step = _newton_step(scores, strengths, ridge, free)
        scale = np.ones(batch)
        for _ in range(MAX_HALVINGS):
            trial = strengths + scale[:, None] * step
            trial_objective = log_likelihood(scores, trial, ridge)
            # A little slack: at the optimum rounding alone can lower the sum.
            worse = trial_objective < objective - 1e-12 * (1.0 + np.abs(objective))
            if not worse.any():
                break
            scale = np.where(worse, scale / 2, scale)
        strengths, objective = trial, trial_objective
        if np.abs(scale[:, None] * step).max() < STEP_TOLERANCE:
            break
    return strengths
