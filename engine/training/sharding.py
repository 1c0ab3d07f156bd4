"""FSDP: a run started by `accelerate launch` with an accelerate config whose
``distributed_type`` is FSDP trains with each decoder block's weights (frozen base and
LoRA) sharded over the processes by torch's FSDP2 (``fully_shard``); the adapter is
gathered whole and saved by rank 0.

Why torch's ``fully_shard`` and not accelerate's FSDP plugin: accelerate turns FSDP on only
for GPU processes (a CPU launch silently falls back to DDP), and the same path has to run,
and be tested, on the CPU with gloo. accelerate still starts the processes, gives the
collectives and reads the config file; the launcher's ``FSDP_*`` variables say how to shard.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from engine.errors import EngineError

if TYPE_CHECKING:  # torch only when a run shards: the refusal is checked before it loads
    import torch


def fsdp_requested() -> bool:
    """True in a process that `accelerate launch` started from an FSDP config."""
    return os.environ.get("ACCELERATE_USE_FSDP", "false").lower() == "true"


def refuse_unsupported(online: bool, world_size: int) -> None:
    """Online runs sample with a decode loop that reads every weight in every process, which
    sharded weights do not allow: refused before the run starts."""
    if fsdp_requested() and world_size > 1 and online:
        raise EngineError(
            "FSDP trains the offline algorithms (DPO and its variants, SimPO, ORPO, KTO, SFT, "
            "reward model); online algorithms sample from the whole model in each process.",
            "Launch online runs with a DDP accelerate config (distributed_type: MULTI_GPU, "
            "or MULTI_CPU on CPUs), or train an offline algorithm.",
        )


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    # FSDP1's sharding strategies, which accelerate still passes for old configs.
    if value.upper() in ("FULL_SHARD", "HYBRID_SHARD"):
        return True
    if value.upper() in ("SHARD_GRAD_OP", "_HYBRID_SHARD_ZERO2", "NO_SHARD"):
        return False
    return value.lower() in ("1", "true", "yes")


def _blocks(model: Any) -> list[torch.nn.Module]:
    """The modules sharded one by one: the classes the config names
    (``fsdp_transformer_layer_cls_to_wrap``), else the model's decoder blocks (the classes
    transformers never splits across devices)."""
    named = os.environ.get("FSDP_TRANSFORMER_CLS_TO_WRAP")
    base = getattr(model, "get_base_model", lambda: model)()
    classes = set(named.split(",")) if named else set(getattr(base, "_no_split_modules", []) or [])
    blocks = [m for m in model.modules() if type(m).__name__ in classes]
    if not blocks:
        raise EngineError(
            f"FSDP found no block to shard in {type(base).__name__} "
            f"(looked for {', '.join(sorted(classes)) or 'no class'}).",
            "Name the model's decoder layer class in the accelerate config "
            "(fsdp_transformer_layer_cls_to_wrap), or use a DDP config.",
        )
    return blocks


def shard(model: Any, device: torch.device) -> Any:
    """Shard ``model``'s blocks in place over the processes of the default group.

    Only the blocks: the embeddings and output head stay whole in each process, frozen (LoRA
    trains no weight of theirs) so they need no gradient exchange, and the chunked output
    head reads its weight directly. Every LoRA weight lives in a block, so each one is
    sharded and its gradient reduce-scattered; a model with a trainable weight elsewhere
    (a reward model's score head) has its root sharded too."""
    from torch.distributed.fsdp import CPUOffloadPolicy, fully_shard

    kwargs: dict[str, Any] = {
        "reshard_after_forward": _env_flag("FSDP_RESHARD_AFTER_FORWARD", True),
    }
    if device.type == "cuda" and _env_flag("FSDP_OFFLOAD_PARAMS", False):
        kwargs["offload_policy"] = CPUOffloadPolicy()
    if device.type == "cuda":
        import torch.distributed
        from torch.distributed.device_mesh import init_device_mesh

        world = torch.distributed.get_world_size()
        kwargs["mesh"] = init_device_mesh("cuda", (world,))
    for block in _blocks(model):
        fully_shard(block, **kwargs)
    # A trainable weight outside the blocks (a reward model's score head) would get no
    # gradient exchange: the root is sharded too, which takes in every weight left.
    if any(p.requires_grad and not hasattr(p, "full_tensor") for p in model.parameters()):
        fully_shard(model, **kwargs)
    return model


def is_sharded(model: Any) -> bool:
    from torch.distributed.fsdp import FSDPModule

    return any(isinstance(m, FSDPModule) for m in model.modules())


def _fsdp_modules(model: Any) -> list[Any]:
    from torch.distributed.fsdp import FSDPModule

    return [m for m in model.modules() if isinstance(m, FSDPModule)]


@contextlib.contextmanager
def whole_weights(model: Any) -> Iterator[None]:
    """Every block's weights gathered in every process for the duration (sample
    generation, which calls the blocks a number of times no shard hook can follow).
    Every process must enter it together."""
    modules = _fsdp_modules(model)
    for module in modules:
        module.unshard()
        module.set_reshard_after_forward(False, recurse=False)
    try:
        yield
    finally:
        for module in modules:
            module.reshard()
        reshard = _env_flag("FSDP_RESHARD_AFTER_FORWARD", True)
        for module in modules:
            module.set_reshard_after_forward(reshard, recurse=False)


def full_trainable_state(model: Any) -> dict[str, torch.Tensor]:
    """The trainable weights (the adapter), each gathered whole, on the CPU. A collective:
    every process calls it; rank 0 saves the result."""
    out = {}
    for name, param in model.named_parameters():
        if param.requires_grad:
            value = param.detach()
            if hasattr(value, "full_tensor"):  # a DTensor shard
                value = value.full_tensor()
            out[name] = value.cpu().clone()
    return out


def full_optimizer_state(model: Any, optimizer: Any) -> dict[str, Any]:
    """The optimizer's state with every moment gathered whole (a collective), in the
    layout ``torch.distributed.checkpoint`` reads back into a sharded run."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_optimizer_state_dict

    options = StateDictOptions(full_state_dict=True, cpu_offload=True)
    return get_optimizer_state_dict(model, optimizer, options=options)


def load_full_optimizer_state(model: Any, optimizer: Any, state: dict[str, Any]) -> None:
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict

    options = StateDictOptions(full_state_dict=True)
    set_optimizer_state_dict(model, optimizer, state, options=options)


def describe(model: Any) -> str:
    """How the model is sharded, for the run's log: blocks and this process's share of the
    trainable weights."""
    modules = _fsdp_modules(model)
    local = total = 0
    for param in model.parameters():
        if param.requires_grad:
            total += param.numel()
            shard = getattr(param, "to_local", None)
            local += shard().numel() if shard is not None else param.numel()
    return f"FSDP: {len(modules)} blocks sharded, {local:,} of {total:,} LoRA weights here"
