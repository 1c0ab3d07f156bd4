"""One metric of one run as growing numpy buffers, with its EMA kept up to date.

No Qt here: the buffers are preallocated and double when full, so appending a point is
amortised O(1) and a redraw hands pyqtgraph views (``buf[:n]``) without copying. The EMA is
TensorBoard's debiased one: non-finite values are stored (drawn as gaps) and skipped by the
smoothing, which goes on from the last finite value. Each buffer keeps a min/max envelope
(``envelope.py``), brought up to date as points arrive once the series is long enough to
be drawn through it, and when a chart asks for the points to draw.
"""

from __future__ import annotations

import math

import numpy as np

from ui.charts.envelope import RAW_LIMIT, Envelope

INITIAL_CAPACITY = 256
_EXP_LIMIT = 600.0  # keep w**-j below e**600 inside one vectorised chunk (float64 max ~e**709)


def ema(
    values: np.ndarray, weight: float, last: float = 0.0, count: int = 0
) -> tuple[np.ndarray, float, int]:
    """Debiased EMA of ``values`` continuing from state (``last``, ``count``).

    ``last`` is the biased accumulator and ``count`` the number of finite values seen so far.
    Returns (smoothed values, NaN where the value is not finite; new last; new count).
    Vectorised: a loop over chunks in which ``w**-j`` cannot overflow, so a million points
    take milliseconds rather than a Python loop's half second.
    """
    values = np.asarray(values, dtype=float)
    out = np.full(values.shape, np.nan)
    finite = np.isfinite(values)
    x = values[finite]
    if x.size == 0:
        return out, last, count
    w = float(weight)
    if w <= 0.0:
        out[finite] = x
        return out, float(x[-1]), count + x.size
    biased = np.empty_like(x)
    chunk = min(x.size, max(1, int(_EXP_LIMIT / -math.log(w)))) if w < 1.0 else x.size
    k = np.arange(chunk, dtype=float)
    decay = w**k  # the same powers serve every chunk
    grow = 1.0 / decay if w < 1.0 else decay  # w**-j, at most e**600
    state = last
    for start in range(0, x.size, chunk):
        part = x[start : start + chunk]
        m = part.size
        # y[k] = w**(k+1) * s0 + (1 - w) * w**k * sum_{j<=k} x[j] * w**-j
        y = decay[:m] * (w * state + (1.0 - w) * np.cumsum(part * grow[:m]))
        biased[start : start + m] = y
        state = float(y[-1])
    debias = np.ones(x.size)
    if w < 1.0:
        # 1 - w**n reaches 1.0 in float64 once w**n < 1e-17: only the first points need it
        short = int(min(x.size, max(0, 40.0 / -math.log10(w) - count + 1)))
        if short > 0:
            debias[:short] = 1.0 - w ** (count + np.arange(1, short + 1, dtype=float))
    out[finite] = biased / debias
    return out, state, count + x.size


def ema_reference(values, weight: float) -> list[float]:
    """TensorBoard's loop, for tests: the EMA the vectorised one must equal."""
    out, last, n = [], 0.0, 0
    for v in values:
        if v is None or not math.isfinite(v):
            out.append(math.nan)
            continue
        last = last * weight + (1 - weight) * v
        n += 1
        debias = 1.0 - weight**n if weight < 1 else 1.0
        out.append(last / debias)
    return out


