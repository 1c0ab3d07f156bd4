"""What to export and where, checked before any model loads: the format and type, the
checkpoint and its base model, the destination and its free space, and for GGUF whether
the architecture and tokenizer can be converted."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from engine.export.formats import FORMATS, GGUF_DTYPES, MERGED_DTYPES, ExportError
from workbench.data.models import ModelRecord, checkpoint_adapter, get_model
from workbench.exporting.staging import check_destination, check_free_space
from workbench.project import Project
from workbench.training.runs import Run, get_run

# Bytes per parameter of each type; q8_0 stores 32 weights in 34 bytes.
BYTES_PER_PARAM = {"f32": 4.0, "f16": 2.0, "bf16": 2.0, "q8_0": 34 / 32}
_CONFIG_DTYPES = {"float32": "f32", "float16": "f16", "bfloat16": "bf16"}


@dataclass(frozen=True)
class ExportRequest:
    checkpoint_id: int
    format: str
    out_dir: str
    dtype: str | None = None
    overwrite: bool = False

    def to_params(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ExportRequest:
        return cls(
            checkpoint_id=int(params["checkpoint_id"]),
            format=str(params["format"]),
            out_dir=str(params["out_dir"]),
            dtype=params.get("dtype"),
            overwrite=bool(params.get("overwrite", False)),
        )


@dataclass(frozen=True)
class CheckpointSource:
    """A checkpoint with what its export needs from the project."""

    checkpoint_id: int
    step: int
    adapter_dir: Path
    run: Run
    model: ModelRecord


def checkpoint_source(project: Project, checkpoint_id: int) -> CheckpointSource:
    adapter_dir = checkpoint_adapter(project, checkpoint_id)
    row = project.db.execute(
        "SELECT run_id, step FROM checkpoints WHERE id = ?", [checkpoint_id]
    ).fetchone()
    run = get_run(project, row[0])
    if run.model_id is None:
        raise ExportError(f"Run {run.id} of checkpoint {checkpoint_id} names no base model.")
    if not adapter_dir.is_dir():
        raise ExportError(
            f"The folder of checkpoint {checkpoint_id} ({adapter_dir}) is gone.",
            "Pick another checkpoint of the run.",
        )
    return CheckpointSource(
        checkpoint_id, row[1], adapter_dir, run, get_model(project, run.model_id)
    )


def resolved_dtype(request: ExportRequest, base_dir: Path | None) -> str | None:
    """The type the request names, else the default of its format: f16 for GGUF (what
    llama.cpp users expect), the base model's own type for a merged model."""
    if request.format == "adapter":
        return None
    if request.dtype is not None:
        allowed = MERGED_DTYPES if request.format == "merged" else GGUF_DTYPES
        if request.dtype not in allowed:
            raise ExportError(
                f"--dtype {request.dtype} does not apply to a {request.format} export; "
                f"choose one of {', '.join(allowed)}."
            )
        return request.dtype
    if request.format in ("gguf", "ollama"):
        return "f16"
    if base_dir is not None:
        from engine.export.gguf_support import read_json

        config = read_json(base_dir / "config.json")
        return _CONFIG_DTYPES.get(str(config.get("dtype") or config.get("torch_dtype")), "f32")
    return "f32"


def local_base_dir(model: ModelRecord) -> Path | None:
    """The base model's folder when it is on this machine (no download), else None."""
    from engine.errors import ModelLoadError
    from engine.loading import model_folder
    from engine.model_source import ModelSpec

    try:
        folder, _ = model_folder(ModelSpec(**model.load_spec()), offline=True)
    except ModelLoadError:
        return None
    return folder


def base_dir_or_error(model: ModelRecord) -> Path:
    folder = local_base_dir(model)
    if folder is None:
        raise ExportError(
            f"The base model {model.name!r} ({model.path}) of this checkpoint is not on this "
            "machine any more.",
            "Put the model back where it was, or download it again (Model view), then export.",
        )
    return folder


def weights_bytes(base_dir: Path) -> int:
    return sum(p.stat().st_size for p in base_dir.glob("*.safetensors"))


def estimated_bytes(request: ExportRequest, source: CheckpointSource, base_dir: Path) -> int:
    """Disk the export needs at its peak (a GGUF export also holds a float32 merge)."""
    adapter = sum(p.stat().st_size for p in source.adapter_dir.iterdir() if p.is_file())
    if request.format == "adapter":
        return adapter
    config_dtype = resolved_dtype(ExportRequest(0, "merged", ""), base_dir) or "f32"
    params = weights_bytes(base_dir) / BYTES_PER_PARAM[config_dtype]
    dtype = resolved_dtype(request, base_dir) or "f32"
    size = params * BYTES_PER_PARAM[dtype]
    if request.format in ("gguf", "ollama"):
        size += params * BYTES_PER_PARAM["f32"]
    return int(size) + adapter


def check_request(project: Project, request: ExportRequest) -> CheckpointSource:
    """Everything that can be refused without loading a model; returns the source."""
    if request.format not in FORMATS:
        raise ExportError(f"--format must be one of {', '.join(FORMATS)}, not {request.format!r}.")
    source = checkpoint_source(project, request.checkpoint_id)
    check_destination(Path(request.out_dir), request.overwrite)
    base_dir = base_dir_or_error(source.model)
    resolved_dtype(request, base_dir)
    if request.format in ("gguf", "ollama"):
        from engine.export.gguf_support import plan_gguf

        plan_gguf(base_dir)
    check_free_space(Path(request.out_dir), estimated_bytes(request, source, base_dir))
    return source


def export_name(source: CheckpointSource) -> str:
    """A file and Ollama model name: the base's name, run and step, lower case."""
    text = f"{source.model.name}-run{source.run.id}-step{source.step}"
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-")
