"""Benchmark: a demo DPO and GRPO run with a second process burning one core, before and
after the worker's thread policy, repeated and interleaved.

    .venv/bin/python tests/benchmarks/bench_threads.py                 # 20 DPO, 6 GRPO steps, x3
    .venv/bin/python tests/benchmarks/bench_threads.py --repeat 1 --dpo-steps 5 --grpo-steps 2
    .venv/bin/python tests/benchmarks/bench_threads.py --policy spin=GOMP_SPINCOUNT=10000

Each row is `workbench train` on a fresh copy of one demo project (rule-labelled: 4
candidates a train prompt), in its own process, under a thread policy:
  before: torch loaded before the engine, so OpenMP keeps its default wait policy (spin
          about 300,000 times before sleeping) and torch its default threads (all cores)
  after:  the engine's policy, nothing set in the environment (passive wait; the session
          runs a model under 10 M parameters, such as the demo's, on one thread, and
          does so in the "before" row too)
  NAME:   each --policy NAME=VAR=VALUE[,VAR=VALUE...]: the engine with those variables
and in two conditions: quiet, and with `python -c "while True: pass"` keeping one core busy
for the whole row. The rows run interleaved (repetition by repetition, every policy and
condition in turn), so that the machine's other load falls on all of them alike; the
table gives each cell's median seconds per step (the run's own `seconds`, from the start
of training to its end, over its steps; "> x" for a run stopped at --row-limit), its
repetitions, and the slowdown of the busy median over the quiet one. The machine's load average is printed at the start, the end
and beside each row: a shared machine is rarely quiet, so read the figures with it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# "before": torch first, so the engine's environment comes too late for OpenMP.
BEFORE = "import torch, sys; from workbench.cli import main; sys.exit(main())"
AFTER = "import sys; from workbench.cli import main; sys.exit(main())"
OWN_PREFIXES = ("OMP_", "GOMP_", "KMP_", "WORKBENCH_")


def _policy(text: str) -> tuple[str, dict[str, str]]:
    """NAME=VAR=VALUE[,VAR=VALUE...] -> (NAME, {VAR: VALUE})."""
    name, _, assignments = text.partition("=")
    env = {}
    for part in filter(None, assignments.split(",")):
        var, sep, value = part.partition("=")
        if not sep or not var:
            raise argparse.ArgumentTypeError(f"--policy {text!r}: expected NAME=VAR=VALUE[,...]")
        env[var] = value
    if not name:
        raise argparse.ArgumentTypeError(f"--policy {text!r}: the policy needs a name")
    return name, env


def _train(
    project: Path, code: str, env_extra: dict, algorithm: str, steps: int, limit: float
) -> float:
    """Seconds per step; a run stopped at ``limit`` seconds gives -(limit / steps), a
    bound the table prints as "> x"."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_PREFIXES)}
    env.update(env_extra)
    args = ["train", str(project), "--set", f"algorithm={algorithm}", "--set", f"max_steps={steps}"]
    args += ["--set", f"eval_every={steps * 10}", "--json"]
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=limit,
        )
    except subprocess.TimeoutExpired:
        return -limit / steps
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{algorithm} run failed:\n{done.stderr[-2000:]}")
    seconds = _run_seconds(done.stdout)
    return (wall if seconds is None else seconds) / steps


def _run_seconds(stdout: str) -> float | None:
    """The run's own `seconds` from `workbench train --json` (one JSON object, maybe after
    progress lines), or None."""
    start = stdout.find("\n{")
    try:
        found = json.loads(stdout if stdout.startswith("{") else stdout[start + 1 :])
    except ValueError:
        return None
    seconds = found.get("seconds") if isinstance(found, dict) else None
    return float(seconds) if isinstance(seconds, int | float) else None


def _row(
    template: Path, work: Path, policy, algorithm: str, steps: int, busy: bool, limit: float
) -> float:
    project = work / f"p{len(list(work.iterdir()))}"
    shutil.copytree(template, project)
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    try:
        return _train(project, policy[0], policy[1], algorithm, steps, limit)
    finally:
        if burner is not None:
            burner.kill()
            burner.wait()
        shutil.rmtree(project, ignore_errors=True)


def _shown(seconds: float) -> str:
    return f"> {-seconds:.3f}" if seconds < 0 else f"{seconds:.3f}"


def _median(values: list[float]) -> float:
    """The median, a stopped run (negative) counting as slower than any finished one;
    negative when the median itself is a bound."""
    ordered = sorted(values, key=lambda v: float("inf") if v < 0 else v)
    middle = ordered[len(ordered) // 2]
    return middle if len(ordered) % 2 or middle < 0 else statistics.median(values)


def _load() -> str:
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def _prepare(work: Path) -> Path:
    template = work / "demo"
    cli = [sys.executable, "-m", "workbench.cli"]
    subprocess.run([*cli, "demo", str(template)], cwd=ROOT, check=True, capture_output=True)
    # DPO trains on rule labels, as README's first run does.
    label = ["label", str(template), "--by", "rules", "--split", "train", "--generate", "4"]
    subprocess.run([*cli, *label], cwd=ROOT, check=True, capture_output=True)
    return template


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dpo-steps", type=int, default=20)
    parser.add_argument("--grpo-steps", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of every cell")
    parser.add_argument("--policy", type=_policy, action="append", default=[])
    parser.add_argument("--algorithms", default="dpo,grpo")
    parser.add_argument(
        "--row-limit",
        type=float,
        default=600,
        help="seconds after which a row is stopped and shown as a lower bound",
    )
    args = parser.parse_args(argv)
    policies = {"before": (BEFORE, {}), "after": (AFTER, {})}
    policies.update({name: (AFTER, env) for name, env in args.policy})
    steps = {"dpo": args.dpo_steps, "grpo": args.grpo_steps}
    algorithms = [a for a in args.algorithms.split(",") if a]
    print(f"- {os.cpu_count()} CPUs; load average at start {_load()}")
    times: dict[tuple, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-threads-") as tmp:
        work = Path(tmp)
        template = _prepare(work)
        rows = work / "rows"
        rows.mkdir()
        for rep in range(args.repeat):
            for algorithm in algorithms:
                for busy in (False, True):
                    for name, policy in policies.items():
                        took = _row(
                            template,
                            rows,
                            policy,
                            algorithm,
                            steps[algorithm],
                            busy,
                            args.row_limit,
                        )
                        times.setdefault((algorithm, name, busy), []).append(took)
                        print(
                            f"  rep {rep + 1} {algorithm} {name} {'busy' if busy else 'quiet'}: "
                            f"{_shown(took)} s/step (load {_load()})",
                            flush=True,
                        )
    print(
        "\n| algorithm | policy | quiet s/step (median; runs) | one core busy s/step | slowdown |"
    )
    print("|---|---|---|---|---|")
    for algorithm in algorithms:
        for name in policies:
            quiet, busy = times[(algorithm, name, False)], times[(algorithm, name, True)]
            q, b = _median(quiet), _median(busy)
            slowdown = "?" if q < 0 or b < 0 else f"{b / q:.2f}×"
            print(
                f"| {algorithm} | {name} | {_shown(q)} ({', '.join(map(_shown, quiet))}) "
                f"| {_shown(b)} ({', '.join(map(_shown, busy))}) | {slowdown} |"
            )
    print(f"\n- load average at end {_load()}")


if __name__ == "__main__":
    main()
