"""Reference log-probabilities, computed once and cached on disk.

Every reference quantity the offline methods need is the summed log-prob of one
completion given one prompt under the frozen reference, so the cache maps a sequence
(its token ids) to that number. It is namespaced by the reference itself (base weights,
adapter, dtype, device type): a second run on the same labels, or on the same labels
plus a few new ones, computes only what is missing.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

from engine.training.batching import pad_sequences
from engine.training.logprobs import sequence_logps

Sequence = tuple[list[int], list[int]]  # (prompt ids, completion ids)


def sequence_key(prompt_ids: list[int], completion_ids: list[int]) -> str:
    text = ",".join(map(str, prompt_ids)) + "|" + ",".join(map(str, completion_ids))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _file_identity(path: Path) -> str:
    # A hub cache snapshot links to a blob named by its sha256; a local file is named by
    # its size and modification time (hashing many GB of weights at every run is too slow).
    real = path.resolve()
    stat = real.stat()
    return f"{path.name}:{real.name}:{stat.st_size}:{stat.st_mtime_ns}"


def reference_namespace(source_dir: Path, adapter_dir: Path | None, dtype: str, device: str) -> str:
    parts = [
        (Path(source_dir) / "config.json").read_text(encoding="utf-8"),
        dtype,
        device.split(":")[0],
    ]
    parts += sorted(_file_identity(p) for p in Path(source_dir).glob("*.safetensors"))
    if adapter_dir is not None:
        parts += sorted(_file_identity(p) for p in Path(adapter_dir).glob("adapter_*"))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


class ReferenceCache:
    """``folder/<namespace>.json``: {sequence key: summed log-prob}. No folder: no cache."""

    def __init__(self, folder: Path | None, namespace: str):
        self.path = None if folder is None else Path(folder) / f"{namespace}.json"
        self.values: dict[str, float] = {}
        if self.path is not None and self.path.is_file():
            try:
                self.values = {k: float(v) for k, v in json.loads(self.path.read_text()).items()}
            except (OSError, ValueError, AttributeError):
                self.values = {}  # a damaged cache is only a slower run

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.path.parent)
        with os.fdopen(fd, "w") as handle:
            json.dump(self.values, handle)
        os.replace(tmp, self.path)


@contextmanager
def reference_mode(model) -> Iterator[None]:
    """The frozen reference: the adapter named "reference" when the run continues from an
    adapter, otherwise the base model with the adapter disabled (no second copy)."""
    if "reference" in getattr(model, "peft_config", {}):
        active = model.active_adapter
        model.set_adapter("reference")
        try:
            yield
        finally:
            model.set_adapter(active)
            for name, param in model.named_parameters():
                if ".reference." in name:
                    param.requires_grad_(False)
    else:
        with model.disable_adapter():
            yield


def compute_reference(
    model,
    sequences: list[Sequence],
    cache: ReferenceCache,
    *,
    pad_id: int,
    batch_size: int,
    device,
    rank: int = 0,
    world_size: int = 1,
    gather: Callable[[list], list] | None = None,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[float] | None:
    """Summed reference log-prob of every sequence, in order; None when stopped.

    Missing values are computed in batches, each process taking every world_size-th
    batch, then gathered, so every process ends with the full list.
    """
    keys = [sequence_key(p, c) for p, c in sequences]
    missing = sorted({k: i for i, k in enumerate(keys) if k not in cache.values}.values())
    batches = [missing[i : i + batch_size] for i in range(0, len(missing), batch_size)]
    found: dict[str, float] = {}
    was_training = model.training
    model.eval()
    try:
        with reference_mode(model), torch.no_grad():
            for b, rows in enumerate(batches):
                if should_stop is not None and should_stop():
                    return None
                if b % world_size == rank:
                    batch = pad_sequences(
                        [sequences[i][0] for i in rows], [sequences[i][1] for i in rows], pad_id
                    ).to(device)
                    sums = sequence_logps(model, batch).sums.tolist()
                    found.update({keys[i]: s for i, s in zip(rows, sums, strict=True)})
                if progress is not None:
                    progress(b + 1, len(batches))
    finally:
        model.train(was_training)
    if gather is not None and world_size > 1:
        for part in gather([found]):
            found.update(part)
    cache.values.update(found)
    return [cache.values[k] for k in keys]


def prepare_reference(run, init_adapter: Path | None) -> dict | None:
    """Attach reference log-probs to the run's train and eval splits (from the cache where
    it has them); returns what was done, or None when the user stopped it."""
    import time

    from engine.training.phases import REFERENCE
    from engine.training.prepared import offline_algorithm
    from engine.training.split import attach_reference

    if not run.settings.needs_reference():
        return {"needed": False}
    started = time.monotonic()
    algorithm = offline_algorithm(run.settings)
    train_seqs = algorithm.reference_sequences(run.train_split)
    eval_seqs = algorithm.reference_sequences(run.eval_split)
    namespace = reference_namespace(
        run.loaded.source_dir, init_adapter, run.loaded.dtype, str(run.device)
    )
    cache = ReferenceCache(run.hooks.reference_cache_dir, namespace)
    if run.accelerator.num_processes > 1:
        from engine.training import distributed as dist

        # Only rank 0 reads the project's cache: every process must agree on what is
        # missing, or they would run different numbers of batches (and collectives).
        cache.values = dist.broadcast(run.accelerator, cache.values)
    keys = [sequence_key(p, c) for p, c in train_seqs + eval_seqs]
    hits = sum(k in cache.values for k in keys)
    world = run.accelerator.num_processes
    batch_size = 2 * run.settings.batch_size
    missing = len(set(keys) - cache.values.keys())
    run.phase(REFERENCE, 0, -(-missing // batch_size))  # batches, as progress counts them

    def progress(done: int, total: int) -> None:
        if run.main:
            run.hooks.on_progress(done, total, "reference log-probs")
        run.phase(REFERENCE, done, total)

    def should_stop() -> bool:
        return bool(run.hooks.poll() & {"stop", "cancel"})

    from engine.training import distributed as dist

    values = compute_reference(
        run.model,
        train_seqs + eval_seqs,
        cache,
        pad_id=run.pad_id,
        batch_size=batch_size,
        device=run.device,
        rank=run.accelerator.process_index,
        world_size=world,
        gather=lambda items: dist.gather_lists(run.accelerator, items),
        progress=progress,
        should_stop=should_stop if world == 1 else None,
    )
    if values is None:
        return None
    attach_reference(run.train_split, values[: len(train_seqs)])
    attach_reference(run.eval_split, values[len(train_seqs) :])
    if run.main:
        cache.save()
    return {
        "needed": True,
        "sequences": len(values),
        "cached": hits,
        "computed": len(values) - hits,
        "seconds": round(time.monotonic() - started, 3),
        "namespace": namespace,
    }
