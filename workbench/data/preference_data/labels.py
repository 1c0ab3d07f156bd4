"""The rows a dataset is built from, read in a few queries: the active comparisons and
completion labels, and the texts of the completions and prompts they refer to."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from engine.training.examples import Prompt
from workbench.labels.comparisons import Comparison, active_comparisons
from workbench.labels.completion_labels import CompletionLabel, active_labels
from workbench.project import Project


@dataclass(frozen=True)
class PromptRow:
    value: Prompt  # the chat messages when the prompt has them, else its text
    split: str


@dataclass(frozen=True)
class CompletionRow:
    prompt_id: int
    text: str


@dataclass
class LabelRows:
    comparisons: list[Comparison]
    labels: list[CompletionLabel]
    completions: dict[int, CompletionRow]
    prompts: dict[int, PromptRow]
    # When each label was made: a run can train on the labels gathered since a time.
    comparison_times: dict[int, float] = field(default_factory=dict)
    label_times: dict[int, float] = field(default_factory=dict)


def prompt_value(text: str | None, messages: str | None) -> Prompt:
    if messages is not None:
        return json.loads(messages)
    assert text is not None, "the prompts table's CHECK keeps text or messages"
    return text


def load_label_rows(project: Project) -> LabelRows:
    comparisons = active_comparisons(project)
    labels = active_labels(project)
    completion_ids = {i for c in comparisons for i in c.completion_ids}
    completion_ids |= {label.completion_id for label in labels}
    completions = {
        id_: CompletionRow(prompt_id, text)
        for id_, prompt_id, text in project.db.execute(
            "SELECT id, prompt_id, text FROM completions "
            "WHERE id IN (SELECT value FROM json_each(?))",
            [json.dumps(sorted(completion_ids))],
        )
    }
    prompt_ids = {c.prompt_id for c in comparisons}
    prompt_ids |= {row.prompt_id for row in completions.values()}
    prompts = {
        id_: PromptRow(prompt_value(text, messages), split)
        for id_, text, messages, split in project.db.execute(
            "SELECT id, text, messages, split FROM prompts "
            "WHERE id IN (SELECT value FROM json_each(?))",
            [json.dumps(sorted(prompt_ids))],
        )
    }
    comparison_times = dict(
        project.db.execute("SELECT id, created_at FROM comparisons WHERE superseded_by IS NULL")
    )
    label_times = dict(
        project.db.execute(
            "SELECT id, created_at FROM completion_labels WHERE superseded_by IS NULL"
        )
    )
    return LabelRows(comparisons, labels, completions, prompts, comparison_times, label_times)
