"""Exporting one checkpoint: the request checked, the engine's writers run into a
temporary folder, the folder renamed into place. Called by the ``export_model`` job in
the worker (or inline from the command line); the engine is imported when it runs."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from engine.export.card import render_card
from engine.export.formats import Progress, ShouldStop, never_stop, no_progress
from workbench.exporting.lineage import card_info
from workbench.exporting.request import (
    CheckpointSource,
    ExportRequest,
    base_dir_or_error,
    check_request,
    export_name,
    resolved_dtype,
)
from workbench.exporting.staging import staged_folder
from workbench.project import Project


def base_reference(
    source: CheckpointSource, base_dir: Path, out_dir: Path
) -> tuple[str, str | None]:
    """(what the adapter names as its base, the Hub id when there is one): a Hub id
    resolves anywhere; a local folder is written relative to the export folder, so the
    two can move together."""
    from engine.export.adapter_folder import relative_base

    if source.model.source in ("hub", "cache"):
        return source.model.path, source.model.path
    return relative_base(base_dir, out_dir), None


def ollama_header(name: str, source: CheckpointSource) -> str:
    return (
        f"Exported by Alignment Workbench: checkpoint {source.checkpoint_id} "
        f"(run {source.run.id}, step {source.step}) on {source.model.name}.\n"
        f"Import it into Ollama from this folder with: ollama create {name} -f Modelfile\n"
        f"then chat with: ollama run {name}"
    )


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _write_gguf(
    tmp: Path,
    project: Project,
    source: CheckpointSource,
    base_dir: Path,
    dtype: str,
    with_modelfile: bool,
    progress: Progress,
    should_stop: ShouldStop,
) -> dict[str, Any]:
    from engine.export.gguf_file import write_gguf
    from engine.export.merge import merge_adapter
    from engine.export.modelfile import modelfile_text

    name = export_name(source)
    merged = tmp / ".merged"
    merged.mkdir()
    merge = merge_adapter(
        base_dir,
        source.adapter_dir,
        merged,
        "f32",
        trust_remote_code=source.model.trust_remote_code,
        progress=lambda d, t, m: progress(d, t + 1, m),
        should_stop=should_stop,
    )
    gguf_path = tmp / f"{name}-{dtype}.gguf"
    result = write_gguf(
        merged, gguf_path, dtype, name=name, progress=progress, should_stop=should_stop
    )
    shutil.rmtree(merged)
    result["file"] = gguf_path.name
    if with_modelfile:
        text, translated = modelfile_text(
            gguf_path.name,
            chat_template=_chat_template(gguf_path),
            stop_tokens=merge["stop_tokens"],
            sampling=project.setting("default_sampling", {}),
            special_tokens={"bos_token": merge["bos_token"] or ""},
            header=ollama_header(name, source),
        )
        (tmp / "Modelfile").write_text(text, encoding="utf-8")
        result.update(
            modelfile="Modelfile",
            template_translated=translated,
            ollama_command=f"ollama create {name} -f Modelfile",
        )
    return result


def _chat_template(gguf_path: Path) -> str | None:
    import gguf

    field = gguf.GGUFReader(gguf_path).get_field("tokenizer.chat_template")
    return None if field is None else str(field.contents())


def _write(
    tmp: Path,
    project: Project,
    request: ExportRequest,
    source: CheckpointSource,
    base_dir: Path,
    progress: Progress,
    should_stop: ShouldStop,
) -> dict[str, Any]:
    reference, hub_id = base_reference(source, base_dir, Path(request.out_dir).absolute())
    info = card_info(project, source, reference, hub_id)
    dtype = resolved_dtype(request, base_dir)
    if request.format == "adapter":
        from engine.export.adapter import export_adapter

        progress(0, 1, "copying the adapter")
        return export_adapter(source.adapter_dir, tmp, reference, render_card(info, adapter=True))
    if request.format == "merged":
        from engine.export.merge import merge_adapter

        result = merge_adapter(
            base_dir,
            source.adapter_dir,
            tmp,
            dtype or "f32",
            trust_remote_code=source.model.trust_remote_code,
            progress=progress,
            should_stop=should_stop,
        )
        (tmp / "README.md").write_text(render_card(info, adapter=False), encoding="utf-8")
        return result
    assert dtype is not None
    return _write_gguf(
        tmp, project, source, base_dir, dtype, request.format == "ollama", progress, should_stop
    )


def export_checkpoint(
    project: Project,
    request: ExportRequest,
    progress: Progress = no_progress,
    should_stop: ShouldStop = never_stop,
) -> dict[str, Any]:
    """Write the export of ``request``; returns what was written, its size and time."""
    source = check_request(project, request)
    base_dir = base_dir_or_error(source.model)
    out_dir = Path(request.out_dir).absolute()
    started = time.monotonic()
    with staged_folder(out_dir, request.overwrite) as tmp:
        result = _write(tmp, project, request, source, base_dir, progress, should_stop)
    files = sorted(p.name for p in out_dir.iterdir())
    return {
        **result,
        "format": request.format,
        "checkpoint_id": request.checkpoint_id,
        "out_dir": str(out_dir),
        "dtype": resolved_dtype(request, base_dir),
        "files": files,
        "bytes": _folder_bytes(out_dir),
        "seconds": round(time.monotonic() - started, 3),
    }
