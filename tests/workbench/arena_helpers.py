"""A stored comparison of the demo base model and two checkpoints (never loaded), with
their answers written and scored directly, so arena tests need no generation."""

from __future__ import annotations

from workbench.comparing.choices import Decoding, EntrantChoice, PromptSet
from workbench.comparing.store import Comparison, find_or_create
from workbench.data.completions import CompletionRecord, add_completions
from workbench.data.prompts import get_prompt
from workbench.project import Project
from workbench.rules.scoring import score_rows, store_scores
from workbench.training.runs import add_checkpoint, create_run


def fake_checkpoint(project: Project, name: str, step: int = 4) -> int:
    run_id = create_run(
        project,
        algorithm="dpo",
        config={},
        dataset={},
        dataset_hash="x",
        model_id=1,
        parent_checkpoint_id=None,
        job_id=None,
        name=name,
        max_steps=step,
    )
    adapter = project.path / "runs" / name / f"checkpoint-{step}"
    adapter.mkdir(parents=True, exist_ok=True)
    return add_checkpoint(project, run_id, step, adapter, {})


def arena_comparison(
    project: Project, prompts: int = 6, split: str = "eval"
) -> tuple[Comparison, list[int]]:
    """Base and two checkpoints on `prompts` prompts of `split`; the base and the first
    checkpoint write the same answer to the first prompt. Returns the checkpoint ids too."""
    checkpoints = [fake_checkpoint(project, "round one"), fake_checkpoint(project, "round two")]
    comparison, _ = find_or_create(
        project,
        [EntrantChoice(), *(EntrantChoice(checkpoint_id=c) for c in checkpoints)],
        PromptSet(split=split, limit=prompts),
        Decoding(),
    )
    texts = {
        0: ["The answer is 1."] + [f"base answer {i}" for i in range(1, prompts)],
        1: ["The answer is 1."] + [f"first checkpoint answer {i}" for i in range(1, prompts)],
        2: [f"second checkpoint answer {i}" for i in range(prompts)],
    }
    for entry in comparison.entries:
        records = [
            CompletionRecord(
                prompt_id,
                texts[entry.position][i],
                entry.model_id,
                entry.checkpoint_id,
                None,
                comparison.sampling,
                0,
                5,
            )
            for i, prompt_id in enumerate(comparison.prompt_ids)
        ]
        ids = add_completions(project, records)
        prompts = [get_prompt(project, p) for p in comparison.prompt_ids]
        rows = [
            {"prompt": p.display_text, "text": r.text, "reference": p.reference}
            for p, r in zip(prompts, records, strict=True)
        ]
        store_scores(project, ids, score_rows(comparison.rules, rows), entry.evaluation_id)
    assert get_prompt(project, comparison.prompt_ids[0]).split == split
    return comparison, checkpoints
