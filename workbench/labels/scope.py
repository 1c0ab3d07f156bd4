"""What a human can still label: for each prompt in scope, its distinct completions and
the pairs of them a human has already labelled.

Two completions with the same text (after trimming spaces and line ends) are one candidate: asking a
rater to compare a text with itself wastes their time and gives no training signal. The
lowest id stands for all completions with its text, and a label on any of them counts
for that text.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field

from workbench.project import Project


@dataclass(frozen=True)
class LabelFilters:
    """Which prompts and completions the queue serves: a prompt split, and the completions
    of one base model (without adapter) or of one checkpoint; None means all."""

    split: str | None = None
    model_id: int | None = None
    checkpoint_id: int | None = None

    def __post_init__(self):
        if self.model_id is not None and self.checkpoint_id is not None:
            raise ValueError("filter by a base model or by a checkpoint, not both")

    def completion_clause(self, completion: str = "c") -> tuple[str, list]:
        """WHERE for completions aliased `completion`, joined with their prompt as `p`."""
        clauses: list[str] = []
        params: list[str | int] = []
        if self.split is not None:
            clauses.append("p.split = ?")
            params.append(self.split)
        if self.checkpoint_id is not None:
            clauses.append(f"{completion}.checkpoint_id = ?")
            params.append(self.checkpoint_id)
        elif self.model_id is not None:
            clauses.append(f"{completion}.model_id = ? AND {completion}.checkpoint_id IS NULL")
            params.append(self.model_id)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


@dataclass
class PromptState:
    prompt_id: int
    canonical: list[int] = field(default_factory=list)  # one id per distinct text, ascending
    labelled: set[frozenset[int]] = field(default_factory=set)  # canonical pairs

    @property
    def servable(self) -> bool:
        return len(self.canonical) >= 2

    def open_pairs(self) -> list[tuple[int, int]]:
        return [
            pair
            for pair in itertools.combinations(self.canonical, 2)
            if frozenset(pair) not in self.labelled
        ]


@dataclass
class Scope:
    prompts: dict[int, PromptState]  # prompts with a completion in scope, by prompt id
    in_scope: set[int]  # every completion id in scope, duplicates of a text included

    def first(self, wanted, skipped: set[int]) -> PromptState | None:
        return next(
            (s for s in self.prompts.values() if s.prompt_id not in skipped and wanted(s)), None
        )


# Texts are compared in SQL, trimmed of spaces, tabs and line ends: the queue runs at every
# label, and moving every completion's text into Python each time would not scale.
TRIM = "' ' || char(9, 10, 13)"


def load_scope(project: Project, filters: LabelFilters) -> Scope:
    where, params = filters.completion_clause()
    scoped = f"FROM completions c JOIN prompts p ON p.id = c.prompt_id{where}"
    prompts: dict[int, PromptState] = {}
    for completion_id, prompt_id in project.db.execute(
        f"SELECT MIN(c.id) AS id, c.prompt_id {scoped} "
        f"GROUP BY c.prompt_id, trim(c.text, {TRIM}) ORDER BY c.prompt_id, id",
        params,
    ):
        prompts.setdefault(prompt_id, PromptState(prompt_id)).canonical.append(completion_id)
    in_scope = {row[0] for row in project.db.execute(f"SELECT c.id {scoped}", params)}
    orderings = human_orderings(project)
    labelled = {i for _, ids in orderings for i in ids} & in_scope
    canonical_of = _canonical_of(project, filters, labelled)
    for prompt_id, ordered in orderings:
        state = prompts.get(prompt_id)
        if state is not None:
            _mark_labelled(state, ordered, canonical_of)
    return Scope(prompts, in_scope)


def _canonical_of(project: Project, filters: LabelFilters, ids: set[int]) -> dict[int, int]:
    """For completions in scope: the lowest id in scope with the same prompt and text."""
    where, params = filters.completion_clause("d")
    rows = project.db.execute(
        "SELECT c.id, MIN(d.id) FROM completions c "
        f"JOIN completions d ON d.prompt_id = c.prompt_id "
        f"AND trim(d.text, {TRIM}) = trim(c.text, {TRIM}) "
        f"JOIN prompts p ON p.id = d.prompt_id{where}"
        f"{' AND' if where else ' WHERE'} c.id IN (SELECT value FROM json_each(?)) GROUP BY c.id",
        [*params, json.dumps(sorted(ids))],
    )
    return dict(rows.fetchall())


def human_orderings(project: Project) -> list[tuple[int, list[int]]]:
    """(prompt, completion ids) of each active human label: a ranking's order, or the pair."""
    rows = project.db.execute(
        "SELECT prompt_id, completion_ids, ranking FROM comparisons "
        "WHERE source = 'human' AND superseded_by IS NULL ORDER BY id"
    ).fetchall()
    return [(prompt_id, json.loads(ranking or shown)) for prompt_id, shown, ranking in rows]


def _mark_labelled(state: PromptState, ids: list[int], canonical_of: dict[int, int]) -> None:
    for a, b in itertools.combinations(ids, 2):
        if a in canonical_of and b in canonical_of and canonical_of[a] != canonical_of[b]:
            state.labelled.add(frozenset((canonical_of[a], canonical_of[b])))
