"""A demo project with rule-style preference labels written directly (correct answer over
the answer plus one), so training tests need no sampling pass."""

from __future__ import annotations

import json

from workbench.data.completions import CompletionRecord, add_completions
from workbench.demo_project import build_demo_project
from workbench.labels.comparisons import add_comparison

FAST = [
    "max_steps=4",
    "eval_every=2",
    "checkpoint_every=2",
    "batch_size=4",
    "samples_per_eval=2",
    "sample_max_new_tokens=8",
]


def labelled_demo(path, prompts: int = 24, eval_prompts: int = 0):
    project = build_demo_project(path)
    for split, count in (("train", prompts), ("eval", eval_prompts)):
        rows = project.db.execute(
            "SELECT id, reference FROM prompts WHERE split = ? ORDER BY id LIMIT ?", [split, count]
        ).fetchall()
        for prompt_id, reference in rows:
            good, bad = add_completions(
                project,
                [
                    CompletionRecord(prompt_id, f"The answer is {reference}."),
                    CompletionRecord(prompt_id, f"The answer is {int(reference) + 1}."),
                ],
            )
            add_comparison(
                project, prompt_id, [good, bad], "a", "rule", judge="test", confidence=1.0
            )
    return project


def metric_names(project, run_id: int) -> set[str]:
    return {
        r[0]
        for r in project.db.execute("SELECT DISTINCT name FROM metrics WHERE run_id = ?", [run_id])
    }


def summary(project, run_id: int) -> dict:
    return json.loads(
        project.db.execute("SELECT summary FROM runs WHERE id = ?", [run_id]).fetchone()[0]
    )
