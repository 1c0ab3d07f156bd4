"""Write one GGUF file from a Hugging Face folder (a merged model), with the gguf
package: no llama.cpp binary is needed. The architecture and tokenizer are checked first
(``plan_gguf``); the chat template and special tokens go into the file's metadata."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gguf

from engine.export.formats import (
    GGUF_DTYPES,
    ExportCancelled,
    ExportError,
    Progress,
    ShouldStop,
    never_stop,
    no_progress,
)
from engine.export.gguf_support import GgufPlan, plan_gguf, read_json, rope_settings
from engine.export.gguf_tensors import FILE_TYPES, count_tensors, gguf_tensors, stored_tensor
from engine.export.gguf_vocab import add_vocab, build_vocab


def _add_hyperparameters(
    writer: gguf.GGUFWriter, config: dict[str, Any], name: str, dtype: str
) -> None:
    n_head = config["num_attention_heads"]
    head_dim = config.get("head_dim") or config["hidden_size"] // n_head
    writer.add_name(name)
    writer.add_context_length(config.get("max_position_embeddings", 2048))
    writer.add_embedding_length(config["hidden_size"])
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(n_head)
    writer.add_head_count_kv(config.get("num_key_value_heads") or n_head)
    writer.add_key_length(head_dim)
    writer.add_value_length(head_dim)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(float(rope_settings(config)["rope_theta"]))
    writer.add_layer_norm_rms_eps(float(config.get("rms_norm_eps", 1e-6)))
    writer.add_vocab_size(config["vocab_size"])
    writer.add_file_type(FILE_TYPES[dtype])


def write_gguf(
    folder: Path,
    out_path: Path,
    dtype: str = "f16",
    *,
    name: str | None = None,
    progress: Progress = no_progress,
    should_stop: ShouldStop = never_stop,
) -> dict[str, Any]:
    """Convert ``folder`` into ``out_path``; returns what was written (architecture,
    tokenizer, tensor count). Raises ExportError up front for what cannot be converted,
    ExportCancelled when ``should_stop()`` turns true (``out_path`` is then partial: the
    caller writes into a temporary folder)."""
    if dtype not in GGUF_DTYPES:
        raise ExportError(f"GGUF type {dtype!r} is not one of {', '.join(GGUF_DTYPES)}.")
    folder, out_path = Path(folder), Path(out_path)
    plan: GgufPlan = plan_gguf(folder)
    config = read_json(folder / "config.json")
    vocab, special = build_vocab(folder, plan, config["vocab_size"])
    writer = gguf.GGUFWriter(out_path, plan.architecture)
    _add_hyperparameters(writer, config, name or folder.name, dtype)
    add_vocab(writer, vocab, special)
    total = count_tensors(folder) + 1
    written = 0
    for written, (tensor_name, data) in enumerate(gguf_tensors(folder, plan, config), start=1):
        if should_stop():
            writer.close()
            raise ExportCancelled("GGUF export cancelled")
        stored, qtype = stored_tensor(tensor_name, data, dtype)
        writer.add_tensor(tensor_name, stored, raw_dtype=qtype)
        progress(min(written, total - 1), total, f"converting {tensor_name}")
    progress(total - 1, total, "writing the GGUF file")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    progress(total, total, "GGUF written")
    return {
        "architecture": plan.architecture,
        "tokenizer": vocab.model,
        "pre_tokenizer": vocab.pre,
        "tensors": written,
        "dtype": dtype,
        "chat_template": special.chat_template is not None,  # type: ignore[attr-defined]
    }
