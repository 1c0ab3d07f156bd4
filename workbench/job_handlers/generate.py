"""The generate job: N completions per prompt from a base model or an adapter."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.job_context import JobCancelled, JobContext
from workbench.models import ModelRecord, default_model, get_model
from workbench.project import Project
from workbench.prompts import get_prompt, prompt_ids

# A job's result row stays small enough to poll; stored completions are read from their table.
MAX_COMPLETIONS_IN_RESULT = 1000


@dataclass
class PromptInput:
    prompt_id: int | None
    display: str
    engine_input: str | list[dict]


def select_prompts(project: Project, params: dict[str, Any]) -> list[PromptInput]:
    if params.get("texts"):
        return [PromptInput(None, t, t) for t in params["texts"]]
    if params.get("prompt_ids"):
        ids = list(params["prompt_ids"])
    else:
        ids = prompt_ids(project, split=params.get("split"))
    if params.get("limit"):
        ids = ids[: int(params["limit"])]
    if not ids:
        where = f"split {params['split']!r}" if params.get("split") else "the project"
        raise ValueError(f"No prompts to generate for in {where}; import prompts in the Data view.")
    records = [get_prompt(project, i) for i in ids]
    return [
        PromptInput(r.id, r.display_text, r.messages if r.messages else r.text) for r in records
    ]


def sampling_settings(project: Project, params: dict[str, Any]) -> dict[str, Any]:
    """The project's default sampling (the demo's is greedy) overridden by the job's."""
    merged = dict(project.setting("default_sampling", {}) or {})
    merged.update(params.get("sampling") or {})
    return merged


def adapter_dir(project: Project, params: dict[str, Any]) -> tuple[Path | None, int | None]:
    if params.get("checkpoint_id") is not None:
        row = project.db.execute(
            "SELECT path FROM checkpoints WHERE id = ?", [params["checkpoint_id"]]
        ).fetchone()
        if row is None:
            raise ValueError(f"The project has no checkpoint {params['checkpoint_id']}.")
        path = Path(row[0])
        return (path if path.is_absolute() else project.path / path), params["checkpoint_id"]
    if params.get("adapter_path"):
        return Path(params["adapter_path"]), None
    return None, None


def resolve_model(project: Project, params: dict[str, Any]) -> ModelRecord:
    if params.get("model_id") is not None:
        return get_model(project, int(params["model_id"]))
    return default_model(project)


def run_generate(ctx: JobContext) -> dict[str, Any]:
    from engine.generation import SamplingSettings, generate
    from engine.model_source import ModelSpec

    project, params = ctx.project, ctx.job.params
    model = resolve_model(project, params)
    prompts = select_prompts(project, params)
    settings = SamplingSettings.from_dict(sampling_settings(project, params))
    settings.validate()
    n = int(params.get("n", 1))
    adapter, checkpoint_id = adapter_dir(project, params)
    ctx.progress(0, len(prompts), f"loading {model.name}")
    loaded = ctx.session.get(ModelSpec(**model.load_spec()))
    with ctx.session.with_adapter(adapter) as active:
        outputs = generate(
            active,
            [p.engine_input for p in prompts],
            settings,
            n=n,
            batch_size=int(params.get("batch_size", 16)),
            progress=lambda done, total: ctx.progress(done, total, "generating"),
            should_stop=ctx.should_stop,
        )
    if ctx.cancel_requested:
        raise JobCancelled("cancelled before all prompts were done; nothing was stored")
    store = bool(params.get("store", not params.get("texts")))
    rows = _result_rows(prompts, outputs)
    if store:
        _store(ctx, rows, model.id, checkpoint_id, settings.to_dict())
    return {
        "model": model.name,
        "device": loaded.device,
        "checkpoint_id": checkpoint_id,
        "sampling": settings.to_dict(),
        "n": n,
        "count": len(rows),
        "prompts_done": len(outputs),
        "prompts_total": len(prompts),
        "stored": store,
        "completions": rows[:MAX_COMPLETIONS_IN_RESULT],
    }


def _result_rows(prompts: list[PromptInput], outputs: list[list]) -> list[dict[str, Any]]:
    return [
        {
            "prompt_id": prompt.prompt_id,
            "prompt": prompt.display,
            "text": g.text,
            "num_tokens": g.num_tokens,
            "finish_reason": g.finish_reason,
            "completion_id": None,
        }
        for prompt, generated in zip(prompts, outputs, strict=False)
        for g in generated
    ]


def _store(ctx: JobContext, rows: list[dict], model_id: int, checkpoint_id, settings: dict) -> None:
    from workbench.completions import CompletionRecord, add_completions

    records = [
        CompletionRecord(
            prompt_id=row["prompt_id"],
            text=row["text"],
            model_id=model_id,
            checkpoint_id=checkpoint_id,
            job_id=ctx.job.id,
            settings=settings,
            seed=settings.get("seed"),
            num_tokens=row["num_tokens"],
            finish_reason=row["finish_reason"],
        )
        for row in rows
    ]
    for row, completion_id in zip(rows, add_completions(ctx.project, records), strict=True):
        row["completion_id"] = completion_id
