"""The rules dry run: sample a few completions per prompt from the base model (or an
adapter) and score them with draft rules, without storing anything. It shows, before a
run is spent on it, whether a reward gives a learning signal: its spread, the share of
prompts whose completions all score the same (no signal for group-relative RL there),
and whether it merely rewards length."""

from __future__ import annotations

import statistics
from typing import Any

from engine.rules.spec import RuleSpec
from workbench.jobs.context import JobContext
from workbench.jobs.handlers.generate import generate_completions
from workbench.rules.scoring import score_rows
from workbench.rules.store import rule_specs

DRY_RUN_SAMPLING = {"do_sample": True, "temperature": 1.0}
DEFAULTS = {"split": "train", "limit": 16, "n": 4}


def pearson(xs: list[float], ys: list[float]) -> float | None:
    """None when either side is constant: a correlation is undefined there."""
    if len(xs) < 2 or len(set(xs)) < 2 or len(set(ys)) < 2:
        return None
    return statistics.correlation(xs, ys)


def share_all_equal(groups: dict[Any, list[float]]) -> float:
    sized = [g for g in groups.values() if len(g) > 1]
    return sum(len(set(g)) == 1 for g in sized) / len(sized) if sized else 0.0


def run_rules_dry_run(ctx: JobContext) -> dict[str, Any]:
    params = {**DEFAULTS, **ctx.job.params}
    if params.get("rules"):
        specs = [RuleSpec.from_dict(d) for d in params["rules"]]  # drafts not yet saved
    else:
        specs = rule_specs(ctx.project, params.get("rule_ids"))
    outcome = generate_completions(ctx, params, sampling_defaults=DRY_RUN_SAMPLING)
    rows = outcome.rows
    ctx.progress(0, len(rows), "scoring")
    batch = score_rows(specs, rows, count_tokens=outcome.count_tokens)
    groups: dict[Any, list[float]] = {}
    for row, total in zip(rows, batch.total, strict=True):
        groups.setdefault(row["prompt"], []).append(total)
    lengths = [float(row["num_tokens"]) for row in rows]
    ctx.progress(len(rows), len(rows), "scored")
    return {
        "count": len(rows),
        "prompts": len(groups),
        "rewards": batch.total,
        "lengths": lengths,
        "frac_all_equal": share_all_equal(groups),
        "length_correlation": pearson(lengths, batch.total),
        "pass_rate": {r: sum(p) / len(p) for r, p in batch.passed.items()} if rows else {},
        "samples": [
            {
                "prompt": row["prompt"],
                "text": row["text"],
                "reference": row["reference"],
                "num_tokens": row["num_tokens"],
                "total": batch.total[i],
                "scores": {r: [batch.per_rule[r][i], batch.reasons[r][i]] for r in batch.per_rule},
            }
            for i, row in enumerate(rows)
        ],
    }
