"""Keep one loaded base model between jobs (the worker's cache), with adapters on demand.

The worker calls ``session.get(spec, device, dtype)`` at the start of every job: the
same model is reused when nothing changed, otherwise the old one is freed first. A job
that needs a checkpoint runs inside ``with session.with_adapter(dir) as loaded:``; the
adapter is removed afterwards, so the cached base model stays clean. Not thread-safe:
one job at a time.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.cpu_threads import apply_job_threads
from engine.device import pick_device, pick_dtype
from engine.errors import EngineError
from engine.loading import LoadedModel, load_model
from engine.model_source import ModelSpec


class ModelSession:
    """Holds at most one LoadedModel. ``offline`` and ``cache_dir`` go to load_model."""

    def __init__(self, *, offline: bool = True, cache_dir: Path | None = None) -> None:
        self.offline = offline
        self.cache_dir = cache_dir
        self._loaded: LoadedModel | None = None
        self._key: tuple[ModelSpec, str, str, str | None] | None = None
        self._in_adapter = False
        self._parameters = 0  # of the loaded model, counted once at load
        self.threads_note: str | None = None  # the last CPU job's threads, for its log

    @property
    def loaded(self) -> LoadedModel | None:
        return self._loaded

    def get(
        self,
        spec: ModelSpec,
        device: str = "auto",
        dtype: str = "auto",
        label: str | None = None,
        quantization: str | None = None,
    ) -> LoadedModel:
        """The loaded model for ``spec`` on ``device`` in ``dtype``: the same object as
        last time when the spec, the resolved device and dtype and the quantization
        (engine.loading) are equal; otherwise the old model is freed and the new one
        loaded. ``label`` names it for people (a folder called "model" says little); by
        default the folder or repo name."""
        if self._in_adapter:
            raise EngineError(
                "The model cannot change while an adapter is applied.",
                "Finish the job that uses the adapter first.",
            )
        resolved_device = pick_device(device)
        resolved_dtype = pick_dtype(resolved_device, dtype)
        key = (dataclasses.replace(spec), resolved_device, resolved_dtype, quantization)
        if self._loaded is not None and self._key == key:
            self._set_threads()
            return self._loaded
        self.unload()
        self._loaded = load_model(
            spec,
            resolved_device,
            resolved_dtype,
            offline=self.offline,
            cache_dir=self.cache_dir,
            quantization=quantization,
        )
        if label:
            self._loaded = dataclasses.replace(self._loaded, name=label)
        self._key = key
        self._parameters = sum(p.numel() for p in self._loaded.model.parameters())
        self._set_threads()
        return self._loaded

    def _set_threads(self) -> None:
        """A CPU job's torch threads, for the size of the model it runs (cpu_threads)."""
        loaded = self._loaded
        if loaded is None or not str(loaded.device).startswith("cpu"):
            self.threads_note = None
            return
        self.threads_note = apply_job_threads(self._parameters)

    @contextmanager
    def with_adapter(self, adapter_dir: Path | str | None) -> Iterator[LoadedModel]:
        """Yield the loaded model with the adapter in ``adapter_dir`` applied (not
        trainable, eval mode), or the bare base model when ``adapter_dir`` is None.

        On exit the adapter layers are removed without merging, so the cached base model
        is exactly as before. Not re-entrant. Raises CheckpointError for a missing or
        damaged adapter, EngineError when no model is loaded.
        """
        if self._loaded is None:
            raise EngineError(
                "No model is loaded, so no adapter can be applied.", "Load a base model first."
            )
        if self._in_adapter:
            raise EngineError(
                "An adapter is already applied to the loaded model.",
                "Finish the job that uses it first.",
            )
        if adapter_dir is None:
            yield self._loaded
            return
        from engine.lora import load_adapter, strip_adapters

        base = self._loaded
        self._in_adapter = True
        try:
            peft_model = load_adapter(base.model, Path(adapter_dir), trainable=False)
            try:
                yield dataclasses.replace(
                    base, model=peft_model, name=f"{base.name} + {Path(adapter_dir).name}"
                )
            finally:
                try:
                    restored = peft_model.unload()
                except Exception:
                    restored = strip_adapters(base.model)
                restored.eval()
                if restored is not base.model:  # unload() returns the wrapped base itself
                    base.model = restored
        finally:
            self._in_adapter = False

    def describe(self) -> dict:
        """{"name", "device", "dtype"} of the loaded model, or all None when none is."""
        if self._loaded is None:
            return {"name": None, "device": None, "dtype": None}
        return {
            "name": self._loaded.name,
            "device": self._loaded.device,
            "dtype": self._loaded.dtype,
        }

    def unload(self) -> None:
        """Free the loaded model (and the accelerator's cached memory)."""
        if self._in_adapter:
            raise EngineError(
                "The model cannot be unloaded while an adapter is applied.",
                "Finish the job that uses the adapter first.",
            )
        loaded, self._loaded, self._key = self._loaded, None, None
        if loaded is None:
            return
        device = loaded.device
        del loaded
        gc.collect()
        try:
            import torch

            if device.startswith("cuda") and torch.cuda.is_available():
                torch.cuda.empty_cache()
            elif device == "mps" and hasattr(torch, "mps"):
                torch.mps.empty_cache()
        except Exception:  # freeing the cache is best effort
            pass
