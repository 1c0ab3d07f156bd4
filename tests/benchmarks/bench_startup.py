"""Benchmark: from starting the process to a painted window, and to its first view, on the
demo project.

    .venv/bin/python tests/benchmarks/bench_startup.py                    # this tree only
    .venv/bin/python tests/benchmarks/bench_startup.py --anchor HEAD~5    # beside an older commit

Each repetition starts a fresh `python` (offscreen platform) that builds the window as
`workbench gui` does, opens the demo project and reports twice: once the event loop has
painted the window ("window"), and once the project has opened and its first view (the
Project view) is painted ("first view", what the user waits for). The parent measures wall
time from spawning the process to each report, so the interpreter's own start and every
import count. The first repetition of each tree is
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
import sys, time
from PySide6.QtCore import QTimer
from ui.app import make_app, choose_project
from ui.main_window import MainWindow
app = make_app([])
window = MainWindow()
window.show()
def view_painted():
    print("view", time.time(), flush=True)
    app.quit()
window.projectOpened.connect(lambda _path: QTimer.singleShot(0, view_painted))
window.open_project(choose_project(sys.argv[1]))
QTimer.singleShot(0, lambda: print("painted", time.time(), flush=True))
app.exec()
"""
MILESTONES = ("painted", "view")  # the window, then its first view


def _once(tree: Path, project: Path) -> dict[str, float]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    started = time.time()  # wall clock, as the child reports its milestones
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(project)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    reported = dict(line.split() for line in done.stdout.splitlines() if line.count(" ") == 1)
    if any(name not in reported for name in MILESTONES):
        raise SystemExit(f"the window did not start in {tree}:\n{done.stderr[-2000:]}")
    return {name: float(reported[name]) - started for name in MILESTONES}


def _demo(tree: Path, project: Path) -> Path:
    """The demo project made by the tree's own code: an older tree may not open a project
    whose schema a newer one wrote."""
    subprocess.run(
        [sys.executable, "-m", "workbench.cli", "demo", str(project)],
        cwd=tree,
        check=True,
        capture_output=True,
    )
    return project


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--anchor", help="a git ref to measure beside this tree")
    args = parser.parse_args(argv)
    print(f"- {os.cpu_count()} CPUs; load at start {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
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
            projects = {
                name: _demo(tree, Path(tmp) / f"demo-{i}")
                for i, (name, tree) in enumerate(trees.items())
            }
            times: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
            for _ in range(args.repeat):
                for name, tree in trees.items():
                    times[name].append(_once(tree, projects[name]))
        finally:
            if args.anchor:
                subprocess.run(["git", "worktree", "remove", "--force", str(anchor)], cwd=ROOT)
    print("\n| tree | shown | first s | median s | best s |")
    print("|---|---|---|---|---|")
    for milestone, shown in zip(MILESTONES, ("window", "first view"), strict=True):
        for name, runs in times.items():
            values = [run[milestone] for run in runs]
            rest = values[1:] or values
            print(
                f"| {name} | {shown} | {values[0]:.2f} | {statistics.median(rest):.2f} "
                f"| {min(rest):.2f} |"
            )
    print(f"\n- load at end {os.getloadavg()}")


if __name__ == "__main__":
    main()
