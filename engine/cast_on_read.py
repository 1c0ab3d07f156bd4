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

import json
from pathlib import Path
from typing import Any

# safetensors' dtype names, by bytes per value.
_FLOAT_WIDTH = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2}
_TARGET_WIDTH = {"float32": 4, "float16": 2, "bfloat16": 2}


def weight_files(folder: Path) -> list[Path] | None:
    """The safetensors files from_pretrained reads: the index's shards, or
    model.safetensors; None for any other layout (left to transformers)."""
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        weight_map = json.loads(index.read_text(encoding="utf-8")).get("weight_map", {})
        return sorted({folder / name for name in weight_map.values()}) or None
    single = folder / "model.safetensors"
    return [single] if single.is_file() else None


def stored_wider(files: list[Path], dtype: str) -> bool:
    """True when some floating-point tensor of ``files`` is stored wider than ``dtype``."""
    from engine.fit import _read_safetensors_header

    target = _TARGET_WIDTH.get(dtype)
    if target is None:
        return False
    for file in files:
        for info in _read_safetensors_header(file).values():
            if _FLOAT_WIDTH.get(str(info.get("dtype")), 0) > target:
                return True
    return False


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
