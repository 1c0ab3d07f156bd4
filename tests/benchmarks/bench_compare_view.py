"""Benchmark: the Compare view opening and scrolling a stored comparison of 200 prompts x 5
models, the UI thread watched for stalls, beside the chart benchmark's figure.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/benchmarks/bench_compare_view.py

The comparison (the demo's 200 eval prompts; its base model and 4 checkpoints that are
never loaded) is stored with every answer written and scored directly, so nothing is
generated. A 1 ms precise QTimer records the gaps between its ticks while the window
(1) opens the comparison (the read runs on the database thread; the grid is filled on the
UI thread), (2) scrolls the grid from top to bottom and back a page per frame, then
across, (3) selects cells one after another (the detail pane renders each answer's word
diff). The largest gap is the longest the UI thread was busy (the target: under 50 ms).
Then the chart benchmark's stall run (bench_ui_charts.stall_run) for ``--chart-seconds``,
so both figures come from the same machine and load. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, Qt, QTimer  # noqa: E402

from tests.benchmarks.bench_ui_charts import load, stall_run  # noqa: E402

PROMPTS, CHECKPOINTS = 200, 4
TARGET_MS = 50.0


def stored_comparison(folder: Path) -> tuple[Path, int]:
    """The demo with a comparison of 200 prompts x 5 models, every answer stored and scored."""
    from workbench.comparing.choices import Decoding, EntrantChoice, PromptSet
    from workbench.comparing.store import find_or_create
    from workbench.data.completions import CompletionRecord, add_completions
    from workbench.data.prompts import get_prompt
    from workbench.demo_project import build_demo_project
    from workbench.rules.scoring import score_rows, store_scores
    from workbench.training.runs import add_checkpoint, create_run

    project = build_demo_project(folder / "demo")
    checkpoints = []
    for i in range(CHECKPOINTS):
        run_id = create_run(
            project,
            algorithm="dpo",
            config={},
            dataset={},
            dataset_hash="x",
            model_id=1,
            parent_checkpoint_id=None,
            job_id=None,
            name=f"bench run {i}",
            max_steps=100,
        )
        adapter = project.path / "runs" / f"bench-{i}" / "checkpoint-100"
        adapter.mkdir(parents=True)
        checkpoints.append(add_checkpoint(project, run_id, 100, adapter, {}))
    comparison, _ = find_or_create(
        project,
        [EntrantChoice(), *(EntrantChoice(checkpoint_id=c) for c in checkpoints)],
        PromptSet(split="eval", limit=PROMPTS),
        Decoding(),
    )
    prompts = [get_prompt(project, p) for p in comparison.prompt_ids]
    rng = np.random.default_rng(0)
    for entry in comparison.entries:
        texts = [
            f"Let me work it out step by step. {p.display_text} The answer is "
            f"{int(p.reference) + int(rng.integers(0, 2) * (entry.position + 1))}."
            for p in prompts
        ]
        records = [
            CompletionRecord(
                p.id, t, entry.model_id, entry.checkpoint_id, None, comparison.sampling, 0, 24
            )
            for p, t in zip(prompts, texts, strict=True)
        ]
        ids = add_completions(project, records)
        rows = [
            {"prompt": p.display_text, "text": t, "reference": p.reference}
            for p, t in zip(prompts, texts, strict=True)
        ]
        store_scores(project, ids, score_rows(comparison.rules, rows), entry.evaluation_id)
    path, comparison_id = project.path, comparison.id
    project.close()
    return path, comparison_id


class StallWatch:
    """Gaps between the ticks of a 1 ms precise timer, while it runs, and the main thread's
    CPU time within each: on a loaded machine a gap also holds the time other processes
    had the core (and the database thread the interpreter lock), the CPU time only the UI
    thread's own work."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self.cpu: list[float] = []
        self._last_cpu = 0.0
        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(1)
        self.timer.timeout.connect(self._tick)
        self._last = 0

    def _tick(self) -> None:
        now = self.clock.nsecsElapsed()
        self.gaps.append((now - self._last) / 1e6)
        self._last = now
        cpu = time.thread_time()
        self.cpu.append((cpu - self._last_cpu) * 1e3)
        self._last_cpu = cpu

    def start(self) -> None:
        self.gaps.clear()
        self.cpu.clear()
        self._last_cpu = time.thread_time()
        self.clock.start()
        self._last = self.clock.nsecsElapsed()
        self.timer.start()

    def stop(self) -> dict:
        self.timer.stop()
        gaps = self.gaps or [float("nan")]
        return {
            "max": max(gaps),
            "p99": float(np.percentile(gaps, 99)),
            "median": statistics.median(gaps),
            "over50": sum(g > TARGET_MS for g in gaps),
            "max_cpu": max(self.cpu or [float("nan")]),
        }


