"""A run's seconds per training step, smoothed, and its ETA: pure, no database.

A step's time is measured from the start of one step to the start of the next, minus the
pauses in between (evaluation, checkpointing, the user's pause), so an eval every 50 steps
does not make the estimate jump. The first step measured after a start or a resume is
warm-up (allocations, caches, the first rollouts) and counts only until a second one
arrives. After that the estimate is an exponential moving average, debiased as Adam's
moments are, so a noisy step moves it by a fraction only (the ETA does not swing
11 → 6 → 9 min as a rate over the last few logged steps did)."""

from __future__ import annotations

from dataclasses import dataclass

SMOOTHING = 0.1  # weight of the newest step: about the last 20 steps count


@dataclass
class StepTimer:
    smoothing: float = SMOOTHING
    _step: int | None = None  # the step in progress
    _started: float = 0.0  # when it started
    _paused: float = 0.0  # seconds of pauses since it started
    _pause_began: float | None = None
    _first: float | None = None  # the warm-up step's seconds
    _average: float = 0.0  # the biased moving average of the later steps
    _weight: float = 0.0  # 1 - (1 - smoothing) ** n: what debiases it

    def step_begins(self, step: int, now: float) -> None:
        """Step ``step`` (1-based) starts at ``now``; it closes the previous step when
        that was ``step - 1``. A step announced again (sampling, then training) is ignored."""
        if step == self._step:
            return
        self.pause_ends(now)
        if self._step is not None and step == self._step + 1:
            self._add(max(0.0, now - self._started - self._paused))
        self._step, self._started, self._paused = step, now, 0.0

    def pause_begins(self, now: float) -> None:
        if self._pause_began is None:
            self._pause_began = now

    def pause_ends(self, now: float) -> None:
        if self._pause_began is not None:
            self._paused += max(0.0, now - self._pause_began)
            self._pause_began = None

    def _add(self, seconds: float) -> None:
        if self._first is None:
            self._first = seconds
            return
        self._average = (1 - self.smoothing) * self._average + self.smoothing * seconds
        self._weight = (1 - self.smoothing) * self._weight + self.smoothing

    @property
    def seconds_per_step(self) -> float | None:
        """None until one step has been measured; the warm-up step alone until a second."""
        if self._weight > 0:
            return self._average / self._weight
        return self._first

    def eta(self, max_steps: int) -> float | None:
        """Seconds until step ``max_steps`` ends, with the step in progress counted whole:
        its remaining time is unknown, and a countdown (``counted_down``) takes its share."""
        rate = self.seconds_per_step
        if rate is None or self._step is None:
            return None
        return max(0, max_steps - self._step + 1) * rate


def counted_down(eta_s: float | None, since: float | None, now: float) -> float | None:
    """An ETA read ``now - since`` seconds after it was written, never below 0."""
    if eta_s is None:
        return None
    return max(0.0, eta_s - max(0.0, now - (since or now)))
