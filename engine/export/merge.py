"""Base model + LoRA adapter merged into one standard Hugging Face folder: safetensors
shards, config, tokenizer, chat template, and a generation config that stops at the
chat template's end-of-turn token. transformers loads it with no project code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.export.formats import (
    MERGED_DTYPES,
    ExportCancelled,
    ExportError,
    Progress,
    ShouldStop,
    never_stop,
    no_progress,
)

# Tokens that end an assistant turn in common chat templates; the one a template uses
# must stop generation, or a merged model talks past its answer (LLaMA-Factory #6020).
END_OF_TURN_TOKENS = (
    "<|im_end|>",
    "<|eot_id|>",
    "<|end|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "</s>",
)
TORCH_DTYPES = {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}
SHARD_SIZE = "2GB"


def tokenizer_folder(adapter_dir: Path, base_dir: Path) -> Path:
    """The adapter's own tokenizer when it saved one (added tokens), else the base's."""
    return adapter_dir if (adapter_dir / "tokenizer_config.json").is_file() else base_dir


def end_of_turn_ids(tokenizer: Any) -> list[int]:
    """The eos id, then every known end-of-turn token that the chat template writes."""
    ids: list[int] = []
    if tokenizer.eos_token_id is not None:
        ids.append(int(tokenizer.eos_token_id))
    template = tokenizer.chat_template if isinstance(tokenizer.chat_template, str) else ""
    vocab = tokenizer.get_vocab()
    for token in END_OF_TURN_TOKENS:
        if token in vocab and token in (template or "") and vocab[token] not in ids:
            ids.append(int(vocab[token]))
    return ids


def merged_model(base_dir: Path, adapter_dir: Path, trust_remote_code: bool = False) -> Any:
    """The base in float32 on the CPU with the adapter merged in: float32 so the merge
    adds the LoRA product without rounding (docs/architecture.md, "Models")."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    try:
        base = AutoModelForCausalLM.from_pretrained(
            base_dir, dtype=torch.float32, trust_remote_code=trust_remote_code
        )
    except Exception as exc:
        raise ExportError(
            f"The base model in {base_dir} could not be loaded: {exc}",
            "Check that the checkpoint's base model is still there (Model view).",
        ) from exc
    try:
        model = PeftModel.from_pretrained(base, adapter_dir)
    except Exception as exc:
        raise ExportError(
            f"The adapter in {adapter_dir} does not fit its base model: {exc}"
        ) from exc
    return model.merge_and_unload()


def save_generation_config(model: Any, tokenizer: Any, out_dir: Path) -> list[int]:
    config = model.generation_config
    stops = end_of_turn_ids(tokenizer)
    if stops:
        config.eos_token_id = stops[0] if len(stops) == 1 else stops
    if config.pad_token_id is None and tokenizer.pad_token_id is not None:
        config.pad_token_id = tokenizer.pad_token_id
    config.save_pretrained(out_dir)
    return stops


def merge_adapter(
    base_dir: Path,
    adapter_dir: Path,
    out_dir: Path,
    dtype: str = "f32",
    *,
    trust_remote_code: bool = False,
    progress: Progress = no_progress,
    should_stop: ShouldStop = never_stop,
) -> dict[str, Any]:
    """Write base + adapter merged into ``out_dir`` (which must exist and be empty)."""
    if dtype not in MERGED_DTYPES:
        raise ExportError(f"A merged model is saved as {', '.join(MERGED_DTYPES)}, not {dtype!r}.")
    import torch
    from transformers import AutoTokenizer

    base_dir, adapter_dir, out_dir = Path(base_dir), Path(adapter_dir), Path(out_dir)
    progress(0, 3, "loading the base model and the adapter")
    model = merged_model(base_dir, adapter_dir, trust_remote_code)
    if should_stop():
        raise ExportCancelled("merge cancelled")
    progress(1, 3, "saving the merged weights")
    model = model.to(getattr(torch, TORCH_DTYPES[dtype]))
    model.save_pretrained(out_dir, safe_serialization=True, max_shard_size=SHARD_SIZE)
    if should_stop():
        raise ExportCancelled("merge cancelled")
    progress(2, 3, "saving the tokenizer and generation config")
    tokenizer = AutoTokenizer.from_pretrained(
        tokenizer_folder(adapter_dir, base_dir), trust_remote_code=trust_remote_code
    )
    tokenizer.save_pretrained(out_dir)
    stops = save_generation_config(model, tokenizer, out_dir)
    progress(3, 3, "merged")
    return {
        "dtype": dtype,
        "eos_token_ids": stops,
        "stop_tokens": tokenizer.convert_ids_to_tokens(stops),
        "bos_token": tokenizer.bos_token,
        "chat_template": bool(tokenizer.chat_template),
        "parameters": sum(p.numel() for p in model.parameters()),
    }
