"""The train job: a preference run (DPO family, SimPO, ORPO, KTO, reward model) from the
project's labels, the resumption of one, or its continuation with changed settings.
Params: ``{"config": {...}}`` (the config file's keys), ``{"resume_run_id": N}`` or
``{"continue_run_id": N, "set": ["key=value", ...]}``."""

from __future__ import annotations

from typing import Any

from workbench.jobs.context import JobContext
from workbench.project import Project
from workbench.training.config import RunConfig
from workbench.training.execution import Plan, execute, plan_new, plan_resume


def run_train(ctx: JobContext) -> dict[str, Any]:
    from workbench.training.checkpoint_sweep import sweep_checkpoints

    # What killed runs left (temporary folders, step folders without their row) is tidied
    # first, so a continuation finds its checkpoint registered; a run that plan_resume
    # has just found dead is tidied after.
    sweep_checkpoints(ctx.project)
    plan = plan_for(ctx.project, ctx.job.params)
    if plan.run_id is not None:
        sweep_checkpoints(ctx.project, plan.run_id)
    ctx.progress(0, plan.config.train.max_steps, "preparing")
    return execute(ctx.project, ctx.session, plan, ctx=ctx, job_id=ctx.job.id)


def plan_for(project: Project, params: dict[str, Any]) -> Plan:
    """The plan the job's params ask for: a resume, a continuation with changed settings
    (``{"continue_run_id": N, "set": ["key=value", ...]}``) or a new run."""
    if params.get("resume_run_id") is not None:
        return plan_resume(project, int(params["resume_run_id"]))
    if params.get("continue_run_id") is not None:
        from workbench.training.continuation import plan_continue

        return plan_continue(project, int(params["continue_run_id"]), list(params.get("set") or []))
    return plan_new(project, RunConfig.from_dict(params.get("config") or {}))
