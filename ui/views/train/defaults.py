"""What the Train form shows for a setting the user has not edited: the value the command
line would use for that algorithm, i.e. the engine's default under the project's defaults,
with their per-algorithm part (`by_algorithm`) on top. So a beta tuned for DPO is not
carried into GRPO unless the user typed it.

Values are keyed as the form's editors are ("beta", "lora.r") and in the form the
editors take (LoRA target modules as text)."""

from __future__ import annotations

import math
from typing import Any

from engine.training.config import setting_docs
from workbench.training.config import with_defaults

SETTING_KEYS = frozenset(key for key, _, _ in setting_docs())  # "beta", "lora.r", ...


def targets_text(value: Any) -> str:
    return ", ".join(value) if isinstance(value, list) else str(value)


def flatten(config: dict[str, Any]) -> dict[str, Any]:
    """A run config's settings as editor keys: the [lora] table becomes "lora.<name>"."""
    flat = {k: v for k, v in config.items() if k != "lora"}
    for name, value in (config.get("lora") or {}).items():
        flat[f"lora.{name}"] = targets_text(value) if name == "target_modules" else value
    return flat


def baseline(project_defaults: dict[str, Any], algorithm: str) -> dict[str, Any]:
    """Every setting's value for `algorithm` when nothing was edited."""
    values = flatten({key: value for key, value, _ in setting_docs() if "." not in key})
    lora = {key[5:]: value for key, value, _ in setting_docs() if key.startswith("lora.")}
    values.update(flatten({"lora": lora}))
    values.update(flatten(with_defaults({"algorithm": algorithm}, project_defaults)))
    return values


def same(a: Any, b: Any) -> bool:
    """Equal, with numbers compared to a relative 1e-9: a spin box may round 5e-4."""
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15) if numbers else a == b
