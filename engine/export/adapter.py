"""The PEFT adapter of a checkpoint, as a folder a user can share (torch-free): the
adapter's weights and config with ``base_model_name_or_path`` set to something another
machine can resolve, and a model card instead of PEFT's placeholder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from engine.export.adapter_folder import ADAPTER_CONFIG
from engine.export.formats import ExportError

# What a checkpoint holds for resuming a run, never for using the adapter.
_TRAINING_ONLY = {"training_state.pt", "trainer_state.json", "manifest.json", "README.md"}
_TRAINING_ONLY_PREFIXES = ("value_head",)


def adapter_files(checkpoint_dir: Path) -> list[Path]:
    files = [
        p
        for p in sorted(Path(checkpoint_dir).iterdir())
        if p.is_file()
        and p.name not in _TRAINING_ONLY
        and not p.name.startswith(_TRAINING_ONLY_PREFIXES)
    ]
    if not any(p.name == ADAPTER_CONFIG for p in files):
        raise ExportError(
            f"{checkpoint_dir} holds no {ADAPTER_CONFIG}, so it is not a LoRA checkpoint.",
            "Pick a checkpoint of a training run.",
        )
    return files


def export_adapter(
    checkpoint_dir: Path, out_dir: Path, base_reference: str, card: str
) -> dict[str, Any]:
    """Copy the adapter of ``checkpoint_dir`` into ``out_dir`` (existing, empty) with
    ``base_reference`` as its base and ``card`` as README.md."""
    out_dir = Path(out_dir)
    copied = []
    for path in adapter_files(Path(checkpoint_dir)):
        if path.name == ADAPTER_CONFIG:
            config = json.loads(path.read_text(encoding="utf-8"))
            config["base_model_name_or_path"] = base_reference
            (out_dir / ADAPTER_CONFIG).write_text(json.dumps(config, indent=2) + "\n")
        else:
            shutil.copy2(path, out_dir / path.name)
        copied.append(path.name)
    (out_dir / "README.md").write_text(card, encoding="utf-8")
    return {"files": sorted([*copied, "README.md"]), "base_model": base_reference}
