"""The model a run trains: LoRA on the loaded base model (or on a reward-model head),
and how the base is given back clean afterwards."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from engine.errors import ModelLoadError
from engine.lora import attach_lora, load_adapter, strip_adapters
from engine.training.config import TrainSettings
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


@contextmanager
def trainable_policy(base_model, settings: TrainSettings, init_adapter: Path | None):
    """Yield the PeftModel to train on ``base_model``; afterwards the base has no adapter.

    With ``init_adapter`` the run continues from that adapter (its LoRA settings win), and
    a frozen copy of it, named "reference", is the reference model.
    """
    base_model = prepare_quantized(base_model, settings)  # QLoRA's 4-bit base
    if init_adapter is None:
        model = _seeded_attach(base_model, settings)
    else:
        model = load_adapter(base_model, Path(init_adapter), trainable=True)
        model.load_adapter(str(init_adapter), adapter_name="reference", is_trainable=False)
        model.set_adapter("default")
        for name, param in model.named_parameters():
            param.requires_grad_(".default." in name and "lora_" in name)
    if settings.gradient_checkpointing:
        _checkpoint_activations(model)
    model.train()
    try:
        yield model
    finally:
        if settings.gradient_checkpointing:
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
    if settings.gradient_checkpointing:  # a fresh model of its own: nothing to undo after
        _checkpoint_activations(model)
    model.train()
    return model
