"""What every chart of one RunCharts draws with: the x mode, the smoothing weight, and per
run its colour, legend label and t0 (the time of its first point, the origin of the time
axis). RunCharts changes these and MetricChart reads them, so a chart never reaches back
into the widget that holds it.

``version`` counts the changes that move or restyle every curve (x mode, smoothing, a
run's t0 moving earlier on the time axis, a forced redraw); a curve last drawn at an older
version is drawn again.
"""

from __future__ import annotations

X_MODES = ("step", "time")


class ChartContext:
    def __init__(self, x_mode: str = "step", smoothing: float = 0.0):
        self.x_mode = x_mode
        self.smoothing = smoothing
        self.version = 0
        self._t0: dict[int, float] = {}
        self._labels: dict[int, str] = {}
        self._colors: dict[int, int] = {}

    @property
    def smoothed(self) -> bool:
        """Whether the EMA curves are drawn (a weight of 0 shows the raw values only)."""
        return self.smoothing > 0

    def redraw_all(self) -> None:
        self.version += 1

    def set_x_mode(self, mode: str) -> bool:
        """True when the mode changed."""
        if mode not in X_MODES:
            raise ValueError(f"x mode must be one of {X_MODES}, not {mode!r}")
        if mode == self.x_mode:
            return False
        self.x_mode = mode
        self.redraw_all()
        return True

    def set_smoothing(self, weight: float) -> bool:
        """True when the weight changed."""
        if weight == self.smoothing:
            return False
        self.smoothing = weight
        self.redraw_all()
        return True

    # Per run ---------------------------------------------------------------------------
    def t0(self, run_id: int) -> float:
        return self._t0.get(run_id, 0.0)

    def note_first_time(self, run_id: int, when: float) -> None:
        """A run's t0 is its earliest point; rows may arrive out of time order."""
        if run_id in self._t0 and when >= self._t0[run_id]:
            return
        if run_id in self._t0 and self.x_mode == "time":
            self.redraw_all()  # every x of the run moves
        self._t0[run_id] = when

    def run_label(self, run_id: int) -> str:
        return self._labels.get(run_id, f"run {run_id}")

    def has_label(self, run_id: int) -> bool:
        return run_id in self._labels

    def set_label(self, run_id: int, label: str) -> bool:
        """True when the label changed."""
        if self._labels.get(run_id) == label:
            return False
        self._labels[run_id] = label
        return True

    def color_index(self, run_id: int) -> int:
        """A run keeps its colour while shown; a new run takes the first one free."""
        if run_id not in self._colors:
            used = set(self._colors.values())
            self._colors[run_id] = next(i for i in range(len(used) + 1) if i not in used)
        return self._colors[run_id]

    def forget(self, run_id: int) -> None:
        self._t0.pop(run_id, None)
        self._labels.pop(run_id, None)
        self._colors.pop(run_id, None)

    def clear(self) -> None:
        self._t0.clear()
        self._labels.clear()
        self._colors.clear()
