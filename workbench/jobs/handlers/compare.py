"""The compare job: fill a stored comparison (generate and score what it lacks) and
return each entrant's figures; a cancelled job keeps every finished batch. With
``reward_model`` (a reward checkpoint's id; None: none), the comparison shows that
reward model's scores from now on and every answer it has not scored yet is scored
(workbench/comparing/reward_scores.py). With ``judge`` (a stored judge's name), that
judge then compares each model's answers with the baseline's
(workbench/comparing/judged.py), and the figures carry its win rates."""

from __future__ import annotations

from typing import Any

from workbench.comparing.figures import figures
from workbench.comparing.fill import BATCH_SIZE, fill
from workbench.comparing.store import load, set_reward_model
from workbench.jobs.context import JobContext


def run_compare(ctx: JobContext) -> dict[str, Any]:
    params = ctx.job.params
    comparison_id = int(params["comparison_id"])
    if params.get("judge"):  # a judge that cannot run is refused before anything is generated
        from workbench.judging.runtime import resolve_judge_config

        resolve_judge_config(ctx.project, {"judge": str(params["judge"])})
    if "reward_model" in params:  # checked before anything is generated or stored
        _choose_reward_model(ctx, comparison_id, params["reward_model"])
    outcome = fill(
        ctx.project,
        comparison_id,
        ctx.progress,
        ctx.should_stop,
        session=ctx.session,
        batch_size=int(params.get("batch_size", BATCH_SIZE)),
        job_id=ctx.job.id,
    )
    rewarded = None
    reward_model = load(ctx.project, comparison_id).reward_model_id
    if reward_model is not None and not outcome.stopped:
        rewarded = _score_rewards(ctx, comparison_id, reward_model, params)
        outcome.stopped = rewarded["stopped"]
    judged = None
    if params.get("judge") and not outcome.stopped:
        judged = _judge(ctx, comparison_id, str(params["judge"]))
    result = {**outcome.to_dict(), **figures(ctx.project, load(ctx.project, comparison_id))}
    if rewarded is not None:
        result["reward"] = {**result["reward"], **rewarded}
    return result if judged is None else {**result, "judge": judged}


def _choose_reward_model(ctx: JobContext, comparison_id: int, checkpoint_id: Any) -> None:
    from workbench.comparing.reward_scores import check_reward_model

    chosen = None if checkpoint_id is None else int(checkpoint_id)
    if chosen is not None:
        check_reward_model(ctx.project, chosen)
    set_reward_model(ctx.project, comparison_id, chosen)


def _score_rewards(
    ctx: JobContext, comparison_id: int, checkpoint_id: int, params: dict
) -> dict[str, Any]:
    """The comparison's answers the reward model has not scored yet, scored."""
    from workbench.comparing.reward_scores import score_comparison

    tally = score_comparison(
        ctx.project,
        load(ctx.project, comparison_id),
        checkpoint_id,
        ctx.progress,
        ctx.should_stop,
        offline=getattr(ctx.session, "offline", True),
        batch_size=int(params.get("batch_size", BATCH_SIZE)),
    )
    return tally.to_dict()


def _judge(ctx: JobContext, comparison_id: int, name: str) -> dict[str, Any]:
    """Each model's answers against the baseline's, by the named judge, both orders."""
    from workbench.comparing.judged import judge_against_baseline
    from workbench.judging.runtime import build_pair_judge, resolve_judge_config
    from workbench.judging.setup import suggested_tie_margin

    config = resolve_judge_config(ctx.project, {"judge": name})
    judge = build_pair_judge(
        ctx.session, ctx.project, config, on_status=lambda message: ctx.progress(0, 1, message)
    )
    tally = judge_against_baseline(
        ctx.project,
        load(ctx.project, comparison_id),
        judge,
        suggested_tie_margin(ctx.project, config),
        ctx.progress,
        ctx.should_stop,
    )
    return {"name": name, "identity": judge.identity, **tally.to_dict()}
