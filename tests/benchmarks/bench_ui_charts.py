"""Benchmark: the live training charts (ui/charts) under a training run's metric stream.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/benchmarks/bench_ui_charts.py
    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/benchmarks/bench_ui_charts.py --seconds 10
    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/benchmarks/bench_ui_charts.py --anchor HEAD~3

1. Event-loop stalls while RunCharts receives ``--rate`` metric rows per second (default 20:
   2 steps/s x 10 metrics, an eval point every 20 steps), delivered in batches at the 7 Hz
   of the poller, for ``--seconds`` (default 60). A 1 ms precise QTimer records the gap
   between its ticks; the table gives the largest and the 99th percentile gap (the ideal is
   1 ms), and the most CPU time the main thread spent inside one gap: on a loaded machine a
   gap also holds the time other processes had the core, the CPU time only our own work.
   Twice: a fresh run, and a run that already has ``--history`` points per series, opened
   as the Train and Runs views open it: the history arrives in the run feed's reads of
   METRIC_BATCH rows, one per turn of the event loop, inside the measured loop (the charts
   are made and drawn by RunCharts' own timer), then the live rows follow.
2. Redraw time of 5 curves of 1,000,000 points each (5 runs' loss overlaid in one chart,
   1200 x 800 widget): the first frame after the data is in (setData, auto-range, paint),
   a repaint of unchanged data (``grab()``), and a live tick (one new point per curve, the
   timer's setData, then ``grab()``), averaged over ``--frames`` frames; with smoothing on
   (raw + EMA curve per series: 10 plot items) and off (5).

Prints the machine, versions, load before and after, and a Markdown table. ``--anchor REF``
checks REF out in a temporary git worktree and runs the same measurements on its
``ui/charts`` (in a child process per tree, this tree first), printing both side by side.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The tree whose ui/charts is measured: this one, or an anchor's worktree (--tree, set by
# --anchor for its child), read before `ui` is imported.
TREE = Path(sys.argv[sys.argv.index("--tree") + 1]) if "--tree" in sys.argv else ROOT
if str(TREE) not in sys.path:
    sys.path.insert(0, str(TREE))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
from PySide6 import __version__ as pyside_version  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from ui.charts import RunCharts  # noqa: E402
from ui.style import apply_style  # noqa: E402
from workbench.training.history import METRIC_BATCH  # noqa: E402

METRICS = (
    "loss",
    "grad_norm",
    "learning_rate",
    "rewards/chosen",
    "rewards/rejected",
    "rewards/margins",
    "rewards/accuracies",
    "logps/chosen",
    "train/step_seconds",
    "memory/peak_gb",
)
POLL_HZ = 7
WARMUP_S = 2.0  # the first batch makes the charts (one a tick, well within it); shown apart


def load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def metric_value(metric: str, step: int, rng: np.random.Generator) -> float | None:
    if metric == "grad_norm" and step % 97 == 0:
        return None  # the odd missing value
    base = {"loss": 0.7 / (1 + step / 500), "learning_rate": 1e-5}.get(metric, math.sin(step / 40))
    return base + 0.05 * rng.normal()


def history_rows(points: int, rng: np.random.Generator, t0: float) -> list:
    rows = []
    for step in range(points):
        when = t0 + step * 0.5
        rows.extend((step, when, m, metric_value(m, step, rng)) for m in METRICS)
    return rows


def history_batches(points: int, rng: np.random.Generator) -> list[list]:
    """A run's history as the run feed hands it over: METRIC_BATCH rows per read."""
    rows = history_rows(points, rng, time.time() - points * 0.5)
    return [rows[i : i + METRIC_BATCH] for i in range(0, len(rows), METRIC_BATCH)]


