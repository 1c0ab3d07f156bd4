"""Rollouts sampled by vLLM, the optional extra ``pip install 'alignment-workbench[vllm]'``
(setting ``rollout_engine = "vllm"``).

vLLM runs colocated in the training process on the same CUDA GPU (a share of its memory,
``GPU_MEMORY_SHARE``), on the base model's weights; the policy's LoRA adapter is written
to a temporary folder before each sampling call and passed as a new ``LoRARequest``, so
every step samples from the weights just trained (TRL's colocate mode syncs the same
way). vLLM draws from its own random stream: the same distribution as the lean loop, not
its tokens; and its log-probs are those of the unscaled logits, so the trainer scores the
old policy itself. Greedy evaluation keeps the lean loop. Without vLLM installed, or on a
device other than CUDA, the setting is refused before the run starts (``vllm_problem``).
"""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from engine.decoding.sampler import Sampling
from engine.errors import EngineError

# The share of the GPU's memory vLLM takes for its weights and KV cache; training has the rest.
GPU_MEMORY_SHARE = 0.3


def vllm_problem(device: Any) -> str | None:
    """Why vLLM cannot sample on ``device`` here, or None when it can."""
    if importlib.util.find_spec("vllm") is None:
        return "vLLM is not installed"
    if str(device).split(":")[0] != "cuda":
        return f"vLLM samples on a CUDA GPU, and this run is on {device}"
    return None


def require_vllm(device: Any) -> None:
    """Raise EngineError saying what to do when vLLM cannot sample this run's rollouts."""
    problem = vllm_problem(device)
    if problem is not None:
        raise EngineError(
            f"rollout_engine is vllm, but {problem}.",
            "Install it with pip install 'alignment-workbench[vllm]' on a machine with a "
            "CUDA GPU, or set rollout_engine to auto (the built-in decode loop).",
        )


class VllmRollouts:
    """One colocated vLLM engine for a run; ``decode`` samples with the current adapter."""

    def __init__(self, source_dir: Path, dtype: str, max_model_len: int, lora_rank: int) -> None:
        from vllm import LLM

        self.llm = LLM(
            model=str(source_dir),
            dtype=dtype,
            enable_lora=True,
            max_lora_rank=max(8, lora_rank),
            max_model_len=max_model_len,
            gpu_memory_utilization=GPU_MEMORY_SHARE,
        )
        self.folder = tempfile.TemporaryDirectory(prefix="workbench-vllm-")
        self.version = 0

    def _adapter(self, model: Any) -> Any:
        """The policy's adapter as a new LoRARequest (vLLM caches adapters by id)."""
        from vllm.lora.request import LoRARequest

        self.version += 1
        path = Path(self.folder.name) / f"v{self.version}"
        model.save_pretrained(str(path))
        return LoRARequest(f"policy-{self.version}", self.version, str(path))

    def decode(
        self,
        model: Any,
        prompts: Sequence[Sequence[int]],
        group_size: int,
        *,
        max_new_tokens: int,
        sampling: Sampling,
        stop_ids: Collection[int],
        seed: int,
    ) -> tuple[list[list[int]], list[bool]]:
        """(tokens, truncated) of ``group_size`` completions of every prompt, grouped."""
        from vllm import SamplingParams

        params = SamplingParams(
            n=group_size,
            temperature=0.0 if sampling.greedy else sampling.temperature,
            top_p=sampling.top_p,
            top_k=sampling.top_k or -1,
            max_tokens=max_new_tokens,
            stop_token_ids=sorted(stop_ids),
            seed=seed,
        )
        requests = [{"prompt_token_ids": list(ids)} for ids in prompts]
        outs = self.llm.generate(
            requests, params, lora_request=self._adapter(model), use_tqdm=False
        )
        tokens: list[list[int]] = []
        truncated: list[bool] = []
        for out in outs:
            for sample in out.outputs:
                tokens.append(list(sample.token_ids))
                truncated.append(sample.finish_reason == "length")
        return tokens, truncated

    def close(self) -> None:
        self.folder.cleanup()
