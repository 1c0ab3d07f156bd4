"""The label-by-rules job: score the completions of each prompt with the project's rules
and propose preferences (higher total reward beats lower), stored with source `rule`.

Optionally it first samples `generate` candidates per prompt, so a project with prompts
only can be labelled in one go. Prompts whose completions all score the same give no
preference: they are counted, not labelled.
"""

from __future__ import annotations

import itertools
from typing import Any

from workbench.data.completions import list_completions
from workbench.jobs.context import JobContext
from workbench.jobs.handlers.generate import generate_completions, select_prompts, store_completions
from workbench.labels.comparisons import add_comparison, labelled_pairs
from workbench.rules.scoring import score_rows, store_scores
from workbench.rules.store import rule_specs

# Candidates are sampled, not greedy: identical greedy completions give no preference.
CANDIDATE_SAMPLING = {"do_sample": True, "temperature": 1.0}


def candidate_rows(ctx: JobContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Distinct stored completions of the selected prompts, as rows to score."""
    rows = []
    for prompt in select_prompts(ctx.project, params):
        seen: set[str] = set()
        for completion in list_completions(ctx.project, prompt_id=prompt.prompt_id, limit=None):
            if completion.text in seen:
                continue
            seen.add(completion.text)
            rows.append(
                {
                    "prompt_id": prompt.prompt_id,
                    "prompt": prompt.display,
                    "reference": prompt.reference,
                    "text": completion.text,
                    "completion_id": completion.id,
                }
            )
    return rows


def preferred_pairs(scored: list[tuple[int, float]], limit: int) -> list[tuple[int, int, float]]:
    """(winner, loser, margin) for completions of one prompt, widest margins first."""
    pairs = [
        (a, b, sa - sb) if sa > sb else (b, a, sb - sa)
        for (a, sa), (b, sb) in itertools.combinations(scored, 2)
        if sa != sb
    ]
    pairs.sort(key=lambda p: (-p[2], p[0], p[1]))
    return pairs[:limit]


def run_label_rules(ctx: JobContext) -> dict[str, Any]:
    project, params = ctx.project, ctx.job.params
    specs = rule_specs(project, params.get("rule_ids"))
    count_tokens = None
    if int(params.get("generate", 0)) > 0:
        outcome = generate_completions(
            ctx, {**params, "n": int(params["generate"])}, sampling_defaults=CANDIDATE_SAMPLING
        )
        store_completions(ctx, outcome)
        count_tokens = outcome.count_tokens
    rows = candidate_rows(ctx, params)
    ctx.progress(0, len(rows), "scoring")
    batch = score_rows(specs, rows, count_tokens=count_tokens)
    store_scores(project, [row["completion_id"] for row in rows], batch)
    max_total = sum(abs(s.weight) for s in specs if s.enabled) or 1.0
    existing = labelled_pairs(project, "rule")
    judge = "rules: " + ", ".join(s.name for s in specs)
    by_prompt: dict[int, list[tuple[int, float]]] = {}
    for row, total in zip(rows, batch.total, strict=True):
        by_prompt.setdefault(row["prompt_id"], []).append((row["completion_id"], total))
    added = all_equal = 0
    for prompt_id, scored in by_prompt.items():
        pairs = preferred_pairs(scored, int(params.get("max_pairs_per_prompt", 4)))
        all_equal += len(scored) > 1 and not pairs
        for winner, loser, margin in pairs:
            if frozenset((winner, loser)) in existing:
                continue
            add_comparison(
                project,
                prompt_id,
                [winner, loser],
                "a",
                "rule",
                judge=judge,
                confidence=min(1.0, margin / max_total),
            )
            added += 1
    ctx.progress(len(rows), len(rows), "labelled")
    return {
        "prompts": len(by_prompt),
        "completions_scored": len(rows),
        "pairs_added": added,
        "prompts_all_equal": all_equal,
        "prompts_single_completion": sum(len(s) == 1 for s in by_prompt.values()),
        "rules": [s.name for s in specs],
    }
