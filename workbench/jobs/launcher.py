"""Starting an engine worker detached from the process that asks for it (the window): in a
session of its own, so closing or killing the window, or a Ctrl+C in its terminal, never
reaches it; its output goes to logs/worker-<pid>.log in the project folder, which any
window can read later. The worker ends by itself after an idle timeout."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import workbench
from workbench.jobs.worker import LOG_ENV

LOGS = "logs"
LOG_NAME = "worker-{pid}.log"
# Workers started here and still running when their starter forgets them: kept, so no
# Popen is collected (and warns) while the process it started trains on.
_DETACHED: list[subprocess.Popen] = []


@dataclass
class Launched:
    process: subprocess.Popen
    log_path: Path  # absolute

    @property
    def pid(self) -> int:
        return self.process.pid


def worker_environment() -> dict[str, str]:
    env = dict(os.environ)
    # The worker must import this very copy of the app, installed or not.
    root = str(Path(workbench.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHONUNBUFFERED"] = "1"
    env[LOG_ENV] = f"{LOGS}/{LOG_NAME}"
    return env


def start_worker(
    project_path: str | Path,
    lane: str,
    idle_exit_s: float | None,
    module: str = "workbench.jobs.worker",
) -> Launched:
    """Start `python -m module PROJECT --lane LANE --idle-exit S` detached; returns at once."""
    project_path = Path(project_path)
    logs = project_path / LOGS
    logs.mkdir(exist_ok=True)
    # The pid is known only once it runs: write to a temporary name, then rename (the open
    # file follows). The worker records logs/worker-<its pid>.log in the workers table.
    starting = logs / f"worker-starting-{time.time_ns()}.log"
    args = [sys.executable, "-m", module, str(project_path), "--lane", lane]
    if idle_exit_s:
        args += ["--idle-exit", str(idle_exit_s)]
    with open(starting, "ab") as log:
        log.write(f"--- starting worker: {' '.join(args)}\n".encode())
        log.flush()
        process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=worker_environment(),
            start_new_session=True,
        )
    final = logs / LOG_NAME.format(pid=process.pid)
    os.replace(starting, final)
    # Reap the ones that ended since (no zombies while a window stays open for days).
    _DETACHED[:] = [p for p in _DETACHED if p.poll() is None]
    _DETACHED.append(process)
    return Launched(process, final)


def append_note(log_path: Path | None, line: str) -> None:
    """A line of the window's own (e.g. "--- worker stopped") in the worker's log."""
    if log_path is None:
        return
    try:
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(line + "\n")
    except OSError:
        pass  # the log is for reading; a full disk must not break stopping a worker
