"""LoRA adapters: settings, attach, save (PEFT format, safetensors), load.

``LoraSettings`` is a plain dataclass the GUI builds; importing this module does not
import torch or peft (they are imported inside the functions).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from engine.errors import CheckpointError, SettingsError

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"


@dataclass
class LoraSettings:
    """LoRA hyper-parameters. ``target_modules`` is "all-linear" (every linear layer of
    the transformer blocks, not the output head) or a list of module names such as
    ["q_proj", "v_proj"]. ``use_rslora`` scales by alpha/sqrt(r) instead of alpha/r."""

    r: int = 8
    alpha: float = 16
    dropout: float = 0.05
    target_modules: list[str] | str = "all-linear"
    use_rslora: bool = False

    def validate(self) -> None:
        """Raise SettingsError (a ValueError) when a value is out of range."""
        if not isinstance(self.r, int) or self.r < 1:
            raise SettingsError(
                f"LoRA rank r must be a whole number of at least 1, not {self.r!r}."
            )
        if not float(self.alpha) > 0:
            raise SettingsError(f"LoRA alpha must be above 0, not {self.alpha!r}.")
        if not 0 <= float(self.dropout) < 1:
            raise SettingsError(
                f"LoRA dropout must be at least 0 and below 1, not {self.dropout!r}."
            )
        targets = self.target_modules
        if isinstance(targets, str):
            if not targets.strip():
                raise SettingsError("LoRA target modules must not be empty.")
        elif not targets or not all(isinstance(t, str) and t.strip() for t in targets):
            raise SettingsError(
                f"LoRA target modules must be 'all-linear' or a list of module names, not {targets!r}."
            )

    def to_dict(self) -> dict:
        data = asdict(self)
        if isinstance(self.target_modules, list):
            data["target_modules"] = list(self.target_modules)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> LoraSettings:
        """Build from ``to_dict`` output; unknown keys are ignored. Validated."""
        known = {f.name for f in fields(cls)}
        settings = cls(**{k: v for k, v in data.items() if k in known})
        if isinstance(settings.target_modules, tuple):
            settings.target_modules = list(settings.target_modules)
        settings.validate()
        return settings


def _task_type(model: Any) -> str:
    name = type(model).__name__
    if name.endswith("ForSequenceClassification"):
        return "SEQ_CLS"
    if name.endswith("ForTokenClassification"):
        return "TOKEN_CLS"
    return "CAUSAL_LM"


def attach_lora(model: Any, settings: LoraSettings, *, task_type: str | None = None):
    """Wrap ``model`` in a PeftModel with a fresh, trainable LoRA adapter ("default").

    ``task_type`` defaults from the model class: "SEQ_CLS" for a sequence classifier (its
    score head is then trained and saved too), else "CAUSAL_LM". Only the adapter's
    parameters require gradients.
    """
    settings.validate()
    from peft import LoraConfig, get_peft_model

    targets = settings.target_modules
    config = LoraConfig(
        r=settings.r,
        # peft annotates lora_alpha as int but only divides by it: a fractional alpha works.
        lora_alpha=settings.alpha,  # type: ignore[arg-type]
        lora_dropout=settings.dropout,
        target_modules=targets if isinstance(targets, str) else list(targets),
        use_rslora=settings.use_rslora,
        bias="none",
        task_type=task_type or _task_type(model),
    )
    try:
        return get_peft_model(model, config)
    except ValueError as exc:
        raise SettingsError(
            f"LoRA could not be attached: {exc}",
            "Check the target module names against the model's layers, or use 'all-linear'.",
        ) from exc


def save_adapter(peft_model: Any, out_dir: Path, state_dict: dict | None = None) -> None:
    """Save the active adapter in PEFT format (adapter_config.json, adapter_model.safetensors).

    Only the active one: a run that continues from an adapter also holds a frozen copy of
    it as its reference, which belongs to no checkpoint. ``state_dict``: the weights to
    save instead of the model's own (an FSDP run's, gathered whole)."""
    out_dir = Path(out_dir)
    active = getattr(peft_model, "active_adapter", "default")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        peft_model.save_pretrained(
            str(out_dir),
            safe_serialization=True,
            selected_adapters=[active] if isinstance(active, str) else None,
            state_dict=state_dict,
        )
    except Exception as exc:
        raise CheckpointError(
            f"Could not save the adapter to {out_dir}: {exc}",
            "Check the free disk space and the folder's permissions.",
        ) from exc
    if not (out_dir / ADAPTER_WEIGHTS).is_file():
        raise CheckpointError(f"Saving the adapter to {out_dir} wrote no {ADAPTER_WEIGHTS}.")


def strip_adapters(model: Any) -> Any:
    """Remove every PEFT layer from ``model`` in place (without merging) and return it.

    Used to restore a base model when loading an adapter into it failed half-way.
    """
    from peft.tuners.tuners_utils import BaseTunerLayer

    while True:
        found = None
        for name, module in model.named_modules():
            if name and (
                isinstance(module, BaseTunerLayer)
                or hasattr(module, "unload_and_optionally_merge_module")
            ):
                found = (name, module)
                break
        if found is None:
            break
        name, module = found
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        if hasattr(module, "unload_and_optionally_merge_module"):
            replacement = module.unload_and_optionally_merge_module(
                merge=False, safe_merge=False, adapter_names=None
            )
        else:
            replacement = module.get_base_layer()
        setattr(parent, child, replacement)
    if hasattr(model, "peft_config"):
        del model.peft_config
    return model


def _check_adapter_dir(adapter_dir: Path) -> None:
    if not adapter_dir.is_dir():
        raise CheckpointError(
            f"The adapter folder {adapter_dir} does not exist.",
            "Pick a checkpoint or adapter folder that exists.",
        )
    config_path = adapter_dir / ADAPTER_CONFIG
    weights = adapter_dir / ADAPTER_WEIGHTS
    if not config_path.is_file():
        raise CheckpointError(
            f"{adapter_dir} has no {ADAPTER_CONFIG}, so it is not a PEFT adapter.",
            "Pick the folder of a saved adapter or checkpoint.",
        )
    if not weights.is_file():
        pickled = adapter_dir / "adapter_model.bin"
        hint = (
            "Its weights are a pickle file (adapter_model.bin), which is not loaded; "
            "convert it to safetensors."
            if pickled.is_file()
            else "The checkpoint is incomplete; pick another one."
        )
        raise CheckpointError(f"{adapter_dir} has no {ADAPTER_WEIGHTS}.", hint)
    try:
        json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(
            f"The adapter config {config_path} is unreadable: {exc}.",
            "The checkpoint is damaged; pick another one.",
        ) from exc
    try:
        from safetensors import safe_open

        with safe_open(str(weights), framework="pt") as handle:
            for key in handle.keys():
                handle.get_slice(key)
    except Exception as exc:
        raise CheckpointError(
            f"The adapter weights {weights} are corrupt: {exc}.",
            "The checkpoint is damaged; pick another one.",
        ) from exc


def load_adapter(model: Any, adapter_dir: Path, trainable: bool = False):
    """Load the PEFT adapter in ``adapter_dir`` onto ``model`` and return the PeftModel.

    The base model is modified in place (its linear layers are wrapped); ``unload()`` on
    the result gives it back clean. A missing, incomplete, corrupt or mismatched adapter
    raises CheckpointError and leaves ``model`` without adapter layers.
    """
    adapter_dir = Path(adapter_dir)
    _check_adapter_dir(adapter_dir)
    from peft import PeftModel

    try:
        peft_model = PeftModel.from_pretrained(model, str(adapter_dir), is_trainable=trainable)
    except Exception as exc:
        strip_adapters(model)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"The adapter in {adapter_dir} could not be loaded onto this model: {first}",
            "Check that the adapter was trained on this base model; the checkpoint may be damaged.",
        ) from exc
    if not trainable:
        peft_model.eval()
    return peft_model


@contextmanager
def forwards_replaced(
    modules: Iterable[Any], make_forward: Callable[[Any], Callable[..., Any] | None]
) -> Iterator[int]:
    """Inside the block, each module for which ``make_forward(module)`` gives a function
    runs it as its forward (an instance attribute shadows the class's method); yields how
    many were replaced. Their own forward is back afterwards, whatever happens inside."""
    replaced = []
    try:
        for module in modules:
            forward = make_forward(module)
            if forward is not None:
                module.forward = forward
                replaced.append(module)
        yield len(replaced)
    finally:
        for module in replaced:
            del module.forward
