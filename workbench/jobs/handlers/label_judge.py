"""The label-by-judge job: an AI judge compares pairs of stored completions of each prompt
and its verdicts become preference labels with source `ai`, its identity and confidence.

Pairs this judge identity labelled before are skipped, even when a person has since
overridden the label: re-running must not put back a label a person corrected; with
`only_unlabelled`, pairs a person or a rule labelled are skipped as well. Which
completion is shown "first" is drawn at random (seeded) and stored in that order, so
the stored labels carry no bias from completion ids. Failed judgements are counted and
reported, never stored. Labels are committed chunk by chunk, so a stopped or cancelled
job keeps what it judged.
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass
from typing import Any

from workbench.data.completions import list_completions
from workbench.jobs.context import JobContext
from workbench.jobs.handlers.generate import generate_completions, select_prompts, store_completions
from workbench.jobs.handlers.label_rules import CANDIDATE_SAMPLING
from workbench.judging.agreement import agreement
from workbench.judging.runtime import build_pair_judge, resolve_judge_config
from workbench.judging.setup import suggested_tie_margin
from workbench.labels.comparisons import add_comparison, labelled_pairs
from workbench.project import Project

CHUNK_PAIRS = 64  # pairs judged between commits
MAX_ERROR_EXAMPLES = 5


@dataclass
class Candidate:
    prompt_id: int
    prompt: Any  # text or messages, as the judge reads it
    first: tuple[int, str]  # (completion id, text), shown to the judge first
    second: tuple[int, str]


def judged_before(project: Project, identity: str) -> set[frozenset[int]]:
    """Pairs this judge identity labelled, superseded labels included."""
    rows = project.db.execute(
        "SELECT completion_ids FROM comparisons WHERE source = 'ai' AND judge = ?", [identity]
    ).fetchall()
    return {frozenset(json.loads(r[0])) for r in rows}


def candidate_pairs(
    project: Project, params: dict[str, Any], skip: set[frozenset[int]], rng: random.Random
) -> tuple[list[Candidate], int, int]:
    """Up to max_pairs_per_prompt new pairs of distinct completions per prompt; also
    returns how many prompts were looked at and how many pairs were skipped."""
    per_prompt = int(params.get("max_pairs_per_prompt", 4))
    if per_prompt < 1:
        raise ValueError("max_pairs_per_prompt must be at least 1.")
    chosen, skipped, prompts = [], 0, select_prompts(project, params)
    for prompt in prompts:
        if prompt.prompt_id is None:
            continue
        distinct: dict[str, tuple[int, str]] = {}
        for c in list_completions(project, prompt_id=prompt.prompt_id, limit=None):
            assert c.id is not None, "a completion read from the project has its id"
            distinct.setdefault(c.text.strip(), (c.id, c.text))
        pairs = list(itertools.combinations(sorted(distinct.values()), 2))
        rng.shuffle(pairs)
        fresh = [p for p in pairs if frozenset((p[0][0], p[1][0])) not in skip]
        skipped += len(pairs) - len(fresh)
        for one, other in fresh[:per_prompt]:
            first, second = (one, other) if rng.random() < 0.5 else (other, one)
            chosen.append(Candidate(prompt.prompt_id, prompt.engine_input, first, second))
    return chosen, len(prompts), skipped


def outcome_of(prob_first: float, tie_margin: float) -> str:
    if abs(prob_first - 0.5) < tie_margin:
        return "tie"
    return "a" if prob_first >= 0.5 else "b"


class _Tally:
    def __init__(self) -> None:
        self.added = self.ties = self.errors = self.stopped = 0
        self.examples: list[str] = []
        self.confidences: list[float] = []

    def error(self, message: str) -> None:
        self.errors += 1
        if len(self.examples) < MAX_ERROR_EXAMPLES and message not in self.examples:
            self.examples.append(message)


def _judge_and_store(
    ctx: JobContext, judge, candidates: list[Candidate], tie_margin: float, tally: _Tally
) -> None:
    from engine.judge.base import STOPPED, PairItem

    total = len(candidates)
    ctx.progress(0, total, "judging")
    for start in range(0, total, CHUNK_PAIRS):
        chunk = candidates[start : start + CHUNK_PAIRS]
        items = [PairItem(c.prompt, c.first[1], c.second[1]) for c in chunk]
        verdicts = judge.compare(
            items,
            should_stop=ctx.should_stop,
            progress=lambda done, _total, base=start: ctx.progress(base + done, total, "judging"),
        )
        for candidate, verdict in zip(chunk, verdicts, strict=True):
            if verdict.error == STOPPED:
                tally.stopped += 1
            elif not verdict.ok:
                tally.error(verdict.error or "the judge gave no verdict")
            else:
                outcome = outcome_of(verdict.prob_first, tie_margin)
                add_comparison(
                    ctx.project,
                    candidate.prompt_id,
                    [candidate.first[0], candidate.second[0]],
                    outcome,
                    "ai",
                    judge=judge.identity,
                    confidence=verdict.confidence,
                )
                tally.added += 1
                tally.ties += outcome == "tie"
                tally.confidences.append(verdict.confidence)
        if ctx.stop_requested:
            tally.stopped += total - start - len(chunk)
            break


class JudgeRunFailed(ValueError):
    """Every judgement, or more than the allowed share of them, failed; the labels of
    those that did not are kept."""


def refuse_failed_run(added: int, errors: int, examples: list[str], max_share: float) -> None:
    """JudgeRunFailed (the job fails, the command exits non-zero) when every judged pair
    failed or the failed share is over ``max_share``, with the first error."""
    judged = added + errors
    if not errors or (added and errors / judged <= max_share):
        return
    first = examples[0] if examples else "no reason was given"
    if not added:
        raise JudgeRunFailed(f"All {errors:,} judgements failed; the first error: {first}")
    raise JudgeRunFailed(
        f"{errors:,} of {judged:,} judgements failed ({errors / judged:.0%}, over the "
        f"{max_share:.0%} the judge's max_failure_share allows; the {added:,} labels made "
        f"are kept); the first error: {first}"
    )


def run_label_judge(ctx: JobContext) -> dict[str, Any]:
    project, params = ctx.project, ctx.job.params
    config = resolve_judge_config(project, params)
    tie_margin = params.get("tie_margin")
    tie_margin = suggested_tie_margin(project, config) if tie_margin is None else float(tie_margin)
    if not 0.0 <= tie_margin <= 0.5:
        raise ValueError(f"The tie margin is between 0 and 0.5, not {tie_margin}.")
    if int(params.get("generate", 0)) > 0:
        outcome = generate_completions(
            ctx, {**params, "n": int(params["generate"])}, sampling_defaults=CANDIDATE_SAMPLING
        )
        store_completions(ctx, outcome)
    judge = build_pair_judge(
        ctx.session, project, config, on_status=lambda message: ctx.progress(0, 1, message)
    )
    rng = random.Random(int(params.get("seed", 0)))
    skip = judged_before(project, judge.identity)
    if params.get("only_unlabelled"):  # pairs a person or a rule labelled are left alone too
        skip |= labelled_pairs(project, "human") | labelled_pairs(project, "rule")
    candidates, prompts, skipped = candidate_pairs(project, params, skip, rng)
    tally = _Tally()
    _judge_and_store(ctx, judge, candidates, tie_margin, tally)
    refuse_failed_run(tally.added, tally.errors, tally.examples, config.max_failure_share)
    confidences = tally.confidences
    return {
        "judge": config.name,
        "identity": judge.identity,
        "prompts": prompts,
        "tie_margin": tie_margin,
        "pairs": len(candidates),
        "pairs_skipped_labelled_before": skipped,
        "pairs_judged": tally.added + tally.errors,
        "labels_added": tally.added,
        "ties": tally.ties,
        "errors": tally.errors,
        "error_examples": tally.examples,
        "stopped": tally.stopped,
        "mean_confidence": sum(confidences) / len(confidences) if confidences else None,
        "requests_sent": getattr(judge, "requests_sent", None),
        "agreement_human": agreement(project, "ai", "human", judge_a=judge.identity).to_dict(),
        "agreement_rule": agreement(project, "ai", "rule", judge_a=judge.identity).to_dict(),
    }