def stall_run(app: QApplication, seconds: float, rate: float, history: int) -> dict:
    rng = np.random.default_rng(0)
    charts = RunCharts()
    charts.resize(1200, 800)
    charts.show()
    start_step = history
    # Opened as the Train and Runs views open a run: the feed's reads of its history
    # arrive one per event-loop turn inside the measured loop, then the live rows.
    waiting = history_batches(history, rng)
    charts.set_run_label(1, "live run")
    app.processEvents()
    charts.redraw(force=True)
    app.processEvents()

    steps_per_second = rate / len(METRICS)
    redraw_ms: list[float] = []
    plain_redraw = charts.redraw

    def timed_redraw(force: bool = False) -> int:  # the timer's redraw, timed
        t = time.perf_counter()
        done = plain_redraw(force)
        redraw_ms.append((time.perf_counter() - t) * 1e3)
        return done

    charts._timer.timeout.disconnect(plain_redraw)
    charts._timer.timeout.connect(timed_redraw)
    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    ends: list[float] = []  # when each gap ended (s since the start)
    cpu: list[float] = []  # the main thread's CPU time within each gap (ms)
    last_cpu = [time.thread_time()]

    def tick() -> None:
        now = clock.nsecsElapsed()
        now_cpu = time.thread_time()
        gaps.append((now - last[0]) / 1e6)
        cpu.append((now_cpu - last_cpu[0]) * 1e3)
        ends.append(now / 1e9)
        last[0] = now
        last_cpu[0] = now_cpu

    delivered = {"steps": 0, "rows": 0, "batches": 0}
    began = time.monotonic()

    def read_history() -> None:  # one read of the feed's catch-up, the next turn the next
        charts.append(1, waiting.pop(0))
        if waiting:  # 1 ms, not 0: zero timers posted in one turn all run in that turn
            QTimer.singleShot(1, read_history)

    def poll() -> None:  # what the 7 Hz poller hands over: every row due since the last poll
        if waiting:
            return  # the live rows follow the history, as the feed reads them
        due = int((time.monotonic() - began) * steps_per_second)
        rows = []
        while delivered["steps"] < due:
            step = start_step + delivered["steps"]
            when = time.time()
            rows.extend((step, when, m, metric_value(m, step, rng)) for m in METRICS)
            if step % 20 == 0:
                rows.append((step, when, "eval_loss", 0.8 / (1 + step / 500)))
            delivered["steps"] += 1
        if rows:
            charts.append(1, rows)
            delivered["rows"] += len(rows)
            delivered["batches"] += 1

    ticker = QTimer()
    ticker.setTimerType(Qt.TimerType.PreciseTimer)
    ticker.setInterval(1)
    ticker.timeout.connect(tick)
    poller = QTimer()
    poller.setInterval(round(1000 / POLL_HZ))
    poller.timeout.connect(poll)
    loop = QEventLoop()
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    redraws_before = charts.redraw_count
    ticker.start()
    poller.start()
    if waiting:
        QTimer.singleShot(1, read_history)
    last[0] = clock.nsecsElapsed()
    last_cpu[0] = time.thread_time()
    loop.exec()
    ticker.stop()
    poller.stop()
    later = [g for g, e in zip(gaps, ends, strict=True) if e > WARMUP_S]
    result = {
        "max": max(gaps),
        "max_later": max(later) if later else float("nan"),
        "max_cpu": max(cpu),
        "max_cpu_later": max(
            (c for c, e in zip(cpu, ends, strict=True) if e > WARMUP_S), default=0.0
        ),
        "p99": float(np.percentile(gaps, 99)),
        "median": statistics.median(gaps),
        "ticks": len(gaps),
        "over50": sum(g > 50 for g in gaps),
        "redraw_max": max(redraw_ms, default=float("nan")),
        "redraw_median": statistics.median(redraw_ms) if redraw_ms else float("nan"),
        "rows": delivered["rows"],
        "batches": delivered["batches"],
        "redraws": charts.redraw_count - redraws_before,
        "points": charts.point_count(1, "loss"),
        "charts": len(charts.chart_names()),
    }
    charts.close()
    charts.deleteLater()
    app.processEvents()
    return result


