"""The model card of an exported adapter or merged model (torch-free): where it came
from (base model, algorithm and settings, dataset counts by source and hash), the run's
final metrics and its latest evaluation pass rates, as a Hugging Face README.md with
YAML front matter."""

from __future__ import annotations

import json
from typing import Any


def _front_matter(info: dict[str, Any], adapter: bool) -> str:
    lines = ["---"]
    if info.get("base_model_id"):
        lines.append(f"base_model: {json.dumps(info['base_model_id'])}")
    lines.append(f"library_name: {'peft' if adapter else 'transformers'}")
    tags = ["alignment-workbench", info.get("algorithm", ""), "lora"]
    lines.append("tags:")
    lines += [f"- {tag}" for tag in tags if tag]
    lines.append("---")
    return "\n".join(lines)


def _table(rows: dict[str, Any], header: tuple[str, str]) -> list[str]:
    if not rows:
        return ["(none recorded)"]
    out = [f"| {header[0]} | {header[1]} |", "|---|---|"]
    for key, value in rows.items():
        shown = f"{value:.4g}" if isinstance(value, float) else json.dumps(value)
        out.append(f"| {key} | {shown} |")
    return out


def _evaluations(evaluations: list[dict[str, Any]]) -> list[str]:
    if not evaluations:
        return ["No evaluation of this checkpoint was recorded."]
    out = []
    for ev in evaluations:
        rates = ev.get("pass_rate") or {}
        shown = ", ".join(f"{rule} {rate:.1%}" for rule, rate in rates.items()) or "no rules"
        out.append(f"- `{ev.get('split')}` split, {ev.get('num_prompts')} prompts: {shown}")
    return out


def render_card(info: dict[str, Any], *, adapter: bool) -> str:
    """``info`` holds ``name``, ``base_model`` (shown), ``base_model_id`` (a Hub id or
    None), ``algorithm``, ``settings``, ``dataset`` ({"by_source", "hash", "counts"}),
    ``metrics`` (final values), ``evaluations`` and ``step``; every key may be missing."""
    dataset = info.get("dataset") or {}
    what = "A LoRA adapter" if adapter else "A model merged from a base and a LoRA adapter"
    lines = [
        _front_matter(info, adapter),
        "",
        f"# {info.get('name', 'exported model')}",
        "",
        f"{what} trained with Alignment Workbench ({info.get('algorithm', '?')}, "
        f"run {info.get('run_id', '?')}, step {info.get('step', '?')}).",
        "",
        f"- Base model: {info.get('base_model', 'unknown')}",
        f"- Algorithm: {info.get('algorithm', 'unknown')}",
        f"- Dataset hash: `{dataset.get('hash') or 'unknown'}`",
        "",
        "## Dataset",
        "",
        *_table(dataset.get("by_source") or {}, ("source", "labels")),
        "",
        *_table(dataset.get("counts") or {}, ("split", "examples")),
        "",
        "## Final metrics",
        "",
        *_table(info.get("metrics") or {}, ("metric", "value")),
        "",
        "## Evaluation",
        "",
        *_evaluations(info.get("evaluations") or []),
        "",
        "## Settings",
        "",
        "```json",
        json.dumps(info.get("settings") or {}, indent=2, sort_keys=True),
        "```",
        "",
    ]
    if adapter:
        lines += [
            "## Use",
            "",
            "```python",
            "from peft import AutoPeftModelForCausalLM",
            "model = AutoPeftModelForCausalLM.from_pretrained('PATH_TO_THIS_FOLDER')",
            "```",
            "",
        ]
    return "\n".join(lines)
