"""Run configs as TOML files: writing one in the form `workbench train --config` reads,
and reading one back, validated, as a config dictionary."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from workbench.training.config import RunConfig, load_config


def config_toml(config: dict[str, Any]) -> str:
    """The config as the TOML file `workbench train --config` reads: flat keys, then a
    [lora] table; unset (None) values are left out, so they keep their defaults."""
    flat = {k: v for k, v in config.items() if k != "lora" and v is not None}
    lines = [f"# Alignment Workbench run config, {time.strftime('%Y-%m-%d %H:%M')}"]
    lines += [f"{key} = {toml_value(value)}" for key, value in flat.items()]
    lora = {k: v for k, v in (config.get("lora") or {}).items() if v is not None}
    if lora:
        lines += ["", "[lora]"] + [f"{key} = {toml_value(value)}" for key, value in lora.items()]
    return "\n".join(lines) + "\n"


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # 1e-05, inf and nan are TOML floats too
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"Cannot write {value!r} to a TOML config.")


def save_config_file(config: dict[str, Any], path: str | Path) -> Path:
    RunConfig.from_dict(config)
    path = Path(path)
    path.write_text(config_toml(config), encoding="utf-8")
    return path


def load_config_file(path: str | Path) -> dict[str, Any]:
    """The file's config, validated, as a config dictionary."""
    return load_config(path).to_dict()