class Series:
    """Steps, unix times, values and smoothed values of one (run, metric)."""

    __slots__ = (
        "n",
        "steps",
        "times",
        "values",
        "smoothed",
        "_last",
        "_count",
        "weight",
        "steps_sorted",
        "times_sorted",
        "version",
        "_lo",
        "_hi",
        "has_gaps",
        "_envelopes",
    )

    def __init__(self, weight: float = 0.0, capacity: int = INITIAL_CAPACITY):
        self.n = 0
        self.steps = np.empty(capacity)
        self.times = np.empty(capacity)
        self.values = np.empty(capacity)
        self.smoothed = np.empty(capacity)
        self._last, self._count = 0.0, 0
        self._lo, self._hi = math.inf, -math.inf  # range of the finite values so far
        self.weight = weight
        self.steps_sorted = self.times_sorted = True
        self.version = 0  # bumped on every change; a chart redraws a curve whose version moved
        self.has_gaps = False  # any non-finite value (drawn as a gap)
        self._envelopes = {"values": Envelope(), "smoothed": Envelope()}

    @property
    def capacity(self) -> int:
        return self.steps.size

    def _reserve(self, extra: int) -> None:
        need = self.n + extra
        if need <= self.capacity:
            return
        cap = self.capacity
        while cap < need:
            cap *= 2
        for name in ("steps", "times", "values", "smoothed"):
            old = getattr(self, name)
            new = np.empty(cap)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)

    def extend(self, steps, times, values) -> None:
        """Append points; ``values`` may hold NaN (None already turned into NaN)."""
        steps = np.asarray(steps, dtype=float)
        times = np.asarray(times, dtype=float)
        values = np.asarray(values, dtype=float)
        m = values.size
        if m == 0:
            return
        self._reserve(m)
        a, b = self.n, self.n + m
        for buf, new, flag in (
            (self.steps, steps, "steps_sorted"),
            (self.times, times, "times_sorted"),
        ):
            buf[a:b] = new
            if getattr(self, flag):
                prev = buf[a - 1 : b] if a else new
                if prev.size > 1 and bool(np.any(np.diff(prev) < 0)):
                    setattr(self, flag, False)
        self.values[a:b] = values
        finite = values[np.isfinite(values)]
        self.has_gaps = self.has_gaps or finite.size < m
        if finite.size:
            self._lo = min(self._lo, float(finite.min()))
            self._hi = max(self._hi, float(finite.max()))
        self.smoothed[a:b], self._last, self._count = ema(
            values, self.weight, self._last, self._count
        )
        self._clamp(a, b)
        self.n = b
        if b > RAW_LIMIT:
            # Enveloped read by read as a history arrives: a chart's first draw of a long
            # series then finds its envelope ready instead of scanning every point at once.
            for which, envelope in self._envelopes.items():
                envelope.update(getattr(self, which), b)
        self.version += 1

    def set_weight(self, weight: float) -> None:
        """Recompute the whole EMA for a new smoothing weight."""
        if weight == self.weight:
            return
        self.weight = weight
        self._envelopes["smoothed"].clear()
        self.smoothed[: self.n], self._last, self._count = ema(self.values[: self.n], weight)
        self._clamp(0, self.n)
        self.version += 1

    def _clamp(self, a: int, b: int) -> None:
        """An EMA lies within the values' range; clamping removes rounding outside it (a
        constant metric then smooths to exactly itself, not to a 1e-15 wobble)."""
        if self._lo <= self._hi:
            np.clip(self.smoothed[a:b], self._lo, self._hi, out=self.smoothed[a:b])

    def draw_indices(
        self, which: str = "values", max_buckets: int | None = None
    ) -> np.ndarray | None:
        """Indices of the points to draw of ``values`` or ``smoothed``: each envelope
        bucket's min and max in index order, in at most ``max_buckets`` buckets; None when
        the series is short enough to draw every point."""
        if self.n <= RAW_LIMIT:
            return None
        envelope = self._envelopes[which]
        envelope.update(getattr(self, which), self.n)
        return envelope.indices(max_buckets)

    def x(self, mode: str, t0: float = 0.0) -> np.ndarray:
        return self.steps[: self.n] if mode == "step" else self.times[: self.n] - t0

    def x_at(self, idx: np.ndarray, mode: str, t0: float = 0.0) -> np.ndarray:
        """x of the points at ``idx`` (what ``x`` would give there, without building it)."""
        return self.steps[idx] if mode == "step" else self.times[idx] - t0

    def nearest(self, x_value: float, mode: str, t0: float = 0.0) -> int | None:
        """Index of the point whose x is nearest ``x_value`` (None when empty)."""
        if self.n == 0:
            return None
        xs = self.x(mode, t0)
        if self.steps_sorted if mode == "step" else self.times_sorted:
            i = int(np.searchsorted(xs, x_value))
            if i >= self.n:
                return self.n - 1
            if i > 0 and abs(xs[i - 1] - x_value) <= abs(xs[i] - x_value):
                return i - 1
            return i
        return int(np.argmin(np.abs(xs - x_value)))
