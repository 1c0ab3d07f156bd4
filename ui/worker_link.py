"""An engine worker process as the window sees it: started on demand detached from the window
(workbench/jobs/launcher.py: its own session, output to logs/worker-<pid>.log), or attached to
when another window or a terminal started it; its log read from that file, its death noticed
and explained, stopped politely when asked.

The worker owns torch and the accelerator (docs/architecture.md, "Processes"); a crash there never
takes the window down, and closing the window never takes the worker down.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from workbench.jobs import lanes
from workbench.jobs.exit_reason import explain_exit, read_log_tail
from workbench.jobs.launcher import append_note, start_worker
from workbench.jobs.worker_registry import pid_alive

LOG_LINES = 400
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
STOP_TIMEOUT_MS = 5000
WATCH_MS = 200
# The worker's last words when it ends by itself (idle timeout, --once, SIGTERM).
_CLEAN_EXIT = re.compile(r"^worker \d+ stopped after", re.MULTILINE)


class WorkerLink(QObject):
    stateChanged = Signal(str)  # none | starting | running | stopping | stopped | crashed
    logChanged = Signal()
    died = Signal(str)  # what happened, for a user; emitted only for an unrequested exit

    def __init__(
        self,
        project_path: str | Path,
        parent: QObject | None = None,
        module: str = "workbench.jobs.worker",
        lane: str = lanes.TRAINING,
    ):
        super().__init__(parent)
        self.project_path = Path(project_path)
        self.module = module  # tests run stand-ins that crash or ignore SIGTERM
        self.lane = lane
        self.idle_exit_s: float | None = lanes.DEFAULT_IDLE_EXIT_S
        self.state = "none"
        self.exit_note = ""
        self.returncode: int | None = None
        self.external = False  # attached to a worker this window did not start
        self.dead_pids: set[int] = set()
        self._process: subprocess.Popen | None = None
        self._pid: int | None = None
        self._log_path: Path | None = None
        self._log_size = -1
        self._stop_requested = False
        self._kill_timer = QTimer(self, singleShot=True, interval=STOP_TIMEOUT_MS)
        self._kill_timer.timeout.connect(self._kill)
        self._watch = QTimer(self, interval=WATCH_MS)
        self._watch.timeout.connect(self._check)

    @property
    def pid(self) -> int | None:
        return self._pid

    @property
    def log_path(self) -> Path | None:
        return self._log_path

    def is_running(self) -> bool:
        return self.state in ("starting", "running", "stopping")

    def log_text(self) -> str:
        lines = read_log_tail(self._log_path).split("\n")[-LOG_LINES:]
        # Progress bars redraw with carriage returns; keep what a terminal would show.
        return "\n".join(_ANSI.sub("", line.rstrip("\r").rsplit("\r", 1)[-1]) for line in lines)

    def start(self) -> None:
        if self.is_running():
            return
        self._stop_requested, self.exit_note, self.returncode = False, "", None
        self.external = False
        self._set_state("starting")
        try:
            launched = start_worker(self.project_path, self.lane, self.idle_exit_s, self.module)
        except OSError as exc:
            self.exit_note = "failed to start"
            self._set_state("crashed")
            self.died.emit(f"The engine worker could not be started ({exc}).")
            return
        self._process, self._pid, self._log_path = launched.process, launched.pid, launched.log_path
        self._watch.start()
        self._set_state("running")

    def attach(self, pid: int, log_path: str | None) -> None:
        """Follow a live worker another window or a terminal started (same machine)."""
        if self.is_running() or pid in self.dead_pids:
            return
        self._process, self._pid, self.external = None, pid, True
        self._log_path = self.project_path / log_path if log_path else None
        self._stop_requested, self.exit_note, self.returncode = False, "", None
        self._watch.start()
        self._set_state("running")

    def stop(self) -> None:
        """Ask the worker to finish (SIGTERM: its job stops at the next step and saves); kill
        it if it has not exited after a while."""
        if self._pid is None or not self.is_running():
            return
        self._stop_requested = True
        self._set_state("stopping")
        self._signal(signal.SIGTERM)
        self._kill_timer.start()

    def stop_and_wait(self, timeout_ms: int = STOP_TIMEOUT_MS) -> None:
        """Nothing of this worker is left running after this returns."""
        if self._pid is None or not self.is_running():
            return
        self.stop()
        if not self._wait(timeout_ms / 1000):
            self._kill()
            self._wait(2.0)
        self._check()

    def forget(self) -> None:
        """Stop watching (the window closes) and leave the worker running."""
        self._watch.stop()
        self._kill_timer.stop()

    def _wait(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not self._alive():
                return True
            time.sleep(0.05)
        return not self._alive()

    def _alive(self) -> bool:
        if self._process is not None:
            return self._process.poll() is None
        return self._pid is not None and pid_alive(self._pid)

    def _signal(self, number: int) -> None:
        try:
            os.kill(self._pid, number)
        except (ProcessLookupError, TypeError):
            pass

    @Slot()
    def _kill(self) -> None:
        if self._pid is not None and self._alive():
            append_note(self._log_path, "--- the worker did not stop in time; killing it")
            try:  # its whole session: sandbox children too
                os.killpg(self._pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self._signal(signal.SIGKILL)

    @Slot()
    def _check(self) -> None:
        size = self._current_log_size()
        if size != self._log_size:
            self._log_size = size
            self.logChanged.emit()
        if self._pid is None or not self.is_running() or self._alive():
            return
        self._watch.stop()
        self._kill_timer.stop()
        self.returncode = self._process.returncode if self._process is not None else None
        self.dead_pids.add(self._pid)
        log = read_log_tail(self._log_path)
        clean = self.returncode == 0 or (self.returncode is None and _CLEAN_EXIT.search(log))
        if self._stop_requested or clean:
            if self._stop_requested:
                append_note(self._log_path, "--- worker stopped")
            self._set_state("stopped")
            self.logChanged.emit()
            return
        self.exit_note = explain_exit(self.returncode, log)
        append_note(self._log_path, f"--- worker died: {self.exit_note}")
        self.logChanged.emit()
        self._set_state("crashed")
        self.died.emit(self._death_message(log))

    def _current_log_size(self) -> int:
        try:
            return self._log_path.stat().st_size if self._log_path else -1
        except OSError:
            return -1

    def _death_message(self, log: str) -> str:
        last = [line for line in log.splitlines() if line.strip() and not line.startswith("---")]
        tail = last[-1] if last else "no output"
        return f"The engine worker stopped unexpectedly ({self.exit_note}). Last output: {tail}"

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.stateChanged.emit(state)
