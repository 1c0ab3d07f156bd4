"""The export_model job: a checkpoint written out as an adapter, a merged model, a GGUF
file or an Ollama folder (workbench/exporting/operation.py), with progress and Cancel;
a cancelled export leaves nothing behind."""

from __future__ import annotations

from typing import Any

from engine.export.formats import ExportCancelled
from workbench.exporting.operation import export_checkpoint
from workbench.exporting.request import ExportRequest
from workbench.jobs.context import JobCancelled, JobContext


def run_export_model(ctx: JobContext) -> dict[str, Any]:
    request = ExportRequest.from_params(ctx.job.params)
    try:
        return export_checkpoint(
            ctx.project, request, progress=ctx.progress, should_stop=ctx.should_stop
        )
    except ExportCancelled:
        raise JobCancelled(f"Export cancelled; nothing was written to {request.out_dir}.") from None
