"""An AI judge's verdicts on a comparison: each model's answer against the baseline's
answer to the same prompt (and seed), judged in both orders (the judge averages them,
engine/judge/base.py), and each model's win rate against the baseline from them.

A verdict is stored as a preference label (source ai, the judge's identity and
confidence, the baseline's completion first), so asking again finds it and asks nothing,
and the next DPO run may train on it like any AI label. Two answers with the same text
are a tie without asking. A failed judgement is counted and reported, never stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workbench.comparing.matching import Found, find_completions
from workbench.comparing.store import Comparison
from workbench.data.prompts import get_prompt
from workbench.labels.comparisons import add_comparison
from workbench.project import Project

CHUNK = 32  # pairs judged between commits
WIN_SHARE = {"b": 1.0, "a": 0.0, "tie": 0.5, "both_bad": 0.5}  # of the model, baseline first


@dataclass
class Pair:
    position: int  # the entrant's position (1.. ; 0 is the baseline)
    prompt_id: int
    baseline: Found
    other: Found


@dataclass
class JudgeTally:
    judged: int = 0
    reused: int = 0
    errors: int = 0
    examples: list[str] = field(default_factory=list)
    stopped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "judged": self.judged,
            "reused": self.reused,
            "errors": self.errors,
            "error_examples": self.examples,
            "stopped": self.stopped,
        }


def _pairs(project: Project, comparison: Comparison) -> list[Pair]:
    answers = [
        find_completions(
            project,
            e.model_id,
            e.checkpoint_id,
            comparison.prompt_ids,
            comparison.sampling,
            comparison.seeds,
        )
        for e in comparison.entries
    ]
    return [
        Pair(position, key[0], answers[0][key], found)
        for position in range(1, len(answers))
        for key, found in sorted(answers[position].items())
        if key in answers[0]
    ]


def _verdicts(project: Project, judge: str | None) -> dict[tuple[int, int], str]:
    """{(baseline completion, other completion): outcome of that order} of the newest AI
    label on each pair (of `judge`, or of any judge), whichever order it was stored in."""
    where, args = ("AND judge = ?", [judge]) if judge else ("", [])
    found: dict[tuple[int, int], str] = {}
    flipped = {"a": "b", "b": "a"}
    for ids, outcome in project.db.execute(
        f"SELECT completion_ids, outcome FROM comparisons WHERE source = 'ai' {where} "
        "AND outcome != 'ranking' ORDER BY id",
        args,
    ):
        first, second = json.loads(ids)
        found[(first, second)] = outcome
        found[(second, first)] = flipped.get(outcome, outcome)
    return found


def judge_against_baseline(
    project: Project,
    comparison: Comparison,
    judge: Any,
    tie_margin: float,
    progress: Callable[[int, int, str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> JudgeTally:
    """Ask `judge` (engine.judge.base.Judge) about every pair it has not judged yet."""
    from engine.judge.base import STOPPED, PairItem
    from workbench.jobs.handlers.label_judge import outcome_of

    known = _verdicts(project, judge.identity)
    tally = JudgeTally()
    todo = []
    for pair in _pairs(project, comparison):
        if (pair.baseline.id, pair.other.id) in known:
            tally.reused += 1
        elif pair.baseline.text.strip() != pair.other.text.strip():
            todo.append(pair)
    prompts = {p.prompt_id: get_prompt(project, p.prompt_id).engine_input for p in todo}
    for start in range(0, len(todo), CHUNK):
        if should_stop is not None and should_stop():
            tally.stopped = True
            break
        chunk = todo[start : start + CHUNK]
        items = [PairItem(prompts[p.prompt_id], p.baseline.text, p.other.text) for p in chunk]
        verdicts = judge.compare(items, should_stop=should_stop)
        with project.transaction():
            for pair, verdict in zip(chunk, verdicts, strict=True):
                if verdict.error == STOPPED:
                    tally.stopped = True
                elif not verdict.ok:
                    tally.errors += 1
                    message = verdict.error or "the judge gave no verdict"
                    if len(tally.examples) < 5 and message not in tally.examples:
                        tally.examples.append(message)
                else:
                    add_comparison(
                        project,
                        pair.prompt_id,
                        [pair.baseline.id, pair.other.id],
                        outcome_of(verdict.prob_first, tie_margin),
                        "ai",
                        judge=judge.identity,
                        confidence=verdict.confidence,
                    )
                    tally.judged += 1
        if progress is not None:
            progress(start + len(chunk), len(todo), "judging against the baseline")
    return tally


def win_rates(
    project: Project, comparison: Comparison, judge: str | None = None
) -> dict[int, dict[str, Any]]:
    """{entrant position: {"win_rate", "judged"}} against the baseline, ties half; answers
    with the same text count as ties. Entrants without a verdict are left out."""
    known = _verdicts(project, judge)
    if not known:  # no judge has looked at any pair: no win rate to give
        return {}
    shares: dict[int, list[float]] = {}
    asked: set[int] = set()  # entrants with at least one verdict: a judge looked at them
    for pair in _pairs(project, comparison):
        if pair.baseline.text.strip() == pair.other.text.strip():
            shares.setdefault(pair.position, []).append(0.5)
        elif (pair.baseline.id, pair.other.id) in known:
            outcome = known[(pair.baseline.id, pair.other.id)]
            shares.setdefault(pair.position, []).append(WIN_SHARE[outcome])
            asked.add(pair.position)
    return {
        position: {"win_rate": sum(values) / len(values), "judged": len(values)}
        for position, values in shares.items()
        if position in asked
    }
