"""Tiny projects with hand-made labels, for the dataset, format and CLI tests."""

from __future__ import annotations

from workbench.data.completions import CompletionRecord, add_completions
from workbench.data.prompts import PromptRecord, add_prompts
from workbench.labels.comparisons import add_comparison
from workbench.project import Project


class Tiny:
    def __init__(self, path):
        self.project = Project.create(path)

    def prompt(
        self, text: str | None = None, messages: list | None = None, split: str = "train"
    ) -> int:
        return add_prompts(self.project, [PromptRecord(text=text, messages=messages, split=split)])[
            0
        ]

    def completions(self, prompt_id: int, *texts: str) -> list[int]:
        return add_completions(
            self.project, [CompletionRecord(prompt_id=prompt_id, text=t) for t in texts]
        )

    def compare(
        self, prompt_id: int, ids: list[int], outcome: str, source: str = "human", **kwargs
    ) -> int:
        return add_comparison(self.project, prompt_id, ids, outcome, source, **kwargs)

    def pair(self, prompt_id: int, chosen: str, rejected: str, **kwargs) -> int:
        """A fresh pair of completions, the first preferred."""
        return self.compare(prompt_id, self.completions(prompt_id, chosen, rejected), "a", **kwargs)

    def count(self, table: str) -> int:
        return self.project.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def as_tuples(dataset) -> tuple[list, list]:
    """A dataset's content, comparable across projects (ids differ, content does not)."""
    return (
        [(p.key, p.prompt, p.chosen, p.rejected) for p in dataset.pairs],
        [(u.key, u.prompt, u.completion, u.desirable) for u in dataset.unpaired],
    )
