"""Filling a comparison: generating only the completions it still lacks, a batch of
prompts per generate call, each entrant's model loaded once, and scoring each completion
with the comparison's rules. A batch's completions and scores are stored together, so a
stopped fill keeps every finished batch and nothing of the one it was in."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from workbench.comparing.figures import figures
from workbench.comparing.matching import (
    Found,
    find_completions,
    scored_completions,
    seed_settings,
)
from workbench.comparing.store import Comparison, Entry, load
from workbench.data.completions import CompletionRecord, add_completions
from workbench.data.models import checkpoint_adapter, get_model
from workbench.data.prompts import PromptRecord, get_prompt
from workbench.project import Project
from workbench.rules.scoring import score_rows, store_scores

ProgressFn = Callable[[int, int, str], None]
T = TypeVar("T")

BATCH_SIZE = 16


@dataclass
class FillResult:
    generated: int = 0
    scored: int = 0
    stopped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class EntryWork:
    """What one entrant still lacks: completions to generate (prompt ids by seed), and
    stored completions (found, e.g. from an earlier `eval`) not yet scored here."""

    entry: Entry
    to_generate: dict[int, list[int]] = field(default_factory=dict)
    to_score: list[tuple[int, Found]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(ids) for ids in self.to_generate.values()) + len(self.to_score)


def plan(project: Project, comparison: Comparison) -> list[EntryWork]:
    work = []
    for entry in comparison.entries:
        found = find_completions(
            project,
            entry.model_id,
            entry.checkpoint_id,
            comparison.prompt_ids,
            comparison.sampling,
            comparison.seeds,
        )
        scored = scored_completions(project, entry.evaluation_id)
        item = EntryWork(entry)
        for seed in range(comparison.seeds):
            for prompt_id in comparison.prompt_ids:
                completion = found.get((prompt_id, seed))
                if completion is None:
                    item.to_generate.setdefault(seed, []).append(prompt_id)
                elif completion.id not in scored:
                    item.to_score.append((prompt_id, completion))
        work.append(item)
    return work


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _rows(prompts: dict[int, PromptRecord], prompt_ids: Sequence[int], texts: list[str]) -> list:
    return [
        {"prompt": prompts[p].display_text, "text": t, "reference": prompts[p].reference}
        for p, t in zip(prompt_ids, texts, strict=True)
    ]


class _Filler:
    """One fill: the comparison, its prompts, progress and the stop check."""

    def __init__(
        self,
        project: Project,
        comparison: Comparison,
        progress: ProgressFn | None,
        should_stop: Callable[[], bool] | None,
        job_id: int | None,
    ) -> None:
        self.project = project
        self.comparison = comparison
        self.prompts = {i: get_prompt(project, i) for i in comparison.prompt_ids}
        self.progress: ProgressFn = progress or (lambda done, total, message: None)
        self.should_stop: Callable[[], bool] = should_stop or (lambda: False)
        self.job_id = job_id
        self.result = FillResult()
        self.done = 0
        self.total = 0

    def _advance(self, count: int, message: str) -> None:
        self.done += count
        self.progress(self.done, self.total, message)

    def _stop(self) -> bool:
        self.result.stopped = self.result.stopped or self.should_stop()
        return self.result.stopped

    def entry(self, session: Any, work: EntryWork, batch_size: int) -> None:
        from engine.model_source import ModelSpec
        from engine.tokens import token_counter

        entry = work.entry
        model = get_model(self.project, entry.model_id)
        self.progress(self.done, self.total, f"loading {entry.label}")
        loaded = session.get(ModelSpec(**model.load_spec()), label=model.name)
        count_tokens = token_counter(loaded.tokenizer)
        adapter = None
        if entry.checkpoint_id is not None:
            adapter = checkpoint_adapter(self.project, entry.checkpoint_id)
        with session.with_adapter(adapter) as active:
            for found in _chunks(work.to_score, batch_size):
                if self._stop():
                    return
                self._score_found(entry, found, count_tokens)
            for seed, prompt_ids in work.to_generate.items():
                for batch_ids in _chunks(prompt_ids, batch_size):
                    if self._stop():
                        return
                    self._generate(active, entry, seed, batch_ids, count_tokens)

    def _score_found(
        self, entry: Entry, found: Sequence[tuple[int, Found]], count_tokens: Callable
    ) -> None:
        """Score completions stored earlier (by `eval`, say) under this entrant's evaluation."""
        rows = _rows(self.prompts, [p for p, _ in found], [f.text for _, f in found])
        batch = score_rows(self.comparison.rules, rows, count_tokens)
        with self.project.transaction() as conn:
            store_scores(self.project, [f.id for _, f in found], batch, entry.evaluation_id, conn)
        self.result.scored += len(found)
        self._advance(len(found), f"scoring {entry.label}")

    def _generate(
        self,
        active: Any,
        entry: Entry,
        seed: int,
        batch_ids: Sequence[int],
        count_tokens: Callable,
    ) -> None:
        """One generate call for a batch of prompts; its completions and scores are stored
        in one transaction."""
        from engine.generation import SamplingSettings, generate

        settings = SamplingSettings.from_dict(seed_settings(self.comparison.sampling, seed))
        inputs = [self.prompts[p].engine_input for p in batch_ids]
        generated = [o[0] for o in generate(active, inputs, settings, batch_size=len(inputs))]
        rows = _rows(self.prompts, batch_ids, [g.text for g in generated])
        batch = score_rows(self.comparison.rules, rows, count_tokens)
        records = [
            CompletionRecord(
                prompt_id=p,
                text=g.text,
                model_id=entry.model_id,
                checkpoint_id=entry.checkpoint_id,
                job_id=self.job_id,
                settings=settings.to_dict(),
                seed=seed,
                num_tokens=g.num_tokens,
                finish_reason=g.finish_reason,
            )
            for p, g in zip(batch_ids, generated, strict=True)
        ]
        with self.project.transaction() as conn:
            ids = add_completions(self.project, records, conn=conn)
            store_scores(self.project, ids, batch, entry.evaluation_id, conn)
        self.result.generated += len(records)
        self.result.scored += len(records)
        self._advance(len(records), f"generating {entry.label}")


