"""Pick the accelerator and the floating-point type, and read how much memory it has.

torch is imported inside the functions that need it, so importing this module is cheap;
``device_memory("cpu")`` never imports torch at all.
"""

from __future__ import annotations

import os
import re

from engine.errors import EngineError

DTYPES = ("float32", "float16", "bfloat16")
_DEVICE_RE = re.compile(r"^(cuda|mps|cpu)(?::(\d+))?$")


def _parse(device: str) -> tuple[str, int | None]:
    match = _DEVICE_RE.match(device.strip().lower())
    if not match:
        raise EngineError(
            f"Unknown device {device!r}.",
            "Choose 'auto', 'cuda', 'cuda:N', 'mps' or 'cpu'.",
        )
    return match.group(1), int(match.group(2)) if match.group(2) is not None else None


def _cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def pick_device(preference: str = "auto") -> str:
    """Return "cuda", "mps" or "cpu" (or "cuda:N" when asked for one).

    "auto" picks the best device present: CUDA, then Apple MPS, then the CPU. An explicit
    device that this machine does not have raises EngineError.
    """
    pref = (preference or "auto").strip().lower()
    if pref == "auto":
        if _cuda_available():
            return "cuda"
        if _mps_available():
            return "mps"
        return "cpu"
    kind, index = _parse(pref)
    if kind == "cpu":
        return "cpu"
    if kind == "cuda":
        if not _cuda_available():
            raise EngineError(
                "CUDA was asked for, but no CUDA GPU is available to PyTorch here.",
                "Choose 'auto' or 'cpu', or install a CUDA build of PyTorch and a driver.",
            )
        if index is not None:
            import torch

            count = torch.cuda.device_count()
            if index >= count:
                raise EngineError(
                    f"GPU cuda:{index} was asked for, but this machine has {count} CUDA GPU(s).",
                    "Choose a GPU index below the count, or 'cuda' for the first one.",
                )
            return f"cuda:{index}"
        return "cuda"
    if not _mps_available():
        raise EngineError(
            "Apple MPS was asked for, but it is not available here.",
            "Choose 'auto' or 'cpu' (MPS needs an Apple-silicon Mac and macOS 12.3 or later).",
        )
    return "mps"


def _cuda_supports_bf16(device: str) -> bool:
    import torch

    _, index = _parse(device)
    try:
        major, _minor = torch.cuda.get_device_capability(index if index is not None else 0)
    except Exception:  # no usable device: treat as unsupported
        return False
    return major >= 8 and bool(torch.cuda.is_bf16_supported())


def pick_dtype(device: str, preference: str = "auto") -> str:
    """Return "bfloat16", "float16" or "float32" for ``device``.

    "auto": bfloat16 on a CUDA GPU that supports it (Ampere or later), float16 on other
    CUDA GPUs and on MPS, float32 on the CPU. An explicit dtype is checked: bfloat16 on a
    CUDA GPU without bf16 support raises EngineError.
    """
    kind, _ = _parse(device)
    pref = (preference or "auto").strip().lower()
    aliases = {"fp32": "float32", "fp16": "float16", "half": "float16", "bf16": "bfloat16"}
    pref = aliases.get(pref, pref)
    if pref == "auto":
        if kind == "cuda":
            return "bfloat16" if _cuda_supports_bf16(device) else "float16"
        if kind == "mps":
            return "float16"
        return "float32"
    if pref not in DTYPES:
        raise EngineError(
            f"Unknown dtype {preference!r}.",
            "Choose 'auto', 'float32', 'float16' or 'bfloat16'.",
        )
    if pref == "bfloat16" and kind == "cuda" and not _cuda_supports_bf16(device):
        raise EngineError(
            "This GPU does not support bfloat16.",
            "Choose 'float16' or 'auto'.",
        )
    return pref


def _cpu_memory() -> tuple[int, int]:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            fields = {}
            for line in handle:
                name, _, rest = line.partition(":")
                parts = rest.split()
                if parts:
                    fields[name] = int(parts[0]) * 1024  # values are in kB
        total = fields["MemTotal"]
        available = fields.get("MemAvailable", fields.get("MemFree", total))
        return total, available
    except (OSError, KeyError, ValueError):
        pass
    page = os.sysconf("SC_PAGE_SIZE")
    total = page * os.sysconf("SC_PHYS_PAGES")
    try:
        available = page * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError):  # macOS has no SC_AVPHYS_PAGES
        available = total
    return total, available


def device_memory(device: str) -> tuple[int, int]:
    """Return (total, available) bytes of memory of ``device``.

    CPU: /proc/meminfo (MemTotal, MemAvailable), else os.sysconf. CUDA:
    torch.cuda.mem_get_info. MPS: the recommended working-set size, less what the Metal
    driver has allocated (unified memory, so the CPU figure is the fallback).
    """
    kind, index = _parse(device)
    if kind == "cpu":
        return _cpu_memory()
    import torch

    if kind == "cuda":
        free, total = torch.cuda.mem_get_info(index if index is not None else 0)
        return int(total), int(free)
    mps = getattr(torch, "mps", None)
    if mps is None:  # older torch: unified memory, use the CPU's
        return _cpu_memory()
    try:
        total = int(mps.recommended_max_memory())
        used = int(mps.driver_allocated_memory())
        return total, max(total - used, 0)
    except Exception:  # older torch or no MPS: unified memory, use the CPU's
        return _cpu_memory()
