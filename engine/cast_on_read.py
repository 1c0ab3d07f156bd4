"""The weights of a model stored wider than the dtype it loads in (float32 on disk, loaded
in bfloat16 on the CPU), read tensor by tensor with ``pread`` instead of a memory map.

transformers maps a safetensors file and casts each tensor from the mapping; every page
it reads stays mapped, and counted in the process' resident memory, until the whole model
is loaded: loading a 0.5 B model stored in float32 in bfloat16 peaked at the float32 file
(1.8 GiB) plus the bfloat16 model (0.9 GiB), above the training step that follows
(tests/benchmarks/bench_memory.py). Read with ``pread``, a tensor lands in memory of its
own that is freed once it is cast, and the file stays in the page cache, outside the
process. A model stored in the dtype it loads in keeps transformers' mapping, which
costs no copy at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.fit import largest_wider_tensor, weight_files

__all__ = ["load_cast_on_read", "stored_wider", "weight_files"]

_TARGET_WIDTH = {"float32": 4, "float16": 2, "bfloat16": 2}


def stored_wider(files: list[Path], dtype: str) -> bool:
    """True when some floating-point tensor of ``files`` is stored wider than ``dtype``."""
    target = _TARGET_WIDTH.get(dtype)
    return target is not None and largest_wider_tensor(files, target) > 0


def load_cast_on_read(folder: Path, files: list[Path], kwargs: dict[str, Any]) -> Any:
    """``AutoModelForCausalLM.from_pretrained`` of ``folder`` with its weights read by
    ``pread`` (``kwargs`` as for from_pretrained: config, dtype, attention...); the
    folder's generation config and name are kept as from_pretrained of the folder keeps
    them. For the architectures transformers itself knows (no remote code)."""
    from safetensors import safe_open
    from transformers import AutoModelForCausalLM, GenerationConfig

    # The Auto class wants a folder; the architecture's own class takes a state dict.
    model_class: Any = AutoModelForCausalLM._model_mapping[type(kwargs["config"])]

    handles = [safe_open(str(f), framework="pt", device="cpu", backend="pread") for f in files]
    try:
        state = {key: h.get_slice(key) for h in handles for key in h.keys()}  # read lazily
        config = kwargs["config"]
        config._name_or_path = str(folder)
        rest = {
            k: v for k, v in kwargs.items() if k not in ("use_safetensors", "trust_remote_code")
        }
        model = model_class.from_pretrained(None, state_dict=state, **rest)
    finally:
        for handle in handles:
            handle.__exit__(None, None, None)
    model.config._name_or_path = model.name_or_path = str(folder)
    if (folder / "generation_config.json").is_file():
        model.generation_config = GenerationConfig.from_pretrained(folder)
    return model
