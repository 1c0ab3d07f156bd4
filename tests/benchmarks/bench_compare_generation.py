"""Benchmark: a 200 x 4 greedy comparison on the demo against 4 separate `workbench eval`
runs of the same prompts and models, each from the command line as a user runs them.

    OMP_NUM_THREADS=1 .venv/bin/python tests/benchmarks/bench_compare_generation.py

Two fresh demo projects, each with three more records of the demo model (distinct
entrants on the same weights, as a base model and its checkpoints share them): in one,
`workbench eval --model-id M --split eval --limit 200` for each of the 4 models, one
process after another; in the other, one `workbench compare --models
base,base:2,base:3,base:4 --split eval --limit 200`. Wall-clock time of each, process
start and model loading included, with the load average before and after. The claim
checked: the comparison takes no longer than the 4 evaluations. Not collected by pytest.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PROMPTS = 200
MODELS = 4


def load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def project_with_models(path: Path) -> list[int]:
    """A demo project with MODELS records of the demo model; their ids, the default first."""
    from engine.demo import DEMO_MODEL_NAME
    from workbench.data.models import add_model, default_model
    from workbench.demo_project import build_demo_project

    project = build_demo_project(path)
    ids = [default_model(project).id]
    ids += [
        add_model(project, f"demo copy {i}", "demo", DEMO_MODEL_NAME) for i in range(MODELS - 1)
    ]
    project.close()
    return ids


def workbench(*args: str) -> tuple[float, dict]:
    """Run `workbench ARGS --json` in a fresh process; (seconds, its JSON)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "workbench.cli", *args, "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"workbench {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return seconds, json.loads(done.stdout)


def main() -> int:
    scratch = Path(tempfile.mkdtemp(prefix="bench-compare-gen-"))
    evals, compared = scratch / "evals", scratch / "compare"
    ids = project_with_models(evals)
    project_with_models(compared)
    before = load()
    limit = ["--split", "eval", "--limit", str(PROMPTS)]
    eval_seconds = []
    for model_id in ids:
        seconds, _ = workbench("eval", str(evals), "--model-id", str(model_id), *limit)
        eval_seconds.append(seconds)
    models = ",".join(["base", *(f"base:{i}" for i in ids[1:])])
    compare_seconds, out = workbench("compare", str(compared), "--models", models, *limit)
    generated = out.get("generated")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '(unset)')} (children: 1)")
    print(f"load before: {before}; after: {load()}\n")
    print("| what | seconds |")
    print("|---|---|")
    for model_id, seconds in zip(ids, eval_seconds, strict=True):
        print(f"| workbench eval --model-id {model_id} ({PROMPTS} prompts) | {seconds:.1f} |")
    print(f"| the 4 evals together | {sum(eval_seconds):.1f} |")
    print(
        f"| workbench compare ({PROMPTS} x {MODELS}, {generated} generated) | {compare_seconds:.1f} |"
    )
    verdict = "no longer" if compare_seconds <= sum(eval_seconds) else "LONGER"
    print(f"\nthe comparison took {verdict} than the 4 evaluations")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
