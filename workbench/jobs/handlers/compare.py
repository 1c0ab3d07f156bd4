"""The compare job: fill a stored comparison (generate and score what it lacks) and
return each entrant's figures; a cancelled job keeps every finished batch."""

from __future__ import annotations

from typing import Any

from workbench.comparing.figures import figures
from workbench.comparing.fill import BATCH_SIZE, fill
from workbench.comparing.store import load
from workbench.jobs.context import JobContext


def run_compare(ctx: JobContext) -> dict[str, Any]:
    params = ctx.job.params
    comparison_id = int(params["comparison_id"])
    outcome = fill(
        ctx.project,
        comparison_id,
        ctx.progress,
        ctx.should_stop,
        session=ctx.session,
        batch_size=int(params.get("batch_size", BATCH_SIZE)),
        job_id=ctx.job.id,
    )
    return {**outcome.to_dict(), **figures(ctx.project, load(ctx.project, comparison_id))}
