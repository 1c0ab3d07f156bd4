"""The train job: a preference run (DPO family, SimPO, ORPO, KTO, reward model) from the
project's labels, or the resumption of one. Params: ``{"config": {...}}`` (the config
file's keys) or ``{"resume_run_id": N}``."""

from __future__ import annotations

from typing import Any

from workbench.jobs.context import JobContext
from workbench.training.config import RunConfig
from workbench.training.execution import execute, plan_new, plan_resume


def run_train(ctx: JobContext) -> dict[str, Any]:
    params = ctx.job.params
    if params.get("resume_run_id") is not None:
        plan = plan_resume(ctx.project, int(params["resume_run_id"]))
    else:
        plan = plan_new(ctx.project, RunConfig.from_dict(params.get("config") or {}))
    ctx.progress(0, plan.config.train.max_steps, "preparing")
    return execute(ctx.project, ctx.session, plan, ctx=ctx, job_id=ctx.job.id)
