"""Whether a Hugging Face model folder can become a GGUF file, decided from its
config.json and tokenizer.json alone (torch-free), so an export is refused up front with
the reason instead of failing after minutes of merging.

The mapping follows llama.cpp's convert_hf_to_gguf.py: Llama and Mistral are written as
the ``llama`` architecture with the query and key rows permuted for its RoPE layout;
Qwen2 and Qwen3 keep Hugging Face's layout (NeoX RoPE).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.export.formats import ExportError

# Hugging Face class -> (GGUF architecture, whether q/k rows are permuted)
ARCHITECTURES: dict[str, tuple[str, bool]] = {
    "LlamaForCausalLM": ("llama", True),
    "MistralForCausalLM": ("llama", True),
    "Qwen2ForCausalLM": ("qwen2", False),
    "Qwen3ForCausalLM": ("qwen3", False),
}

# The pre-tokenizer regexes llama.cpp knows under a name (tokenizer.ggml.pre): the
# byte-level BPE text is split by these before merging, so the name must match.
_LLAMA3_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
    r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_QWEN2_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
    r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
PRE_TOKENIZERS = {_LLAMA3_REGEX: "llama-bpe", _QWEN2_REGEX: "qwen2"}

# tokenizer kinds: "bpe" (byte-level BPE, GGUF model gpt2), "chars" (one token per
# character, as the demo model: written as gpt2 BPE with no merges that fire), "llama"
# (SentencePiece-style BPE with byte fallback, GGUF model llama).
TOKENIZER_KINDS = ("bpe", "chars", "llama")


@dataclass(frozen=True)
class GgufPlan:
    hf_architecture: str
    architecture: str
    permute_qk: bool
    tokenizer: str
    pre: str
    rope_type: str


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExportError(f"{path} is missing.", "Pick a complete Hugging Face model.") from None
    except (OSError, ValueError) as exc:
        raise ExportError(f"{path} could not be read: {exc}.") from exc


def rope_settings(config: dict[str, Any]) -> dict[str, Any]:
    """transformers 5 writes ``rope_parameters``; older configs ``rope_theta`` and
    ``rope_scaling``. One dict either way, with ``rope_type`` and ``rope_theta``."""
    rope = dict(config.get("rope_parameters") or config.get("rope_scaling") or {})
    rope.setdefault("rope_theta", config.get("rope_theta", 10000.0))
    rope["rope_type"] = rope.get("rope_type") or rope.get("type") or "default"
    return rope


def _architecture(config: dict[str, Any], folder: Path) -> tuple[str, str, bool]:
    names = config.get("architectures") or []
    for name in names:
        if name in ARCHITECTURES:
            return (name, *ARCHITECTURES[name])
    known = ", ".join(n.removesuffix("ForCausalLM") for n in ARCHITECTURES)
    raise ExportError(
        f"GGUF export does not support the architecture {', '.join(names) or 'unknown'} "
        f"of {folder.name}; it writes {known} models.",
        "Export the merged model instead and convert it with llama.cpp's "
        "convert_hf_to_gguf.py, which knows more architectures.",
    )


def _rope_type(config: dict[str, Any], architecture: str) -> str:
    rope_type = rope_settings(config)["rope_type"]
    if rope_type == "default" or (rope_type == "llama3" and architecture == "llama"):
        return rope_type
    raise ExportError(
        f"GGUF export does not convert RoPE scaling {rope_type!r}.",
        "Export the merged model and convert it with llama.cpp's convert_hf_to_gguf.py.",
    )


def _pre_tokenizer_regexes(tok: dict[str, Any]) -> tuple[list[str], bool]:
    """(Split regexes, whether a ByteLevel step splits with GPT-2's own regex)."""
    pre = tok.get("pre_tokenizer") or {}
    steps = pre.get("pretokenizers", [pre]) if pre.get("type") == "Sequence" else [pre]
    regexes = [
        s["pattern"]["Regex"]
        for s in steps
        if s.get("type") == "Split" and "Regex" in (s.get("pattern") or {})
    ]
    gpt2_regex = any(s.get("type") == "ByteLevel" and s.get("use_regex", True) for s in steps)
    return regexes, gpt2_regex


def _is_byte_level(tok: dict[str, Any]) -> bool:
    text = json.dumps([tok.get("pre_tokenizer"), tok.get("decoder")])
    return '"ByteLevel"' in text


# Split patterns that cut text into single characters.
_CHAR_SPLITS = ({"Regex": ".|\\n"}, {"Regex": "(?s)."}, {"String": ""})


def _char_level(tok: dict[str, Any]) -> bool:
    model = tok.get("model") or {}
    specials = {t["content"] for t in tok.get("added_tokens", []) if t.get("special")}
    vocab = model.get("vocab") or {}
    pre = tok.get("pre_tokenizer") or {}
    steps = pre.get("pretokenizers", [pre]) if pre.get("type") == "Sequence" else [pre]
    return (
        model.get("type") == "WordLevel"
        and all(len(t) == 1 for t in vocab if t not in specials)
        and bool(steps)
        and all(s.get("type") == "Split" and s.get("pattern") in _CHAR_SPLITS for s in steps)
    )


def _tokenizer(folder: Path) -> tuple[str, str]:
    path = folder / "tokenizer.json"
    if not path.is_file():
        raise ExportError(
            f"{folder.name} has no tokenizer.json; GGUF export reads the fast tokenizer's file.",
            "Save the tokenizer with transformers (AutoTokenizer ... save_pretrained) first.",
        )
    tok = read_json(path)
    model = tok.get("model") or {}
    if _char_level(tok):
        return "chars", "default"
    if model.get("type") == "BPE" and model.get("byte_fallback"):
        return "llama", "default"
    if model.get("type") == "BPE" and _is_byte_level(tok):
        regexes, gpt2_regex = _pre_tokenizer_regexes(tok)
        if not regexes and gpt2_regex:
            return "bpe", "gpt-2"
        if len(regexes) == 1 and regexes[0] in PRE_TOKENIZERS:
            return "bpe", PRE_TOKENIZERS[regexes[0]]
        raise ExportError(
            f"The byte-level BPE tokenizer of {folder.name} splits text with a pattern "
            "llama.cpp has no name for, so llama.cpp would tokenize differently.",
            "GGUF export knows the GPT-2, Llama 3 and Qwen2 patterns; use llama.cpp's "
            "convert_hf_to_gguf.py for others.",
        )
    raise ExportError(
        f"GGUF export cannot convert the {model.get('type', 'unknown')} tokenizer of "
        f"{folder.name}: it writes byte-level BPE, SentencePiece-style BPE with byte "
        "fallback and one-token-per-character vocabularies.",
        "Export the merged model instead.",
    )


def plan_gguf(folder: Path) -> GgufPlan:
    """How ``folder`` (a base model or a merged one) is written as GGUF; ExportError with
    the reason when it cannot be."""
    folder = Path(folder)
    config = read_json(folder / "config.json")
    hf_arch, arch, permute = _architecture(config, folder)
    rope_type = _rope_type(config, arch)
    kind, pre = _tokenizer(folder)
    return GgufPlan(hf_arch, arch, permute, kind, pre, rope_type)
