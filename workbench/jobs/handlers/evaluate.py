"""The evaluate job: greedy completions of a model or checkpoint over a split, scored by
the project's rules; the pass rate per rule and the mean reward are stored and returned."""

from __future__ import annotations

import json
import time
from typing import Any

from workbench.db.inserted import inserted_pk
from workbench.jobs.context import JobContext
from workbench.jobs.handlers.generate import generate_completions, store_completions
from workbench.rules.scoring import score_rows, store_scores, summarize
from workbench.rules.store import rule_specs

# Evaluation compares checkpoints, so decoding is deterministic unless the job says otherwise.
EVAL_SAMPLING = {"do_sample": False}


def run_evaluate(ctx: JobContext) -> dict[str, Any]:
    project, params = ctx.project, {"split": "eval", **ctx.job.params}
    specs = rule_specs(project, params.get("rule_ids"))
    outcome = generate_completions(ctx, params, sampling_defaults=EVAL_SAMPLING)
    store_completions(ctx, outcome)
    rows = outcome.rows
    ctx.progress(0, len(rows), "scoring")
    batch = score_rows(specs, rows, count_tokens=outcome.count_tokens)
    summary = summarize(batch, [row["num_tokens"] for row in rows])
    evaluations = project.db.table("evaluations")
    evaluations.insert(
        {
            "job_id": ctx.job.id,
            "model_id": outcome.model.id,
            "checkpoint_id": outcome.checkpoint_id,
            "split": params.get("split"),
            "num_prompts": outcome.prompts_done,
            "sampling": json.dumps(outcome.settings),
            "rules": json.dumps([s.to_dict() for s in specs]),
            "summary": json.dumps(summary),
            "created_at": time.time(),
        }
    )
    evaluation_id = inserted_pk(evaluations)
    store_scores(project, [row["completion_id"] for row in rows], batch, evaluation_id)
    ctx.progress(len(rows), len(rows), "scored")
    return {
        "evaluation_id": evaluation_id,
        "model": outcome.model.name,
        "checkpoint_id": outcome.checkpoint_id,
        "split": params.get("split"),
        "sampling": outcome.settings,
        "rules": [s.name for s in specs],
        **summary,
    }
