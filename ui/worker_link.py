"""The engine worker process, as the window sees it: started on demand with QProcess,
its output kept for the log, its death noticed and explained, stopped politely on close.

The worker owns torch and the accelerator (docs/architecture.md, "Processes"); a crash there never
takes the window down, and the user can start a new worker from the banner.
"""

from __future__ import annotations

import collections
import os
import re
import signal
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal, Slot

import workbench

LOG_LINES = 400
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
STOP_TIMEOUT_MS = 5000


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(code).name
    except ValueError:
        return f"signal {code}"


class WorkerLink(QObject):
    stateChanged = Signal(str)  # none | starting | running | stopping | stopped | crashed
    logChanged = Signal()
    died = Signal(str)  # what happened, for a user; emitted only for an unrequested exit

    def __init__(
        self,
        project_path: str | Path,
        parent: QObject | None = None,
        module: str = "workbench.jobs.worker",
    ):
        super().__init__(parent)
        self.project_path = Path(project_path)
        self.module = module  # tests run stand-ins that crash or ignore SIGTERM
        self.state = "none"
        self.exit_note = ""
        self.dead_pids: set[int] = set()
        self._log: collections.deque[str] = collections.deque(maxlen=LOG_LINES)
        self._partial = ""
        self._process: QProcess | None = None
        self._pid: int | None = None
        self._stop_requested = False
        self._kill_timer = QTimer(self, singleShot=True, interval=STOP_TIMEOUT_MS)
        self._kill_timer.timeout.connect(self._kill)

    @property
    def pid(self) -> int | None:
        return self._pid

    def is_running(self) -> bool:
        return self.state in ("starting", "running", "stopping")

    def log_text(self) -> str:
        return "\n".join([*self._log, self._partial] if self._partial else self._log)

    def start(self) -> None:
        if self.is_running():
            return
        process = QProcess(self)
        process.setProgram(sys.executable)
        process.setArguments(["-m", self.module, str(self.project_path)])
        process.setProcessEnvironment(self._environment())
        # stdout and stderr in one stream: the log shows them in the order they happened.
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        process.readyReadStandardOutput.connect(self._read_output)
        process.started.connect(self._on_started)
        process.finished.connect(self._on_finished)
        process.errorOccurred.connect(self._on_error)
        self._process = process
        self._stop_requested = False
        self.exit_note = ""
        self._append(f"--- starting worker: {sys.executable} -m {self.module} {self.project_path}")
        self._set_state("starting")
        process.start()

    def _environment(self) -> QProcessEnvironment:
        env = QProcessEnvironment.systemEnvironment()
        # The worker must import this very copy of the app, installed or not.
        root = str(Path(workbench.__file__).resolve().parent.parent)
        paths = [root, *filter(None, [env.value("PYTHONPATH")])]
        env.insert("PYTHONPATH", os.pathsep.join(paths))
        env.insert("PYTHONUNBUFFERED", "1")
        return env

    def stop(self) -> None:
        """Ask the worker to finish (SIGTERM); kill it if it has not exited after a while."""
        if self._process is None or not self.is_running():
            return
        self._stop_requested = True
        self._set_state("stopping")
        self._process.terminate()
        self._kill_timer.start()

    def stop_and_wait(self, timeout_ms: int = STOP_TIMEOUT_MS) -> None:
        """For closing the app: nothing is left running after this returns."""
        if self._process is None or not self.is_running():
            return
        self.stop()
        if not self._process.waitForFinished(timeout_ms):
            self._kill()
            self._process.waitForFinished(2000)

    @Slot()
    def _kill(self) -> None:
        if self._process is not None and self._process.state() != QProcess.ProcessState.NotRunning:
            self._append("--- the worker did not stop in time; killing it")
            self._process.kill()

    @Slot()
    def _on_started(self) -> None:
        self._pid = self._process.processId()
        self._set_state("running")

    @Slot()
    def _read_output(self) -> None:
        data = bytes(self._process.readAllStandardOutput()).decode("utf-8", "replace")
        lines = (self._partial + data).split("\n")
        self._partial = lines.pop()
        for line in lines:
            # Progress bars redraw with carriage returns; keep what a terminal would show.
            self._append(_ANSI.sub("", line.rstrip("\r").rsplit("\r", 1)[-1]))

    def _append(self, line: str) -> None:
        self._log.append(line)
        self.logChanged.emit()

    @Slot(int, QProcess.ExitStatus)
    def _on_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._read_output()
        self._kill_timer.stop()
        if self._pid is not None:
            self.dead_pids.add(self._pid)
        crashed = status == QProcess.ExitStatus.CrashExit
        if self._stop_requested:
            self._append("--- worker stopped")
            self._set_state("stopped")
            return
        if not crashed and code == 0:
            self._append("--- worker exited")
            self._set_state("stopped")
            return
        # On a crash Qt reports the terminating signal as the exit code.
        self.exit_note = f"killed by {_signal_name(code)}" if crashed else f"exit code {code}"
        self._append(f"--- worker died: {self.exit_note}")
        self._set_state("crashed")
        self.died.emit(self._death_message())

    @Slot(QProcess.ProcessError)
    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error != QProcess.ProcessError.FailedToStart:
            return  # crashes arrive through finished() as well
        self.exit_note = "failed to start"
        self._append(f"--- the worker failed to start: {self._process.errorString()}")
        self._set_state("crashed")
        self.died.emit(f"The engine worker could not be started ({self._process.errorString()}).")

    def _death_message(self) -> str:
        last = [line for line in self._log if line.strip() and not line.startswith("---")]
        tail = last[-1] if last else "no output"
        return f"The engine worker stopped unexpectedly ({self.exit_note}). Last output: {tail}"

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.stateChanged.emit(state)
