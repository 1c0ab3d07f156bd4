"""The arena-judge job: an AI judge plays the blind arena of a stored comparison. Each
battle is drawn as a person's would be (the most informative pair of entrants first),
judged in both orders (the judge averages them), and stored as an `ai` vote: a label
with the judge's identity and confidence, and a battle kept apart from people's. A
failed judgement is counted and reported, never stored.

Params: ``comparison_id``, ``judge`` (a stored judge's name), ``battles`` (how many,
default 20), ``seed``, ``tie_margin`` (default: the judge's suggested one).
"""

from __future__ import annotations

from typing import Any

from workbench.arena.board import judge_agreement
from workbench.arena.voting import ArenaSitting, next_battle, record_vote, skip
from workbench.data.prompts import get_prompt
from workbench.jobs.context import JobContext
from workbench.jobs.handlers.label_judge import outcome_of
from workbench.judging.runtime import build_pair_judge, resolve_judge_config
from workbench.judging.setup import suggested_tie_margin

MAX_ERROR_EXAMPLES = 5


def run_arena_judge(ctx: JobContext) -> dict[str, Any]:
    from engine.judge.base import STOPPED, PairItem

    project, params = ctx.project, ctx.job.params
    comparison_id = int(params["comparison_id"])
    battles = int(params.get("battles", 20))
    if battles < 1:
        raise ValueError(f"The judge needs at least 1 battle to play, not {battles}.")
    config = resolve_judge_config(project, params)
    margin = params.get("tie_margin")
    tie_margin = suggested_tie_margin(project, config) if margin is None else float(margin)
    judge = build_pair_judge(
        ctx.session, project, config, on_status=lambda message: ctx.progress(0, 1, message)
    )
    sitting = ArenaSitting(seed=int(params.get("seed", 0)))
    errors: list[str] = []
    failed = played = 0
    stopped = False
    for _ in range(battles):
        if ctx.should_stop():
            stopped = True
            break
        arena = next_battle(project, sitting, comparison_id, source="ai")
        if arena is None:
            break
        left, right = arena.task.completions
        prompt = get_prompt(project, arena.task.prompt_id).engine_input
        (verdict,) = judge.compare([PairItem(prompt, left.text, right.text)])
        if verdict.error == STOPPED:
            stopped = True
            break
        if not verdict.ok:
            failed += 1
            skip(project, sitting, arena)  # not asked again in this job
            message = verdict.error or "the judge gave no verdict"
            if len(errors) < MAX_ERROR_EXAMPLES and message not in errors:
                errors.append(message)
            ctx.progress(played + failed, battles, "judging")
            continue
        record_vote(
            project,
            sitting,
            arena,
            outcome_of(verdict.prob_first, tie_margin),
            source="ai",
            judge=judge.identity,
            confidence=verdict.confidence,
        )
        played += 1
        ctx.progress(played + failed, battles, "judging")
    agreement = judge_agreement(project)
    return {
        "judge": config.name,
        "identity": judge.identity,
        "battles": played,
        "errors": failed,
        "error_examples": errors,
        "stopped": stopped,
        "agreement_with_people": {
            "shared": agreement.shared,
            "agreed": agreement.agreed,
            "rate": agreement.rate,
        },
    }
