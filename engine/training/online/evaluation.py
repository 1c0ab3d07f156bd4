"""Evaluation of an online run: the policy answers eval prompts greedily (what a user
will see at temperature 0), the reward scores the answers, and each rule's pass rate is
the curve that says whether RL is working. Every process answers its share."""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Any

from engine.training import distributed as dist
from engine.training.online import rollout
from engine.training.online.metrics import completion_metrics
from engine.training.online.rewards import combine
from engine.training.phases import EVALUATING

if TYPE_CHECKING:
    from engine.training.protocols import OnlineEvalRun


def evaluate_online(run: OnlineEvalRun, step: int) -> tuple[dict[str, float], list[dict]]:
    s = run.settings
    chosen = (
        run.eval_prompts[: s.method.eval_prompts] if s.method.eval_prompts else run.eval_prompts
    )
    rank, world = run.accelerator.process_index, run.accelerator.num_processes
    mine = chosen[rank::world]
    # What this process sends the others: lists and per-rule lists, merged by name.
    local: dict[str, Any] = {
        "totals": [],
        "parts": {},
        "lengths": [],
        "truncated": [],
        "samples": [],
    }
    batch = max(s.batch_size * s.group_size(), 1)
    for start in range(0, len(mine), batch):
        run.phase(EVALUATING, start * world, len(chosen))  # prompts answered so far
        part = mine[start : start + batch]
        outs = rollout.sample(
            run.policy(),
            run.loaded.tokenizer,
            [e for e, _ in part],
            [ids for _, ids in part],
            s,
            seed=0,
            eos_ids=run.eos_ids,
            device=run.device,
            greedy=True,
        )
        scored = combine(run.sources, outs.prompts, outs.texts, outs.references)
        local["totals"] += scored.total
        for name, values in scored.parts.items():
            local["parts"].setdefault(name, []).extend(values)
        local["lengths"] += [len(c) for c in outs.completion_ids]
        local["truncated"] += outs.truncated
        if start == 0 and rank == 0:
            local["samples"] = _samples(outs, scored, s.method.samples_per_eval)
    merged = dist.gather_lists(run.accelerator, [local])
    return _metrics(merged), merged[0]["samples"] if run.main else []


def _metrics(parts: list[dict]) -> dict[str, float]:
    totals = [v for p in parts for v in p["totals"]]
    if not totals:
        return {}
    out = {"eval_reward": statistics.fmean(totals)}
    names = {name for p in parts for name in p["parts"]}
    for name in sorted(names):
        values = [v for p in parts for v in p["parts"].get(name, [])]
        out[f"eval_rewards/{name}/mean"] = statistics.fmean(values)
    lengths = [v for p in parts for v in p["lengths"]]
    truncated = [v for p in parts for v in p["truncated"]]
    out.update(completion_metrics(lengths, truncated, prefix="eval_"))
    return out


def _samples(outs, scored, count: int) -> list[dict]:
    rows = []
    for i in range(min(count, len(outs.texts))):
        rewards = {name: values[i] for name, values in scored.parts.items()}
        rewards["total"] = scored.total[i]
        rows.append(
            {
                "prompt": outs.prompts[i],
                "completion": outs.texts[i],
                "rewards": rewards,
                "num_tokens": len(outs.completion_ids[i]),
                "finish_reason": "length" if outs.truncated[i] else "stop",
            }
        )
    return rows
