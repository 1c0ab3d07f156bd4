"""The generate job: N completions per prompt from a base model or an adapter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.disk_space import LOW_SPACE_MB, require_free
from workbench.data.models import ModelRecord, checkpoint_adapter, resolve_model
from workbench.data.prompts import get_prompt, list_prompts
from workbench.jobs.context import JobCancelled, JobContext
from workbench.project import Project

# A job's result row stays small enough to poll; stored completions are read from their table.
MAX_COMPLETIONS_IN_RESULT = 1000


@dataclass
class PromptInput:
    prompt_id: int | None
    display: str
    engine_input: str | list[dict]
    reference: str | None = None


def select_prompts(project: Project, params: dict[str, Any]) -> list[PromptInput]:
    if params.get("texts"):
        return [PromptInput(None, t, t) for t in params["texts"]]
    limit = int(params["limit"]) if params.get("limit") else None
    if params.get("prompt_ids"):
        records = [get_prompt(project, i) for i in list(params["prompt_ids"])[:limit]]
    else:
        records = list_prompts(project, split=params.get("split"), limit=limit)
    if not records:
        where = f"split {params['split']!r}" if params.get("split") else "the project"
        raise ValueError(f"No prompts to generate for in {where}; import prompts in the Data view.")
    return [PromptInput(r.id, r.display_text, r.engine_input, r.reference) for r in records]


def _adapter(project: Project, params: dict[str, Any]) -> tuple[Path | None, int | None]:
    """(adapter folder, checkpoint id) of the job: a checkpoint of the project, an adapter
    folder outside it (`adapter_path`), or neither (the bare base model)."""
    checkpoint_id = params.get("checkpoint_id")
    if checkpoint_id is not None:
        return checkpoint_adapter(project, checkpoint_id), checkpoint_id
    if params.get("adapter_path"):
        return Path(params["adapter_path"]), None
    return None, None


@dataclass
class GenerationOutcome:
    model: ModelRecord
    device: str
    checkpoint_id: int | None
    settings: dict[str, Any]
    prompts: list[PromptInput]
    rows: list[dict[str, Any]]  # one per completion, with its prompt
    prompts_done: int
    count_tokens: Callable[[str], int]


def generate_completions(
    ctx: JobContext, params: dict[str, Any], sampling_defaults: dict | None = None
) -> GenerationOutcome:
    """Generate for the job's prompts; shared by the generate, evaluate and label jobs.

    `sampling_defaults` sit between the project's defaults and the job's own settings
    (the evaluate job makes decoding greedy unless the job says otherwise)."""
    from engine.generation import SamplingSettings, generate
    from engine.model_source import ModelSpec
    from engine.tokens import token_counter

    project = ctx.project
    model = resolve_model(project, params.get("model_id"))
    prompts = select_prompts(project, params)
    merged = {
        **(project.setting("default_sampling", {}) or {}),
        **(sampling_defaults or {}),
        **(params.get("sampling") or {}),
    }
    settings = SamplingSettings.from_dict(merged)
    adapter, checkpoint_id = _adapter(project, params)
    require_free(project.path, LOW_SPACE_MB)
    ctx.progress(0, len(prompts), f"loading {model.name}")
    loaded = ctx.session.get(ModelSpec(**model.load_spec()), label=model.name)
    with ctx.session.with_adapter(adapter) as active:
        outputs = generate(
            active,
            [p.engine_input for p in prompts],
            settings,
            n=int(params.get("n", 1)),
            batch_size=int(params.get("batch_size", 16)),
            progress=_progress_while_space(ctx),
            should_stop=ctx.should_stop,
        )
    if ctx.cancel_requested:
        raise JobCancelled("cancelled before all prompts were done; nothing was stored")
    return GenerationOutcome(
        model,
        loaded.device,
        checkpoint_id,
        settings.to_dict(),
        prompts,
        _result_rows(prompts, outputs),
        len(outputs),
        token_counter(loaded.tokenizer),
    )


def _progress_while_space(ctx: JobContext) -> Callable[[int, int], None]:
    """Progress after each batch, and a stop before the next one when the project's disk
    is nearly full: the completions are stored at the end, while rows still fit."""

    def report(done: int, total: int) -> None:
        require_free(ctx.project.path, LOW_SPACE_MB)
        ctx.progress(done, total, "generating")

    return report


def run_generate(ctx: JobContext) -> dict[str, Any]:
    params = ctx.job.params
    outcome = generate_completions(ctx, params)
    store = bool(params.get("store", not params.get("texts")))
    if store:
        store_completions(ctx, outcome)
    return {
        "model": outcome.model.name,
        "device": outcome.device,
        "checkpoint_id": outcome.checkpoint_id,
        "sampling": outcome.settings,
        "n": int(params.get("n", 1)),
        "count": len(outcome.rows),
        "prompts_done": outcome.prompts_done,
        "prompts_total": len(outcome.prompts),
        "stored": store,
        "completions": outcome.rows[:MAX_COMPLETIONS_IN_RESULT],
    }


def _result_rows(prompts: list[PromptInput], outputs: list[list]) -> list[dict[str, Any]]:
    return [
        {
            "prompt_id": prompt.prompt_id,
            "prompt": prompt.display,
            "reference": prompt.reference,
            "text": g.text,
            "num_tokens": g.num_tokens,
            "finish_reason": g.finish_reason,
            "completion_id": None,
        }
        for prompt, generated in zip(prompts, outputs, strict=False)
        for g in generated
    ]


def store_completions(ctx: JobContext, outcome: GenerationOutcome) -> None:
    """Store every completion and write its id back into its row."""
    from workbench.data.completions import CompletionRecord, add_completions

    rows = outcome.rows
    records = [
        CompletionRecord(
            prompt_id=row["prompt_id"],
            text=row["text"],
            model_id=outcome.model.id,
            checkpoint_id=outcome.checkpoint_id,
            job_id=ctx.job.id,
            settings=outcome.settings,
            seed=outcome.settings.get("seed"),
            num_tokens=row["num_tokens"],
            finish_reason=row["finish_reason"],
        )
        for row in rows
    ]
    for row, completion_id in zip(rows, add_completions(ctx.project, records), strict=True):
        row["completion_id"] = completion_id
