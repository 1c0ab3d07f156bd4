"""The few collective operations the loop needs, through accelerate, that also work in a
single process (where they are identities)."""

from __future__ import annotations

import torch


def make_accelerator(device: str):
    import os

    from accelerate import Accelerator

    # Mixed precision is done by the loop's own autocast: accelerate's setting is a
    # process-wide singleton that cannot change between runs in one worker.
    # Under an FSDP config the loop shards the blocks itself (engine/training/sharding.py):
    # accelerate is kept to its collectives, so that prepare() never wraps the model twice.
    fsdp = os.environ.pop("ACCELERATE_USE_FSDP", None)
    try:
        return Accelerator(cpu=device == "cpu")
    finally:
        if fsdp is not None:
            os.environ["ACCELERATE_USE_FSDP"] = fsdp


def broadcast(accelerator, value):
    """Rank 0's value on every process."""
    if accelerator.num_processes == 1:
        return value
    from accelerate.utils import broadcast_object_list

    box = [value]
    broadcast_object_list(box, from_process=0)
    return box[0]


def gather_lists(accelerator, items: list) -> list:
    """Every process's ``items`` concatenated, on every process."""
    if accelerator.num_processes == 1:
        return list(items)
    from accelerate.utils import gather_object

    return gather_object(items)


def gather_mean(accelerator, value: torch.Tensor) -> torch.Tensor:
    if accelerator.num_processes == 1:
        return value
    return accelerator.reduce(value.detach().clone(), reduction="mean")


def any_process(accelerator, flag: bool) -> bool:
    if accelerator.num_processes == 1:
        return flag
    total = accelerator.reduce(
        torch.tensor([float(flag)], device=accelerator.device), reduction="sum"
    )
    return bool(total.item() > 0)


def replicas_in_sync(accelerator, model) -> bool:
    """Every process holds the same trainable weights (DDP keeps them so; this checks it)."""
    # Sharded (FSDP) weights are compared whole, as rank 0 saves them.
    params = [whole(p.detach()).double().flatten() for p in model.parameters() if p.requires_grad]
    flat = torch.cat(params)
    weights = torch.arange(1, flat.numel() + 1, dtype=torch.float64, device=flat.device)
    digest = torch.stack([flat.sum(), (flat * weights).sum(), (flat * flat).sum()]).cpu().tolist()
    digests = gather_lists(accelerator, [digest])
    return all(d == digests[0] for d in digests)


def whole(tensor: torch.Tensor) -> torch.Tensor:
    full = getattr(tensor, "full_tensor", None)  # a DTensor shard of an FSDP block
    return full() if full is not None else tensor
