"""What the parts of a loop read of the run they serve, as typed protocols: the online
algorithms, the offline evaluation, the online evaluation. Each names only what its
functions use, so a stand-in (a benchmark's evaluator of a model it does not train)
satisfies it as well as ``TrainingRun``'s subclasses do. No torch at import."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

from engine.training.examples import PromptExample

if TYPE_CHECKING:
    import torch
    from accelerate import Accelerator

    from engine.judge.reward import PairPreference
    from engine.loading import LoadedModel
    from engine.training.config import TrainSettings
    from engine.training.hooks import TrainData
    from engine.training.online.rewards import RewardSource
    from engine.training.prepared import Split

EncodedPrompt = tuple[PromptExample, list[int]]  # a prompt and its token ids


class _OnProcesses(Protocol):
    """What every part reads: the processes it runs on and their device."""

    @property
    def accelerator(self) -> Accelerator: ...

    @property
    def device(self) -> torch.device: ...


class _Forwards(_OnProcesses, Protocol):
    """What a part that runs the policy forward reads."""

    @property
    def ddp_model(self) -> Any:
        """The policy as prepared for the processes: the one to train through."""

    @property
    def pad_id(self) -> int: ...

    @property
    def autocast(self) -> Callable[[], AbstractContextManager[Any]]: ...


class _Evaluates(_OnProcesses, Protocol):
    """What an evaluation reads besides: the settings and the loaded model."""

    @property
    def settings(self) -> TrainSettings: ...

    @property
    def loaded(self) -> LoadedModel: ...

    def phase(self, name: str, done: int = 0, total: int = 0) -> None:
        """Report what the run is doing (engine.training.phases), on the main process."""
        ...


class AlgorithmRun(_Forwards, Protocol):
    """What an online algorithm (``engine.training.online.algorithms``) takes from its run."""

    @property
    def model(self) -> Any:
        """The trainable policy (a PeftModel) before ``accelerator.prepare``."""

    @property
    def preference(self) -> PairPreference | None:
        """Online DPO's pairwise judge, when it ranks pairs by one rather than by reward."""

    def policy(self) -> Any:
        """The policy without its multi-process wrapper (for no-gradient passes)."""


class OfflineEvalRun(_Forwards, _Evaluates, Protocol):
    """What ``engine.training.evaluation`` takes from an offline run."""

    @property
    def data(self) -> TrainData: ...

    @property
    def eval_split(self) -> Split: ...

    @property
    def sharded(self) -> bool:
        """FSDP: the policy's blocks are sharded over the processes."""


class OnlineEvalRun(_Evaluates, Protocol):
    """What ``engine.training.online.evaluation`` takes from an online run."""

    @property
    def main(self) -> bool: ...

    @property
    def eval_prompts(self) -> list[EncodedPrompt]: ...

    @property
    def eos_ids(self) -> list[int]: ...

    @property
    def sources(self) -> Sequence[RewardSource]: ...

    def policy(self) -> Any: ...
