"""What an export can produce, and the errors it raises (torch-free)."""

from __future__ import annotations

from collections.abc import Callable

from engine.errors import EngineError

# adapter: the PEFT adapter and its card; merged: a standalone Hugging Face folder;
# gguf: one llama.cpp file; ollama: the GGUF file plus a Modelfile.
FORMATS = ("adapter", "merged", "gguf", "ollama")
# The GGUF tensor types offered. q8_0 is the one quantization the gguf package writes
# exactly as llama.cpp does (blocks of 32 with one f16 scale).
GGUF_DTYPES = ("f16", "bf16", "f32", "q8_0")
MERGED_DTYPES = ("f32", "f16", "bf16")

Progress = Callable[[int, int, str], None]
ShouldStop = Callable[[], bool]


class ExportError(EngineError, ValueError):
    """An export that cannot be made: an unsupported architecture or tokenizer, a
    missing base model, a full disk. Also a ``ValueError`` so the CLI prints it."""


class ExportCancelled(Exception):
    """The user cancelled an export; the caller removes what was written."""


def no_progress(_done: int, _total: int, _message: str = "") -> None:
    return None


def never_stop() -> bool:
    return False
