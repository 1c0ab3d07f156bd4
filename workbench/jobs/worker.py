"""The engine worker: `python -m workbench.jobs.worker PROJECT`.

It owns the accelerator and keeps the loaded model between jobs. It claims jobs from
the project database, runs them with the engine and records what they produce. A job
that raises is marked failed with its message and traceback, and the worker goes on.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable

from workbench.errors import user_message
from workbench.jobs import lanes, worker_registry
from workbench.jobs import queue as jobs
from workbench.jobs.context import JobCancelled, JobContext
from workbench.jobs.handlers import handler_for
from workbench.project import Project

IDLE_POLL_S = 0.25
REAP_EVERY_S = 5.0
LOG_ENV = "WORKBENCH_WORKER_LOG"


def _loaded_fields(session) -> dict:
    """What the worker holds, for the GUI's status bar."""
    described = session.describe() or {}
    return {"loaded_model": described.get("name"), "device": described.get("device")}


def _log_path() -> str | None:
    """logs/worker-<pid>.log when a launcher sent the output there (workbench/jobs/launcher.py)."""
    template = os.environ.get(LOG_ENV)
    return template.format(pid=os.getpid()) if template else None


class Worker:
    def __init__(self, project: Project, session=None, lane: str = lanes.ANY):
        if lane not in lanes.LANES:
            raise ValueError(f"unknown worker lane {lane!r}; expected one of {lanes.LANES}")
        self.project = project
        self.lane = lane
        if session is None:
            from huggingface_hub import constants

            from engine.session import ModelSession

            # A hub id that is not in the cache downloads unless the user keeps the
            # machine offline (HF_HUB_OFFLINE=1), as every Hugging Face tool does.
            session = ModelSession(offline=constants.HF_HUB_OFFLINE)
        self.session = session
        # The window that starts a detached worker names its log file (relative to the project).
        self.worker_id = worker_registry.register(project, lane=lane, log_path=_log_path())
        self._device: str | None = None
        self.current: JobContext | None = None
        self.stopping = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat_loop, daemon=True)
        self._beat.start()

    def _heartbeat_loop(self) -> None:
        # Its own connection: SQLite connections must not be shared across threads mid-use.
        project = Project.open(self.project.path)
        while not self.stopping.wait(worker_registry.HEARTBEAT_INTERVAL_S):
            worker_registry.update(project, self.worker_id)
            if self.current is not None:
                project.db.execute(
                    "UPDATE jobs SET heartbeat = ? WHERE id = ?", [time.time(), self.current.job.id]
                )
        project.close()

    def execute(
        self, job: jobs.Job, on_progress: Callable[[int, int, str], None] | None = None
    ) -> jobs.Job:
        ctx = JobContext(self.project, job, self.session, on_progress)
        self.current = ctx
        worker_registry.update(self.project, self.worker_id, status="busy", current_job_id=job.id)
        try:
            result = handler_for(job.kind)(ctx)
            status = "cancelled" if ctx.cancel_requested else "done"
            jobs.finish(self.project, job.id, result, status=status)
        except JobCancelled as exc:
            jobs.finish(self.project, job.id, {"message": str(exc)}, status="cancelled")
        except Exception as exc:  # a failing job must never stop the worker
            jobs.fail(
                self.project, job.id, user_message(exc, self.project.path), traceback.format_exc()
            )
        finally:
            self.current = None
            worker_registry.update(
                self.project,
                self.worker_id,
                status="idle",
                current_job_id=None,
                **_loaded_fields(self.session),
            )
        return jobs.get(self.project, job.id)

    def run(self, once: bool = False, idle_exit_s: float | None = None) -> int:
        """Claim and run jobs until asked to stop; returns how many jobs ran."""
        worker_registry.reap_dead_workers(self.project)
        ran, idle_since, reaped = 0, time.monotonic(), time.monotonic()
        admit = self._admit if self.lane == lanes.INTERACTIVE else None
        while not self.stopping.is_set():
            job = jobs.claim_next(self.project, self.worker_id, self.lane, admit)
            if job is None:
                if once or (idle_exit_s and time.monotonic() - idle_since > idle_exit_s):
                    break
                if time.monotonic() - reaped > REAP_EVERY_S:  # a dead trainer frees the device
                    worker_registry.reap_dead_workers(self.project)
                    reaped = time.monotonic()
                self.stopping.wait(IDLE_POLL_S)
                continue
            self.execute(job)
            ran, idle_since = ran + 1, time.monotonic()
        return ran

    def _admit(self, _kind: str, params: dict) -> str | None:
        """An interactive job shares a GPU with a training run only when both fit."""
        from workbench.jobs.device_share import share_verdict

        if self._device is None:
            from engine.device import pick_device

            self._device = pick_device("auto")
        try:
            return share_verdict(self.project, params, params.get("device") or self._device)
        except Exception as exc:  # an estimate that cannot be made must not stop the worker
            print(f"memory estimate skipped for a job: {user_message(exc)}", file=sys.stderr)
            return None

    def request_stop(self, *_args) -> None:
        """SIGTERM / SIGINT: let the current job stop at its next step, then exit."""
        self.stopping.set()
        if self.current is not None:
            self.current.request_stop("worker is shutting down")

    def close(self) -> None:
        self.stopping.set()
        self._beat.join(timeout=5)
        worker_registry.update(self.project, self.worker_id, status="stopped", current_job_id=None)


def run_inline(
    project: Project,
    kind: str,
    params: dict,
    on_progress: Callable[[int, int, str], None] | None = None,
    *,
    interruptible: bool = False,
) -> jobs.Job:
    """Run one job in this process (the command line), recorded exactly like a worker's.
    `interruptible`: Ctrl+C stops the job at its next step, as SIGTERM does, so it ends
    with what it finished instead of a traceback."""
    worker = Worker(project)
    previous = signal.getsignal(signal.SIGINT)
    try:
        job_id = jobs.submit_claimed(project, kind, params, worker.worker_id)
        signal.signal(signal.SIGTERM, worker.request_stop)
        if interruptible:
            signal.signal(signal.SIGINT, worker.request_stop)
        return worker.execute(jobs.get(project, job_id), on_progress)
    finally:
        if interruptible:
            signal.signal(signal.SIGINT, previous)
        worker.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="workbench worker", description=__doc__)
    parser.add_argument("project", help="project folder")
    parser.add_argument("--once", action="store_true", help="exit when the queue is empty")
    parser.add_argument(
        "--idle-exit",
        type=float,
        default=None,
        metavar="SECONDS",
        help="exit after this long with no job",
    )
    parser.add_argument(
        "--lane",
        choices=lanes.LANES,
        default=lanes.ANY,
        help="training: train jobs only; interactive: every other kind; any: both (default)",
    )
    args = parser.parse_args(argv)
    project = Project.open(args.project)
    worker = Worker(project, lane=args.lane)
    signal.signal(signal.SIGTERM, worker.request_stop)
    signal.signal(signal.SIGINT, worker.request_stop)
    print(
        f"worker {worker.worker_id} (pid {os.getpid()}, {args.lane} lane) on {project.path}",
        file=sys.stderr,
        flush=True,
    )
    try:
        ran = worker.run(once=args.once, idle_exit_s=args.idle_exit)
    finally:
        worker.close()
    print(f"worker {worker.worker_id} stopped after {ran} job(s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