def run_until(condition: Callable[[], bool], timeout_s: float) -> float:
    """Spin the event loop until `condition()`; returns the seconds it took."""
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > timeout_s:
            raise TimeoutError("the view did not get there in time")
        loop = QEventLoop()
        QTimer.singleShot(5, loop.quit)
        loop.exec()
    return time.monotonic() - began


def frames(steps: list[Callable[[], None]], interval_ms: int = 16) -> None:
    """One step per frame, the event loop running between them."""
    for step in steps:
        step()
        loop = QEventLoop()
        QTimer.singleShot(interval_ms, loop.quit)
        loop.exec()


def measure_view(path: Path, comparison_id: int) -> dict[str, dict]:
    from ui.main_window import MainWindow

    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    window.open_project(path)
    run_until(lambda: window.session is not None, 30)
    view = window.show_view("Compare")
    run_until(lambda: bool(view.setup.options), 30)
    watch = StallWatch()
    results: dict[str, dict] = {}

    watch.start()
    view.open_comparison(comparison_id)
    seconds = run_until(lambda: view.model.rowCount() == PROMPTS, 60)
    frames([lambda: None] * 10)  # the first paint of the filled grid
    results["open"] = {**watch.stop(), "seconds": seconds}

    vertical = view.grid.verticalScrollBar()
    horizontal = view.grid.horizontalScrollBar()
    page = max(1, vertical.pageStep())
    down = [lambda v=v: vertical.setValue(v) for v in range(0, vertical.maximum() + page, page)]
    across = [
        lambda v=v: horizontal.setValue(v)
        for v in range(0, horizontal.maximum() + 1, max(1, horizontal.pageStep() // 2))
    ]
    watch.start()
    frames(down + down[::-1] + across + across[::-1])
    results["scroll"] = {**watch.stop(), "frames": len(down) * 2 + len(across) * 2}

    cells = [
        lambda r=r, c=c: view.grid.setCurrentIndex(view.proxy.index(r, c))
        for r in range(0, PROMPTS, 10)
        for c in range(1, CHECKPOINTS + 2)
    ]
    watch.start()
    frames(cells)
    results["select"] = {**watch.stop(), "frames": len(cells)}

    view.filters.set_verdict("regressed")
    watch.start()
    frames([lambda v=v: view.filters.set_verdict(v) for v in ("improved", "unchanged", "all")] * 3)
    results["filter"] = {**watch.stop(), "frames": 9}
    window.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chart-seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-compare-view-"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch))
    from ui.app import make_app

    app = make_app([sys.argv[0]])
    before = load()
    path, comparison_id = stored_comparison(scratch)
    view = measure_view(path, comparison_id)
    chart = stall_run(app, args.chart_seconds, 20.0, 0)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    print(f"load before: {before}; after: {load()}")
    print(f"\nCompare view, {PROMPTS} prompts x {CHECKPOINTS + 1} models (UI-thread gaps, ms)\n")
    print("| phase | max | p99 | median | gaps > 50 ms | most UI-thread CPU in a gap | detail |")
    print("|---|---|---|---|---|---|---|")
    for phase, r in view.items():
        detail = f"{r['seconds']:.2f} s to fill" if "seconds" in r else f"{r['frames']} frames"
        print(
            f"| {phase} | {r['max']:.1f} | {r['p99']:.1f} | {r['median']:.2f} | {r['over50']} "
            f"| {r['max_cpu']:.1f} | {detail} |"
        )
    worst = max(r["max"] for r in view.values())
    print(
        f"| charts (bench_ui_charts stall run, {args.chart_seconds:.0f} s at 20 rows/s) | "
        f"{chart['max']:.1f} | {chart['p99']:.1f} | {chart['median']:.2f} | {chart['over50']} "
        f"| {chart.get('max_cpu', float('nan')):.1f} | after warm-up: max {chart['max_later']:.1f} |"
    )
    print(f"\nworst Compare-view stall {worst:.1f} ms (target < {TARGET_MS:.0f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
