"""The model a run trains: LoRA on the loaded base model (or on a reward-model head),
and how the base is given back clean afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from engine.errors import ModelLoadError
from engine.lora import attach_lora, load_adapter, strip_adapters
from engine.training.config import TrainSettings
from engine.training.memory_defaults import resolve_base_dtype, resolve_checkpointing
from engine.training.qlora import prepare_quantized


def _seeded_attach(model, settings: TrainSettings, task_type: str | None = None):
    # LoRA's A matrices (and a reward head) are initialised randomly: seed them so that
    # the same config gives the same run.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings.seed)
        return attach_lora(model, settings.lora, task_type=task_type)


def load_reward_base(source_dir: Path, dtype: str, device: str, pad_token_id: int, seed: int):
    """A sequence-classification model (one score) on the same weights as the policy."""
    from transformers import AutoModelForSequenceClassification

    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = AutoModelForSequenceClassification.from_pretrained(
                source_dir, num_labels=1, dtype=getattr(torch, dtype), use_safetensors=True
            )
    except Exception as exc:
        raise ModelLoadError(
            f"{source_dir} cannot be loaded with a reward head: {exc}",
            "Reward models need a model with a sequence-classification class "
            "in transformers (most decoder LMs have one).",
        ) from exc
    model.config.pad_token_id = pad_token_id
    return model.to(device)


def _checkpoint_activations(model) -> None:
    """Recompute each block's activations in the backward pass instead of keeping them.

    With LoRA the embeddings are frozen, so the blocks' inputs do not require grad; a
    checkpointed block then gives its LoRA weights no gradient under the reentrant
    implementation (PEFT/TRL #2486). The non-reentrant one does not need it, and the
    embeddings' output is made to require grad as well, so that both give the gradients
    the run without checkpointing gives."""
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.enable_input_require_grads()


def recomputes_activations(model: Any) -> bool:
    """Whether ``model`` (or the one DistributedDataParallel wraps) recomputes its blocks in
    the backward pass, as ``_checkpoint_activations`` sets it up."""
    inner = getattr(model, "module", model)
    flag = getattr(inner, "is_activation_checkpointing", None)
    if flag is None:  # transformers before the rename
        flag = getattr(inner, "is_gradient_checkpointing", False)
    return bool(flag)


def resolve_run_settings(settings: TrainSettings, model: Any, device: str) -> TrainSettings:
    """``settings`` with ``base_dtype`` and ``gradient_checkpointing`` resolved for
    ``model`` on ``device`` (engine.training.memory_defaults): a dtype name, and "on" or
    "off"."""
    count = sum(int(p.numel()) for p in model.parameters())
    checkpointing = resolve_checkpointing(settings.gradient_checkpointing, count)
    return replace(
        settings,
        base_dtype=resolve_base_dtype(settings.base_dtype, device, count),
        gradient_checkpointing="on" if checkpointing else "off",
    )


@contextmanager
def _base_held_in(base_model, dtype: str) -> Iterator[None]:
    """Hold the frozen base in ``dtype`` (settings.base_dtype, resolved) for the run where
    its weights come back exact: widened (bfloat16 held in float32) and narrowed back
    after. A base loaded wider than ``dtype`` is left as it is, since narrowing it in place
    would round the weights of a model its caller (the worker's cache) goes on using; the
    application loads the base in the run's dtype, so this is only another caller's case.
    A 4-bit base is left as it is."""
    current = next(base_model.parameters()).dtype
    wanted = getattr(torch, dtype)
    quantized = getattr(base_model, "is_loaded_in_4bit", False) or getattr(
        base_model, "is_loaded_in_8bit", False
    )
    if quantized or not current.is_floating_point or not _widens(current, wanted):
        yield
        return
    base_model.to(wanted)
    try:
        yield
    finally:
        base_model.to(current)


def _widens(current: torch.dtype, wanted: torch.dtype) -> bool:
    # float16 and bfloat16 each fit in float32 exactly, but not in one another.
    return wanted.is_floating_point and torch.finfo(wanted).bits > torch.finfo(current).bits


@contextmanager
def trainable_policy(base_model, settings: TrainSettings, init_adapter: Path | None):
    """Yield the PeftModel to train on ``base_model``; afterwards the base has no adapter.

    With ``init_adapter`` the run continues from that adapter (its LoRA settings win), and
    a frozen copy of it, named "reference", is the reference model. The base is held in
    ``settings.base_dtype`` (resolved: engine.training.memory_defaults) during the run.
    """
    device = next(base_model.parameters()).device
    settings = resolve_run_settings(settings, base_model, str(device))
    with _base_held_in(base_model, settings.base_dtype):
        with _policy(base_model, settings, init_adapter) as model:
            yield model


@contextmanager
def _policy(base_model, settings: TrainSettings, init_adapter: Path | None):
    base_model = prepare_quantized(base_model, settings)  # QLoRA's 4-bit base
    if init_adapter is None:
        model = _seeded_attach(base_model, settings)
    else:
        model = load_adapter(base_model, Path(init_adapter), trainable=True)
        model.load_adapter(str(init_adapter), adapter_name="reference", is_trainable=False)
        model.set_adapter("default")
        for name, param in model.named_parameters():
            param.requires_grad_(".default." in name and "lora_" in name)
    if settings.gradient_checkpointing == "on":
        _checkpoint_activations(model)
    model.train()
    try:
        yield model
    finally:
        if settings.gradient_checkpointing == "on":
            model.base_model.model.gradient_checkpointing_disable()
            model.base_model.model.disable_input_require_grads()
        strip_adapters(base_model)
        for param in base_model.parameters():
            param.requires_grad_(False)
        base_model.eval()


def reward_policy(
    source_dir: Path, settings: TrainSettings, dtype: str, device: str, pad_token_id: int
) -> Any:
    base = load_reward_base(source_dir, dtype, device, pad_token_id, settings.seed)
    model = _seeded_attach(base, settings, task_type="SEQ_CLS")
    if settings.gradient_checkpointing in (True, "on"):  # a fresh model: nothing to undo
        _checkpoint_activations(model)
    model.train()
    return model
