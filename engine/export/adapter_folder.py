"""A PEFT adapter folder as a model of its own (torch-free): which base it names, and
where that base is, so "Add model…" can take an exported adapter and the engine can load
base + adapter."""

from __future__ import annotations

import json
import os
from pathlib import Path

from engine.errors import ModelLoadError

ADAPTER_CONFIG = "adapter_config.json"
# The adapter files a checkpoint folder holds beside its training state.
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")


def is_adapter_folder(folder: Path) -> bool:
    folder = Path(folder)
    return (folder / ADAPTER_CONFIG).is_file() and not (folder / "config.json").is_file()


def adapter_base(folder: Path) -> str:
    """The adapter's ``base_model_name_or_path`` as written."""
    path = Path(folder) / ADAPTER_CONFIG
    try:
        base = json.loads(path.read_text(encoding="utf-8")).get("base_model_name_or_path")
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{path} could not be read: {exc}.") from exc
    if not base:
        raise ModelLoadError(
            f"The adapter in {folder} does not say which base model it was trained on "
            "(base_model_name_or_path is empty).",
            "Add the base model itself, or set base_model_name_or_path in adapter_config.json.",
        )
    return str(base)


def resolve_adapter_base(folder: Path) -> str:
    """The base as a path or Hub id the model resolver takes: a relative path is taken
    from the adapter folder, as the adapter export writes it."""
    base = adapter_base(folder)
    candidate = Path(folder) / base
    if not os.path.isabs(base) and (base.startswith(".") or candidate.is_dir()):
        return str(candidate.resolve())
    return base


def relative_base(base_dir: Path, out_dir: Path) -> str:
    """``base_dir`` as seen from ``out_dir``, for an exported adapter's config."""
    return os.path.relpath(Path(base_dir).resolve(), Path(out_dir).resolve())


def adapter_base_problem(folder: Path) -> str | None:
    """Why the base of the adapter in ``folder`` cannot be found, or None. A Hub id is
    accepted as it is: the worker finds it in the cache or downloads it."""
    from engine.model_source import looks_like_repo_id

    try:
        base = resolve_adapter_base(folder)
    except ModelLoadError as exc:
        return str(exc)
    if Path(base).is_dir() or (not os.path.isabs(base) and looks_like_repo_id(base)):
        return None
    return (
        f"This adapter's base model {base} is not there. Put the base model back, or "
        "set base_model_name_or_path in adapter_config.json to its folder or Hub id."
    )
