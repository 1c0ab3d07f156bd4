"""Min/max envelope of a growing array: what a chart draws of a long series.

No Qt here. The points are cut into buckets of a power-of-two number of points (at most
``MAX_BUCKETS`` buckets); each bucket keeps the index and value of its smallest and largest
finite value, so a curve drawn through those points, in index order, keeps every peak
while pyqtgraph handles ~4,096 points instead of millions. Appending recomputes only the
last bucket; when the buckets overflow, pairs merge into buckets twice as large. A bucket
with no finite value keeps its first index with a non-finite value, so a gap stays a gap.
A chart asks for fewer buckets when its plot is narrow (``indices(max_buckets)`` merges
runs of adjacent buckets on the way out, keeping at least one per pixel column): more
points than that draw nothing more, and cost paint time on every live tick.
"""

from __future__ import annotations

import numpy as np

MAX_BUCKETS = 2048
RAW_LIMIT = 2 * MAX_BUCKETS  # series this short are drawn point by point


def bucket_size(count: int, max_buckets: int = MAX_BUCKETS) -> int:
    """The smallest power of two that cuts ``count`` points into at most ``max_buckets``."""
    size = 1
    while -(-count // size) > max_buckets:
        size *= 2
    return size


def bucket_extremes(
    values: np.ndarray, start: int, stop: int, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(min index, min value, max index, max value) of each bucket of ``size`` points of
    ``values[start:stop]``, indices into ``values``; +inf / -inf where a bucket has no
    finite value (its index is then the bucket's first)."""
    part = values[start:stop]
    count = -(-part.size // size)
    finite = np.isfinite(part)
    low = np.full(count * size, np.inf)
    high = np.full(count * size, -np.inf)
    low[: part.size] = np.where(finite, part, np.inf)
    high[: part.size] = np.where(finite, part, -np.inf)
    low, high = low.reshape(count, size), high.reshape(count, size)
    rows = np.arange(count)
    lo_at, hi_at = low.argmin(axis=1), high.argmax(axis=1)  # the first of equal extremes
    first = start + rows * size
    return first + lo_at, low[rows, lo_at], first + hi_at, high[rows, hi_at]


def draw_order(lo_idx: np.ndarray, hi_idx: np.ndarray) -> np.ndarray:
    """Each bucket's two extremes in index order, bucket after bucket."""
    return np.stack([np.minimum(lo_idx, hi_idx), np.maximum(lo_idx, hi_idx)], axis=1).ravel()


def merge_buckets(
    lo_idx: np.ndarray, lo_val: np.ndarray, hi_idx: np.ndarray, hi_val: np.ndarray, factor: int
) -> tuple[np.ndarray, np.ndarray]:
    """(min index, max index) of each run of ``factor`` adjacent buckets; ties keep the
    earlier index, and a run of empty buckets keeps its first one's index (a gap)."""
    count = -(-lo_idx.size // factor)
    pad = count * factor - lo_idx.size

    def runs(idx: np.ndarray, val: np.ndarray, empty: float) -> tuple[np.ndarray, np.ndarray]:
        idx = np.concatenate([idx, np.full(pad, idx[-1])]).reshape(count, factor)
        val = np.concatenate([val, np.full(pad, empty)]).reshape(count, factor)
        return idx, val

    rows = np.arange(count)
    idx, val = runs(lo_idx, lo_val, np.inf)
    lo = idx[rows, val.argmin(axis=1)]
    idx, val = runs(hi_idx, hi_val, -np.inf)
    hi = idx[rows, val.argmax(axis=1)]
    return lo, hi


def window_indices(
    values: np.ndarray, start: int, stop: int, max_buckets: int = MAX_BUCKETS
) -> np.ndarray:
    """Indices to draw of ``values[start:stop]``: every point when few, else its envelope
    in at most ``max_buckets`` buckets."""
    if stop - start <= 2 * max_buckets:
        return np.arange(start, stop)
    size = bucket_size(stop - start, max_buckets)
    lo_idx, _, hi_idx, _ = bucket_extremes(values, start, stop, size)
    return draw_order(lo_idx, hi_idx)


class Envelope:
    """Incremental per-bucket extremes of ``values[:n]`` as ``values`` grows."""

    __slots__ = ("size", "n", "lo_idx", "lo_val", "hi_idx", "hi_val", "max_buckets")

    def __init__(self, max_buckets: int = MAX_BUCKETS):
        self.max_buckets = max_buckets
        self.clear()

    def clear(self) -> None:
        self.size = 1  # points per bucket, a power of two
        self.n = 0  # points covered
        self.lo_idx = np.empty(0, dtype=np.int64)
        self.hi_idx = np.empty(0, dtype=np.int64)
        self.lo_val = np.empty(0)
        self.hi_val = np.empty(0)

    @property
    def buckets(self) -> int:
        return self.lo_idx.size

    def update(self, values: np.ndarray, n: int) -> None:
        """Cover ``values[:n]``; the points before ``self.n`` must not have changed."""
        if n <= self.n:
            return
        size = bucket_size(n, self.max_buckets)
        while self.size < size:
            self._merge_pairs()
        keep = self.n // self.size  # whole buckets already right; the partial one is redone
        lo_idx, lo_val, hi_idx, hi_val = bucket_extremes(values, keep * self.size, n, self.size)
        self.lo_idx = np.concatenate([self.lo_idx[:keep], lo_idx])
        self.lo_val = np.concatenate([self.lo_val[:keep], lo_val])
        self.hi_idx = np.concatenate([self.hi_idx[:keep], hi_idx])
        self.hi_val = np.concatenate([self.hi_val[:keep], hi_val])
        self.n = n

    def _merge_pairs(self) -> None:
        count = self.buckets
        if count % 2:  # an odd last bucket merges with nothing: pad with an empty one
            self.lo_idx = np.append(self.lo_idx, self.lo_idx[-1])
            self.hi_idx = np.append(self.hi_idx, self.hi_idx[-1])
            self.lo_val = np.append(self.lo_val, np.inf)
            self.hi_val = np.append(self.hi_val, -np.inf)
        a, b = slice(0, None, 2), slice(1, None, 2)
        take_b = self.lo_val[b] < self.lo_val[a]  # ties keep the earlier index, like argmin
        self.lo_idx = np.where(take_b, self.lo_idx[b], self.lo_idx[a])
        self.lo_val = np.where(take_b, self.lo_val[b], self.lo_val[a])
        take_b = self.hi_val[b] > self.hi_val[a]
        self.hi_idx = np.where(take_b, self.hi_idx[b], self.hi_idx[a])
        self.hi_val = np.where(take_b, self.hi_val[b], self.hi_val[a])
        self.size *= 2

    def indices(self, max_buckets: int | None = None) -> np.ndarray:
        """The points to draw: each bucket's min and max, in index order; runs of adjacent
        buckets merged (a power of two of them) when there are more than ``max_buckets``."""
        if max_buckets is None or self.buckets <= max_buckets:
            return draw_order(self.lo_idx, self.hi_idx)
        factor = bucket_size(self.buckets, max_buckets)
        return draw_order(
            *merge_buckets(self.lo_idx, self.lo_val, self.hi_idx, self.hi_val, factor)
        )
