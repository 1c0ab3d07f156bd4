"""What the application knows of one training algorithm, as data: how the Train form
names and explains it, what it trains on, the settings it reads, and the class that
implements it (named, not imported, so this stays free of torch)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from engine.algorithms.settings import Setting

# What an algorithm trains on: preference pairs, single good/bad examples, prompts it
# samples completions of (online), or demonstrations (a prompt and the completion to imitate).
Data = Literal["pairs", "unpaired", "prompts", "demonstrations"]
# What is trained: the language model's LoRA adapter, or (a reward model) a LoRA and a score
# head on a sequence-classification model, which generates nothing.
Policy = Literal["language_model", "sequence_scorer"]


@dataclass(frozen=True)
class AlgorithmSpec:
    """``needs_reference``: the frozen reference's log-probs are computed once before
    training (online methods score the reference on each batch of rollouts instead).
    ``default_beta`` is used when beta is empty; ``zero_beta_ok`` where beta = 0 means
    "no KL term" rather than a division by zero. ``fixed`` holds values the algorithm
    fixes instead of offering the setting (IPO is DPO with loss_type "ipo"; Online DPO
    always samples 2 completions per prompt). ``implementation`` is "module:Class".
    ``policy`` says which model the loop trains (see ``Policy``). ``ranks_pairs``: an
    online method that compares two samples per prompt, so a pairwise judge can rank
    them in place of a reward (a run with such a judge and no reward source may start)."""

    name: str
    label: str
    description: str
    online: bool
    data: Data
    needs_reference: bool
    default_beta: float
    zero_beta_ok: bool
    settings: tuple[Setting, ...]
    implementation: str
    fixed: tuple[tuple[str, Any], ...] = ()
    policy: Policy = "language_model"
    ranks_pairs: bool = False

    def __post_init__(self) -> None:
        names = [s.name for s in self.settings]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.name}: a setting is listed twice")
        if ":" not in self.implementation:
            raise ValueError(f"{self.name}: implementation must be 'module:Class'")

    def setting(self, name: str) -> Setting:
        """The spec's setting ``name``, with the bounds this algorithm gives it."""
        for s in self.settings:
            if s.name == name:
                if s.name == "beta" and self.zero_beta_ok:
                    return replace(s, low_open=False)
                return s
        raise KeyError(name)

    def setting_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.settings)
