"""What every judge takes and gives back, local model or remote endpoint.

A pairwise verdict is a probability, not a coin flip: ``prob_first`` is the judge's
probability that the first completion is the better one, averaged over both orders
of presentation so that a judge that favours whichever answer it reads first (position
bias) cancels out. A judgement that failed (a timeout, a reply that names neither
choice, a prompt too long for the judge) carries ``error`` and no probability: the
caller must never turn it into a label.

Pure standard library: the GUI and the CLI import these records without torch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

# A prompt is text or a list of {"role", "content"} messages, as in engine.generation.
Prompt = str | list[dict[str, str]]

ProgressFn = Callable[[int, int], None]  # (done, total)
StopFn = Callable[[], bool]  # True when the caller wants the work to stop


@dataclass(frozen=True)
class PairItem:
    prompt: Prompt
    first: str
    second: str


@dataclass(frozen=True)
class PointItem:
    prompt: Prompt
    completion: str


@dataclass(frozen=True)
class Verdict:
    """P(first is better), averaged over both orders; or an error and no probability."""

    prob_first: float | None
    error: str | None = None
    # per order: {"first_shown_first": p, "second_shown_first": p}, requests made, ...
    detail: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None and self.prob_first is not None

    @property
    def confidence(self) -> float | None:
        """How sure the judge is of its winner: max(p, 1 - p), from 0.5 to 1."""
        return None if self.prob_first is None else max(self.prob_first, 1.0 - self.prob_first)


@dataclass(frozen=True)
class Score:
    """A pointwise score in [0, 1] (e.g. P("yes") to "is this answer good?"), or an error."""

    value: float | None
    error: str | None = None
    detail: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None and self.value is not None


class Judge(Protocol):
    """The contract labelling, the Judge view and online RL rewards all rely on."""

    @property
    def identity(self) -> str:
        """Names the judge and its template, stored with every label it makes."""
        ...

    def compare(
        self,
        items: Sequence[PairItem],
        *,
        progress: ProgressFn | None = None,
        should_stop: StopFn | None = None,
    ) -> list[Verdict]:
        """One verdict per item, in order. Items not judged because of a stop request
        get a Verdict with error "stopped"."""
        ...

    def score(
        self,
        items: Sequence[PointItem],
        *,
        progress: ProgressFn | None = None,
        should_stop: StopFn | None = None,
    ) -> list[Score]:
        """One pointwise score per item, in order (same stop rule as compare)."""
        ...


STOPPED = "stopped before this item was judged"
