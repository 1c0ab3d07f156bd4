"""What "auto" means for the two memory settings of a run, by model size and device:
``base_dtype`` (the dtype the frozen base weights are held in) and
``gradient_checkpointing``.

As Unsloth and LLaMA-Factory do, a model large enough for memory to matter trains with
its frozen base in bfloat16 where the device computes in it natively (a CUDA GPU with
bf16, a CPU with AVX512-BF16 or AMX) and with gradient checkpointing on; the LoRA
weights, their gradients and the optimizer stay float32 (PEFT keeps an adapter float32
over a half-precision base). A small model (the demo's) stays float32 without
checkpointing, so its tuned results do not move. No torch at import: the application
resolves the load dtype before the worker loads the model.
"""

from __future__ import annotations

from pathlib import Path

# The size threshold and what "auto" checkpointing means live with the memory estimate,
# which counts them too; they are this module's settings as much.
from engine.fit import LARGE_MODEL_PARAMETERS, estimate_fit, is_large, resolve_checkpointing

__all__ = [
    "BASE_DTYPES",
    "CHECKPOINTING",
    "LARGE_MODEL_PARAMETERS",
    "cpu_computes_bf16",
    "device_computes_bf16",
    "folder_parameters",
    "is_large",
    "resolve_base_dtype",
    "resolve_checkpointing",
]

BASE_DTYPES = ("auto", "float32", "bfloat16", "float16")
CHECKPOINTING = ("auto", "on", "off")
# The /proc/cpuinfo flags of CPUs whose bf16 matrix products run natively (oneDNN).
_CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_computes_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True when the CPU has AVX512-BF16 or AMX (Linux; elsewhere False: emulated bf16
    is slower than float32)."""
    try:
        text = cpuinfo.read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    flags = next((line for line in text.splitlines() if line.startswith("flags")), "")
    return any(flag in flags.split() for flag in _CPU_BF16_FLAGS)


def device_computes_bf16(device: str) -> bool:
    """True on a CUDA GPU with bf16 (Ampere or later) and on a bf16-capable CPU."""
    if device.startswith("cuda"):
        from engine.device import pick_dtype

        return pick_dtype(device) == "bfloat16"
    return device == "cpu" and cpu_computes_bf16()


def resolve_base_dtype(choice: str, device: str, num_parameters: int) -> str:
    """The dtype of the frozen base: ``choice`` itself unless "auto", which is bfloat16
    for a large model on a device that computes in it, else the device's own default
    (float16 on older GPUs and MPS, float32 on other CPUs: engine.device.pick_dtype)."""
    if choice != "auto":
        return choice
    if is_large(num_parameters) and device_computes_bf16(device):
        return "bfloat16"
    from engine.device import pick_dtype

    return pick_dtype(device)


def folder_parameters(folder: Path) -> int:
    """A model folder's parameter count from its safetensors headers or config.json,
    without loading it (engine.fit's reading)."""
    return estimate_fit(folder).num_parameters
