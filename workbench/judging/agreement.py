"""How well two sources of labels agree (the AI judge and people, the judge and the rules),
and which AI labels a person should look at first.

Labels are compared per unordered completion pair. Each active label gives, for its
pair, "first" (the completion with the lower id won), "second" or "tie"; a ranking
gives every pair it implies. "Both bad" says nothing about which is better and is left
out. When a source labelled a pair more than once, its latest label counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from workbench.labels.comparisons import Comparison, active_comparisons
from workbench.project import Project

OUTCOMES = ("first", "second", "tie")
REVIEW_ORDERS = ("confidence", "disagreement")
Pair = tuple[int, int]


def pair_outcomes(comparison: Comparison) -> dict[Pair, str]:
    """What one label says about each completion pair it covers (lower id first)."""
    if comparison.outcome == "ranking":
        order = comparison.ranking or []
        return {
            _key(winner, loser): _winner(winner, loser)
            for i, winner in enumerate(order)
            for loser in order[i + 1 :]
        }
    if comparison.outcome not in ("a", "b", "tie") or len(comparison.completion_ids) != 2:
        return {}
    first, second = comparison.completion_ids
    if comparison.outcome == "tie":
        return {_key(first, second): "tie"}
    winner, loser = (first, second) if comparison.outcome == "a" else (second, first)
    return {_key(winner, loser): _winner(winner, loser)}


def _key(x: int, y: int) -> Pair:
    return (x, y) if x < y else (y, x)


def _winner(winner: int, loser: int) -> str:
    return "first" if winner < loser else "second"


def latest_outcomes(project: Project, source: str, judge: str | None = None) -> dict[Pair, str]:
    """Per pair, what the source's latest active label says (only ``judge``'s, if given)."""
    outcomes: dict[Pair, str] = {}
    for comparison in active_comparisons(project, source):  # in id order: later ones win
        if judge is None or comparison.judge == judge:
            outcomes.update(pair_outcomes(comparison))
    return outcomes


@dataclass
class Agreement:
    """``percent`` is the share of shared pairs with the same outcome (0-100, None with no
    shared pair); ``kappa`` is Cohen's kappa (None when chance agreement is 1, i.e.
    both sources always give the same single outcome); ``counts[a][b]`` counts pairs
    source a called a and source b called b."""

    source_a: str
    source_b: str
    pairs: int
    agreed: int
    percent: float | None
    kappa: float | None
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "source_a": self.source_a,
            "source_b": self.source_b,
            "pairs": self.pairs,
            "agreed": self.agreed,
            "percent": self.percent,
            "kappa": self.kappa,
            "counts": self.counts,
        }


def cohen_kappa(pairs: list[tuple[str, str]]) -> float | None:
    """Cohen's kappa of two raters over the same items: (p_o - p_e) / (1 - p_e)."""
    n = len(pairs)
    if n == 0:
        return None
    observed = sum(a == b for a, b in pairs) / n
    rater_a, rater_b = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    chance = sum(rater_a[k] * rater_b[k] for k in OUTCOMES) / (n * n)
    if chance >= 1.0:
        return None
    return (observed - chance) / (1.0 - chance)


def agreement(
    project: Project,
    source_a: str = "ai",
    source_b: str = "human",
    *,
    judge_a: str | None = None,
    judge_b: str | None = None,
) -> Agreement:
    """Agreement between two sources ("ai", "human", "rule") on the pairs both labelled;
    ``judge_a`` / ``judge_b`` keep only one judge's labels of that source."""
    a = latest_outcomes(project, source_a, judge_a)
    b = latest_outcomes(project, source_b, judge_b)
    shared = [(a[pair], b[pair]) for pair in sorted(set(a) & set(b))]
    counts = {x: {y: 0 for y in OUTCOMES} for x in OUTCOMES}
    for x, y in shared:
        counts[x][y] += 1
    agreed = sum(x == y for x, y in shared)
    return Agreement(
        source_a=source_a if judge_a is None else f"{source_a} ({judge_a})",
        source_b=source_b if judge_b is None else f"{source_b} ({judge_b})",
        pairs=len(shared),
        agreed=agreed,
        percent=100.0 * agreed / len(shared) if shared else None,
        kappa=cohen_kappa(shared),
        counts=counts,
    )


@dataclass
class ReviewItem:
    comparison: Comparison
    disagrees_with: list[str]  # sources ("human", "rule") whose label for the pair differs


def review_queue(
    project: Project, order: str = "confidence", limit: int | None = 50, *, judge: str | None = None
) -> list[ReviewItem]:
    """Active AI labels to review: least confident first ("confidence"), or those that a
    human or rule label contradicts first, then the least confident ("disagreement")."""
    if order not in REVIEW_ORDERS:
        raise ValueError(f"The review order is one of {', '.join(REVIEW_ORDERS)}, not {order!r}.")
    others = {source: latest_outcomes(project, source) for source in ("human", "rule")}
    items = []
    for comparison in active_comparisons(project, "ai"):
        if judge is not None and comparison.judge != judge:
            continue
        said = pair_outcomes(comparison)
        against = [
            s
            for s, known in others.items()
            if any(pair in known and known[pair] != out for pair, out in said.items())
        ]
        items.append(ReviewItem(comparison, against))

    def confidence(item: ReviewItem) -> float:
        value = item.comparison.confidence
        return -1.0 if value is None else value  # unknown confidence: look first

    if order == "confidence":
        items.sort(key=confidence)
    else:
        items.sort(key=lambda item: (not item.disagrees_with, confidence(item)))
    return items if limit is None else items[:limit]