def redraw_run(app: QApplication, points: int, curves: int, frames: int, smoothing: float) -> dict:
    rng = np.random.default_rng(1)
    charts = RunCharts()
    charts.resize(1200, 800)
    charts.set_smoothing(smoothing)
    charts.show()
    app.processEvents()
    steps = np.arange(points)
    t_append = time.perf_counter()
    for run in range(curves):
        values = 0.7 / (1 + steps / 1e5) + 0.05 * rng.normal(size=points) + run * 0.1
        rows = list(
            zip(
                steps.tolist(),
                (1e9 + steps * 0.5).tolist(),
                ["loss"] * points,
                values.tolist(),
                strict=True,
            )
        )
        charts.append(run, rows)
    t_append = time.perf_counter() - t_append
    app.processEvents()
    charts.redraw_count = 0

    t = time.perf_counter()
    charts.redraw(force=True)
    charts.grab()
    first = time.perf_counter() - t

    repaint = []
    for _ in range(frames):
        t = time.perf_counter()
        charts.grab()
        repaint.append(time.perf_counter() - t)

    live = []
    for i in range(frames):
        for run in range(curves):
            charts.append(run, [(points + i, 1e9 + (points + i) * 0.5, "loss", 0.1)])
        t = time.perf_counter()
        charts.redraw()
        charts.grab()
        live.append(time.perf_counter() - t)
    items = len(charts.chart("loss").getPlotItem().listDataItems())
    visible = sum(1 for i in charts.chart("loss").getPlotItem().listDataItems() if i.isVisible())
    charts.close()
    charts.deleteLater()
    app.processEvents()
    return {
        "append_s": t_append,
        "first": first * 1e3,
        "repaint": statistics.mean(repaint) * 1e3,
        "live": statistics.mean(live) * 1e3,
        "items": visible,
        "all_items": items,
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each stall run")
    parser.add_argument("--rate", type=float, default=20.0, help="metric rows per second")
    parser.add_argument(
        "--history",
        type=int,
        default=50_000,
        help="points per series already there in the second stall run (0: skip)",
    )
    parser.add_argument("--points", type=int, default=1_000_000, help="points per curve (redraw)")
    parser.add_argument("--curves", type=int, default=5, help="curves (redraw)")
    parser.add_argument("--frames", type=int, default=5, help="frames averaged (redraw)")
    parser.add_argument("--anchor", help="a git ref to measure beside this tree")
    parser.add_argument("--tree", help=argparse.SUPPRESS)  # the child's tree (see TREE)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def measure(args: argparse.Namespace) -> dict:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_style(app)
    stalls = [("fresh run", stall_run(app, args.seconds, args.rate, 0))]
    if args.history:
        stalls.append(
            (
                f"{args.history:,}-point history",
                stall_run(app, args.seconds, args.rate, args.history),
            )
        )
    redraws = [(w, redraw_run(app, args.points, args.curves, args.frames, w)) for w in (0.6, 0.0)]
    return {"stalls": stalls, "redraws": redraws, "qpa": app.platformName()}


def table_rows(result: dict, args: argparse.Namespace) -> list[tuple[str, str, str]]:
    rows = []
    for name, r in result["stalls"]:
        rows += [
            ("event-loop stall, max gap (ms)", name, f"{r['max']:.1f}"),
            (
                f"event-loop stall, max gap after the first {WARMUP_S:g} s (ms)",
                name,
                f"{r['max_later']:.1f}",
            ),
            ("event-loop stall, most main-thread CPU in one gap (ms)", name, f"{r['max_cpu']:.1f}"),
            (
                f"event-loop stall, most main-thread CPU in one gap after the first {WARMUP_S:g} s (ms)",
                name,
                f"{r['max_cpu_later']:.1f}",
            ),
            ("event-loop stall, p99 gap (ms)", name, f"{r['p99']:.2f}"),
        ]
    for w, r in result["redraws"]:
        case = f"{args.curves} x {args.points:,} pts, smoothing {w:g} ({r['items']} plot items)"
        rows += [
            ("first frame after the data is in (ms)", case, f"{r['first']:.0f}"),
            ("repaint, unchanged data: grab() (ms)", case, f"{r['repaint']:.0f}"),
            ("live tick: +1 point/curve, redraw + grab() (ms)", case, f"{r['live']:.0f}"),
        ]
    return rows


def details(result: dict, args: argparse.Namespace) -> list[str]:
    lines = []
    for name, r in result["stalls"]:
        lines.append(
            f"stall run '{name}': {r['ticks']} ticks of the 1 ms timer (median gap "
            f"{r['median']:.2f} ms, {r['over50']} gaps over 50 ms), {r['rows']} rows in "
            f"{r['batches']} batches, {r['redraws']} redraws (median {r['redraw_median']:.1f} "
            f"ms, longest {r['redraw_max']:.1f} ms, paint excluded), {r['points']} loss points "
            f"at the end, {r['charts']} charts"
        )
    for w, r in result["redraws"]:
        lines.append(
            f"redraw smoothing {w:g}: appending {args.curves} x {args.points:,} rows (as "
            f"Python tuples) took {r['append_s']:.1f} s"
        )
    return lines


def in_child(tree: Path, args: argparse.Namespace) -> dict:
    """This benchmark run on ``tree``'s ui/charts in a fresh process."""
    forwarded = [
        f"--{name}={getattr(args, name)}"
        for name in ("seconds", "rate", "history", "points", "curves", "frames")
    ]
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--tree", str(tree), "--json", *forwarded],
        capture_output=True,
        text=True,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
    )
    if done.returncode != 0:
        raise SystemExit(f"the benchmark failed on {tree}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def side_by_side(args: argparse.Namespace) -> dict[str, dict]:
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-charts-") as tmp:
        anchor = Path(tmp) / "anchor"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(anchor), args.anchor],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        try:
            for name, tree in (("this tree", ROOT), (f"anchor {args.anchor}", anchor)):
                results[name] = in_child(tree, args)
                print(f"{name} done; load average: {load()}", flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(anchor)], cwd=ROOT)
    return results


def main() -> None:
    args = parse_args()
    if args.json:
        print(json.dumps(measure(args)))
        return
    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, PySide6 {pyside_version}, pyqtgraph "
        f"{pg.__version__}, numpy {np.__version__}"
    )
    print(f"load average at start: {load()}")
    print(
        f"settings: {args.rate:g} rows/s in {POLL_HZ} Hz batches, {len(METRICS)} metrics, "
        f"{args.seconds:g} s per stall run; redraw: {args.curves} x {args.points:,} points, "
        f"{args.frames} frames, 1200x800"
    )
    results = side_by_side(args) if args.anchor else {"this tree": measure(args)}
    names = list(results)
    print()
    print("| measure | case | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    columns = [table_rows(results[name], args) for name in names]
    for cells in zip(*columns, strict=True):
        measure_name, case, _ = cells[0]
        print(f"| {measure_name} | {case} | " + " | ".join(c[2] for c in cells) + " |")
    for name in names:
        print(f"\n{name} (QPA {results[name]['qpa']}):")
        print("\n".join(details(results[name], args)))
    print(f"load average at end: {load()}")


if __name__ == "__main__":
    main()