def _new_session() -> Any:
    from huggingface_hub import constants

    from engine.session import ModelSession

    return ModelSession(offline=constants.HF_HUB_OFFLINE)


def store_summaries(project: Project, comparison: Comparison, job_id: int | None) -> None:
    """Each entrant's evaluation gets the summary `eval` would have written for it."""
    for model in figures(project, comparison)["models"]:
        summary = {
            "count": model["n"],
            "mean_reward": model["mean_rule_reward"],  # as eval writes it: the rules' total
            "pass_rate": model["pass_rate"],
            "mean_score": model["mean_score"],
            "mean_length_tokens": model["mean_length_tokens"],
        }
        project.db.execute(
            "UPDATE evaluations SET summary = ?, job_id = coalesce(?, job_id) WHERE id = ?",
            [json.dumps(summary), job_id, model["evaluation_id"]],
        )


def fill(
    project: Project,
    comparison_id: int,
    progress: ProgressFn | None = None,
    should_stop: Callable[[], bool] | None = None,
    *,
    session: Any = None,
    batch_size: int = BATCH_SIZE,
    job_id: int | None = None,
) -> FillResult:
    """Generate and score what comparison `comparison_id` still lacks; a second fill of
    a full comparison does nothing. `progress(done, total, message)` counts completions;
    `should_stop()` is asked before each batch. `session` is the worker's model session
    (a fresh one by default)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}.")
    comparison = load(project, comparison_id)
    filler = _Filler(project, comparison, progress, should_stop, job_id)
    work = [w for w in plan(project, comparison) if w.size]
    filler.total = sum(w.size for w in work)
    filler.progress(0, filler.total, "comparing" if work else "nothing to generate")
    if work:
        session = session or _new_session()
        # Entrants on the same base model run one after another, so it loads only once.
        for item in sorted(work, key=lambda w: (w.entry.model_id, w.entry.position)):
            filler.entry(session, item, batch_size)
            if filler.result.stopped:
                break
    store_summaries(project, comparison, job_id)
    return filler.result
