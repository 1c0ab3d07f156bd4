"""Benchmark: a demo DPO and GRPO run with a second process burning one core, before and
after the worker's thread policy.

    .venv/bin/python tests/benchmarks/bench_threads.py                 # 30 DPO, 8 GRPO steps
    .venv/bin/python tests/benchmarks/bench_threads.py --dpo-steps 10 --grpo-steps 3

Rows, each `workbench train` on a fresh copy of one demo project (rule-labelled: 4
candidates a train prompt), in its own process:
  quiet  / before: torch loaded before the engine, so OpenMP keeps its default (spinning)
                   wait policy; torch's default threads (all cores)
  quiet  / after:  the engine's policy (passive wait; WORKBENCH_THREADS unset)
  loaded / before, loaded / after: the same while `python -c "while True: pass"` keeps one
                   core busy for the whole row
The table prints seconds per training step (wall time of the command over its steps, so
loading the model counts: compare rows with each other, not with other benchmarks) and
the slowdown of each loaded row over its quiet row.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# "before": torch first, so the engine's environment comes too late for OpenMP.
BEFORE = "import torch, sys; from workbench.cli import main; sys.exit(main())"
AFTER = "import sys; from workbench.cli import main; sys.exit(main())"


def _train(project: Path, code: str, algorithm: str, steps: int) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "WORKBENCH_"))}
    args = ["train", str(project), "--set", f"algorithm={algorithm}", "--set", f"max_steps={steps}"]
    args += ["--set", f"eval_every={steps * 10}", "--json"]
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"{algorithm} run failed:\n{done.stderr[-2000:]}")
    return (time.perf_counter() - started) / steps


def _burner() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def _row(template: Path, work: Path, code: str, algorithm: str, steps: int, loaded: bool):
    project = work / f"p{len(list(work.iterdir()))}"
    shutil.copytree(template, project)
    burner = _burner() if loaded else None
    try:
        return _train(project, code, algorithm, steps)
    finally:
        if burner is not None:
            burner.kill()
            burner.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dpo-steps", type=int, default=30)
    parser.add_argument("--grpo-steps", type=int, default=8)
    args = parser.parse_args(argv)
    print(f"- {os.cpu_count()} CPUs; load at start {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="bench-threads-") as tmp:
        work = Path(tmp)
        template = work / "demo"
        cli = [sys.executable, "-m", "workbench.cli"]
        subprocess.run([*cli, "demo", str(template)], cwd=ROOT, check=True, capture_output=True)
        # DPO trains on rule labels, as README's first run does.
        label = ["label", str(template), "--by", "rules", "--split", "train", "--generate", "4"]
        subprocess.run([*cli, *label], cwd=ROOT, check=True, capture_output=True)
        rows = work / "rows"
        rows.mkdir()
        print("\n| algorithm | policy | quiet s/step | one core busy s/step | slowdown |")
        print("|---|---|---|---|---|")
        for algorithm, steps in (("dpo", args.dpo_steps), ("grpo", args.grpo_steps)):
            for name, code in (("before", BEFORE), ("after", AFTER)):
                quiet = _row(template, rows, code, algorithm, steps, loaded=False)
                busy = _row(template, rows, code, algorithm, steps, loaded=True)
                print(
                    f"| {algorithm} | {name} | {quiet:.3f} | {busy:.3f} | {busy / quiet:.1f}× |",
                    flush=True,
                )
    print(f"\n- load at end {os.getloadavg()}")


if __name__ == "__main__":
    main()
