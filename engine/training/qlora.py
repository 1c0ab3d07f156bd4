"""QLoRA's options of a run: the base model in 4-bit NF4 (``load_in_4bit``) and the paged
8-bit AdamW (``optim = "paged_adamw_8bit"``), both bitsandbytes on a CUDA GPU.

``check_options`` refuses them anywhere else before the model loads (torch-free, so the
application calls it first); the rest follows peft's QLoRA recipe
(``prepare_model_for_kbit_training``) and bitsandbytes' optimizer API."""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any

from engine.device import pick_device
from engine.errors import EngineError

if TYPE_CHECKING:
    from engine.training.config import TrainSettings

PAGED_ADAMW_8BIT = "paged_adamw_8bit"


def wanted(settings: TrainSettings) -> list[str]:
    """The options of ``settings`` that need bitsandbytes on CUDA, as a user names them."""
    names = ["load_in_4bit"] if settings.load_in_4bit else []
    return names + ([f"optim = {PAGED_ADAMW_8BIT}"] if settings.optim == PAGED_ADAMW_8BIT else [])


def check_options(settings: TrainSettings, device: str | None = None) -> None:
    """Raise EngineError, with what to do, when the run asks for 4-bit weights or the
    paged 8-bit optimizer where they cannot run: off a CUDA GPU, or without bitsandbytes."""
    names = wanted(settings)
    if not names:
        return
    where = device or settings.device
    if not where.startswith("cuda"):  # "auto" is CUDA where there is a GPU
        where = pick_device(where)
    listed = " and ".join(names)
    if not where.startswith("cuda"):
        raise EngineError(
            f"{listed} needs a CUDA GPU (bitsandbytes' kernels); this run would train on {where}.",
            "Turn it off (load_in_4bit = false, optim = adamw_torch), or train on a machine "
            "with an NVIDIA GPU.",
        )
    if importlib.util.find_spec("bitsandbytes") is None:
        raise EngineError(
            f"{listed} needs the bitsandbytes package, which is not installed.",
            "Install it (`pip install 'alignment-workbench[qlora]'` or `pip install "
            "bitsandbytes`), or turn the option off.",
        )


def quantization(settings: TrainSettings) -> str | None:
    """The ``quantization`` to load the run's base model with (engine.loading)."""
    return "4bit" if settings.load_in_4bit else None


def prepare_quantized(model: Any, settings: TrainSettings) -> Any:
    """peft's preparation of a 4-bit base for LoRA training (norms and head in float32,
    input gradients on for checkpointing); a base not loaded in 4 or 8 bits is returned as is."""
    if not (
        getattr(model, "is_loaded_in_4bit", False) or getattr(model, "is_loaded_in_8bit", False)
    ):
        return model
    from peft import prepare_model_for_kbit_training

    return prepare_model_for_kbit_training(
        model,
        use_gradient_checkpointing=settings.gradient_checkpointing in (True, "on"),
        gradient_checkpointing_kwargs={"use_reentrant": False},
    )


def make_optimizer(params: list, settings: TrainSettings, device: str) -> Any:
    """The run's optimizer: torch's AdamW, or bitsandbytes' paged 8-bit AdamW."""
    import torch

    lr, decay = settings.learning_rate, settings.weight_decay
    if settings.optim == PAGED_ADAMW_8BIT:
        check_options(settings, device)
        import bitsandbytes as bnb

        return bnb.optim.PagedAdamW8bit(params, lr=lr, weight_decay=decay)
    return torch.optim.AdamW(params, lr=lr, weight_decay=decay)
