"""Reviewing AI labels: the queue as rows a person can read (prompt, both completions in the
order the judge was shown them, the judge's pick and confidence, what people and rules
said about the same pair), and the person's answer.

A review is a human label on the same pair that supersedes the AI label (see
``comparisons.override``): confirming records the judge's own outcome, overriding another
one. Either way both labels are kept, so how often reviews confirm the judge can be
counted later (``review_tally``).
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.data.prompts import get_prompt
from workbench.judging.agreement import Pair, latest_outcomes, review_queue
from workbench.labels.comparisons import Comparison, get_comparison, override
from workbench.project import Project

REVIEW_OUTCOMES = ("a", "b", "tie", "both_bad")


@dataclass
class ReviewRow:
    comparison_id: int
    prompt: str
    first: str  # the completion the judge was shown first ("A")
    second: str
    outcome: str  # the judge's pick: a, b or tie
    confidence: float | None
    judge: str | None
    human: str | None  # the latest human label of the pair, in this row's order (a/b/tie)
    rule: str | None
    disagrees_with: list[str]
    reference: str | None = None  # the prompt's reference answer, when it has one


def in_row_order(said: str | None, pair: Pair, first_id: int) -> str | None:
    """An outcome of ``latest_outcomes`` ("first" = the lower id won) as a / b / tie of a
    label that showed ``first_id`` first."""
    if said is None or said == "tie":
        return said
    winner = pair[0] if said == "first" else pair[1]
    return "a" if winner == first_id else "b"


def _texts(project: Project, ids: list[int]) -> dict[int, str]:
    marks = ",".join("?" * len(ids))
    rows = project.db.execute(f"SELECT id, text FROM completions WHERE id IN ({marks})", ids)
    return dict(rows.fetchall())


def review_rows(
    project: Project, order: str = "confidence", judge: str | None = None, limit: int | None = 200
) -> list[ReviewRow]:
    """The review queue (``agreement.review_queue``) with the texts to show."""
    items = [
        i
        for i in review_queue(project, order, limit=None, judge=judge)
        if len(i.comparison.completion_ids) == 2
    ][:limit]
    ids = sorted({cid for item in items for cid in item.comparison.completion_ids})
    texts = _texts(project, ids) if ids else {}
    others = {source: latest_outcomes(project, source) for source in ("human", "rule")}
    prompts: dict[int, str] = {}
    references: dict[int, str | None] = {}
    rows = []
    for item in items:
        c = item.comparison
        first, second = c.completion_ids
        pair = (min(first, second), max(first, second))
        if c.prompt_id not in prompts:
            prompt = get_prompt(project, c.prompt_id)
            prompts[c.prompt_id] = prompt.display_text
            references[c.prompt_id] = prompt.reference
        rows.append(
            ReviewRow(
                c.id,
                prompts[c.prompt_id],
                texts.get(first, ""),
                texts.get(second, ""),
                c.outcome,
                c.confidence,
                c.judge,
                in_row_order(others["human"].get(pair), pair, first),
                in_row_order(others["rule"].get(pair), pair, first),
                item.disagrees_with,
                references[c.prompt_id],
            )
        )
    return rows


def _reviewable(project: Project, comparison_id: int) -> Comparison:
    label = get_comparison(project, comparison_id)
    if label.source == "human":
        raise ValueError("That label is a person's, not the judge's: there is nothing to review.")
    if label.superseded_by is not None:
        raise ValueError(
            f"This AI label was already reviewed (by label {label.superseded_by}); "
            "refresh the review queue."
        )
    return label


def confirm(project: Project, comparison_id: int, seconds: float | None = None) -> int:
    """The person agrees with the judge: a human label with the judge's outcome."""
    label = _reviewable(project, comparison_id)
    return override(project, comparison_id, label.outcome, seconds=seconds, ranking=label.ranking)


def correct(
    project: Project, comparison_id: int, outcome: str, seconds: float | None = None
) -> int:
    """The person's own outcome (a, b, tie or both_bad) replaces the judge's."""
    if outcome not in REVIEW_OUTCOMES:
        raise ValueError(f"A review says one of {', '.join(REVIEW_OUTCOMES)}, not {outcome!r}.")
    _reviewable(project, comparison_id)
    return override(project, comparison_id, outcome, seconds=seconds)


@dataclass
class ReviewTally:
    reviewed: int  # AI labels a person has since answered
    confirmed: int  # ... with the same outcome

    @property
    def percent(self) -> float | None:
        return 100.0 * self.confirmed / self.reviewed if self.reviewed else None


def review_tally(project: Project, judge: str | None = None) -> ReviewTally:
    """How often reviews kept the judge's outcome (only ``judge``'s labels, if given)."""
    query = (
        "SELECT ai.outcome, human.outcome FROM comparisons ai JOIN comparisons human "
        "ON human.id = ai.superseded_by WHERE ai.source = 'ai' AND human.source = 'human'"
    )
    args: list = []
    if judge is not None:
        query, args = query + " AND ai.judge = ?", [judge]
    rows = project.db.execute(query, args).fetchall()
    return ReviewTally(len(rows), sum(ai == human for ai, human in rows))
