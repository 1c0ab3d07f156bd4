"""Checks on a model before it becomes a project's record, and its folder on disk; shared by
the Model view's Add dialog, its fit panel and `workbench models`. torch-free."""

from __future__ import annotations

from pathlib import Path

from engine.export.adapter_folder import adapter_base_problem, is_adapter_folder
from workbench.data.models import ModelRecord


def folder_problem(folder: Path, allow_pickle: bool) -> str | None:
    """Why this folder cannot be a model, or None. Weights other than safetensors load
    only with explicit permission, since unpickling them can run code."""
    if not folder.is_dir():
        return f"{folder} is not a folder."
    if is_adapter_folder(folder):  # an exported adapter: its base + the adapter
        return adapter_base_problem(folder)
    if not (folder / "config.json").is_file():
        return f"{folder} has no config.json; pick the folder that holds the model's files."
    has_safetensors = any(folder.glob("*.safetensors"))
    if not has_safetensors and not allow_pickle:
        return (
            "This folder has no .safetensors weights. Tick “Allow pickle weights” to load "
            ".bin/.pt files, but only for a model you trust."
        )
    return None


def model_dir(model: ModelRecord) -> Path:
    """The folder holding the model's config and weights, without downloading anything."""
    from engine.errors import ModelLoadError
    from engine.model_source import ModelSpec, resolve

    resolved = resolve(ModelSpec.from_dict(model.load_spec()), offline=True)
    if resolved.local_dir is None:
        raise ModelLoadError(
            f"{model.path} is not downloaded yet, so its size is unknown.",
            "Generate once with it (the worker downloads it), then the estimate appears.",
        )
    return resolved.local_dir
