"""Benchmark: from starting the process to a painted window on the demo project.

    .venv/bin/python tests/benchmarks/bench_startup.py                    # this tree only
    .venv/bin/python tests/benchmarks/bench_startup.py --anchor HEAD~5    # beside an older commit

Each repetition starts a fresh `python` (offscreen platform) that builds the window as
`workbench gui` does, opens the demo project and reports once the event loop has
painted it; the parent measures wall time from spawning the process to that report, so
the interpreter's own start and every import count. The first repetition of each tree is
"cold" for Python's bytecode cache only when the tree was never imported before; the
rows show the median and the best of the rest. `--anchor REF` checks REF out in a
temporary git worktree (sharing this tree's virtual environment) and measures it in the
same run, alternating with this tree so that machine load hits both alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import sys
from PySide6.QtCore import QTimer
from ui.app import make_app, choose_project
from ui.main_window import MainWindow
app = make_app([])
window = MainWindow()
window.show()
window.open_project(choose_project(sys.argv[1]))
def painted():
    print("painted", flush=True)
    app.quit()
QTimer.singleShot(0, painted)
app.exec()
"""


def _once(tree: Path, project: Path) -> float:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(project)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.perf_counter() - started
    if "painted" not in done.stdout:
        raise SystemExit(f"the window did not start in {tree}:\n{done.stderr[-2000:]}")
    return elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--anchor", help="a git ref to measure beside this tree")
    args = parser.parse_args(argv)
    print(f"- {os.cpu_count()} CPUs; load at start {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        project = Path(tmp) / "demo"
        subprocess.run(
            [sys.executable, "-m", "workbench.cli", "demo", str(project)],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        trees = {"this tree": ROOT}
        if args.anchor:
            anchor = Path(tmp) / "anchor"
            subprocess.run(
                ["git", "worktree", "add", "--detach", str(anchor), args.anchor],
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
            trees[f"anchor {args.anchor}"] = anchor
        try:
            times: dict[str, list[float]] = {name: [] for name in trees}
            for _ in range(args.repeat):
                for name, tree in trees.items():
                    times[name].append(_once(tree, project))
        finally:
            if args.anchor:
                subprocess.run(["git", "worktree", "remove", "--force", str(anchor)], cwd=ROOT)
    print("\n| tree | first s | median s | best s |")
    print("|---|---|---|---|")
    for name, values in times.items():
        rest = values[1:] or values
        print(f"| {name} | {values[0]:.2f} | {statistics.median(rest):.2f} | {min(rest):.2f} |")
    print(f"\n- load at end {os.getloadavg()}")


if __name__ == "__main__":
    main()
