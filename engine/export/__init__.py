"""Taking a trained checkpoint out of the app: the PEFT adapter with a model card, the
merged Hugging Face model, a GGUF file for llama.cpp, and an Ollama Modelfile.

Torch-free, so the app can refuse a bad export before any model loads: this
``__init__``, ``formats``, ``gguf_support``, ``adapter_folder``, ``adapter``, ``card``
and ``modelfile``. ``merge`` imports torch, transformers and peft inside its functions;
``gguf_file``, ``gguf_tensors`` and ``gguf_vocab`` import gguf and numpy at module level.
The heavy ones run only in the worker (docs/architecture.md, "Export and packaging").
"""

from engine.export.formats import (
    FORMATS,
    GGUF_DTYPES,
    ExportCancelled,
    ExportError,
)

__all__ = ["FORMATS", "GGUF_DTYPES", "ExportCancelled", "ExportError"]
