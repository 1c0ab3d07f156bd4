"""Spawn one sandboxed child, feed it, read it (capped), stop it, clean up.

Every child is ``python -I -S -B -X utf8 runner.py CONFIG`` started with
``subprocess.Popen(start_new_session=True, close_fds=True)``, an empty environment
and a fresh 0700 work directory; ``runner.py`` (trusted) isolates it, applies the
limits, drops privileges and supervises it (see there). No ``preexec_fn`` is used, so
spawning is safe from many threads at once.

Here, in the app: stdin is written and stdout/stderr are read incrementally from one
``select`` loop; each stream keeps at most ``Limits.output_bytes`` and a stream that
passes four times that stops the child ("output"). On the wall-clock deadline (or an
output flood, or a stalled progress stream) the supervisor gets SIGTERM and kills and
reaps the whole tree; if it does not exit within two seconds the app SIGKILLs the
process group and every process of the sandbox uid (back-stop).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .identity import kill_uid, sandbox_identity
from .limits import DEFAULT_LIMITS, Limits, SandboxResult

RUNNER = Path(__file__).with_name("runner.py")
HARNESS = Path(__file__).with_name("harness.py")
PYTHON_FLAGS = ["-I", "-S", "-B", "-X", "utf8"]
STOP_GRACE_S = 2.0
DRAIN_GRACE_S = 1.0
REPORT_CAP = 4 * 2**20
STATUS_CAP = 64 * 2**10


class SandboxError(RuntimeError):
    """The sandbox itself could not be set up (an environment problem, not the code's)."""


@dataclass
class RawRun:
    result: SandboxResult
    report: bytes = b""
    status: dict = field(default_factory=dict)


# At most cpu_count sandbox children at once in this process, whoever asks.
MAX_CHILDREN = max(1, os.cpu_count() or 1)
_children = threading.BoundedSemaphore(MAX_CHILDREN)
_count_lock = threading.Lock()
_running = 0
_peak = 0


def concurrency() -> tuple[int, int]:
    """(children running now, most ever running at once) in this process."""
    with _count_lock:
        return _running, _peak


def reset_peak() -> None:
    global _peak
    with _count_lock:
        _peak = _running


def verifier_sys_path() -> list[str]:
    """The app's site-packages folders, for children that need an installed library
    (math-verify, a user's reward function); ``-S`` leaves them off by default."""
    dirs = [p for p in sys.path if p.rstrip("/").endswith(("site-packages", "dist-packages"))]
    return [p for p in dict.fromkeys(dirs) if os.path.isdir(p)]


def child_env(workdir: str) -> dict[str, str]:
    """Nothing inherited: no API keys, tokens or proxies reach the child."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": workdir,
        "TMPDIR": workdir,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",  # -I ignores PYTHON* variables; -B does this
        "PYTHONHASHSEED": "0",
    }


def _write_files(workdir: Path, files: dict[str, str | bytes]) -> list[Path]:
    written: list[Path] = []
    for name, content in files.items():
        rel = Path(name)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise ValueError(f"sandbox file names must be relative and stay inside: {name!r}")
        path = workdir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        written.extend(p for p in [path, *path.parents] if p != workdir and workdir in p.parents)
    return written


def _filled_pipe(data: bytes, opened: list[int]) -> int:
    """A pipe's read end already holding all of ``data`` (grown to fit; at most the
    system's pipe-max-size, 1 MiB by default)."""
    r, w = os.pipe()
    opened += [r, w]
    if len(data) > 60000:
        fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, len(data) + 4096)
    view = memoryview(data)
    os.set_blocking(w, False)
    while view:
        view = view[os.write(w, view) :]  # BlockingIOError: larger than the pipe could grow
    os.close(w)
    opened.remove(w)
    return r


def _remove(workdir: str) -> None:
    def retry(func, path, _exc):
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(path), 0o700)
            os.chmod(path, 0o700)
            func(path)

    shutil.rmtree(workdir, onerror=retry)


def _killed_by(code: int | None, status: dict, stderr: bytes, limits: Limits) -> str | None:
    if code is None or code == 0:
        return None
    if code < 0:
        sig = -code
        if sig == signal.SIGXCPU:
            return "cpu"
        if sig == signal.SIGXFSZ:
            return "file_size"
        used = status.get("utime", 0.0) + status.get("stime", 0.0)
        if sig == signal.SIGKILL and used >= limits.cpu_time_s - 0.05:
            return "cpu"
        try:
            return signal.Signals(sig).name
        except ValueError:
            return f"signal {sig}"
    tail = stderr[-4096:]
    if b"MemoryError" in tail:
        return "memory"
    if b"File too large" in tail:
        return "file_size"
    return None


class _Stream:
    def __init__(self, fd: int, cap: int, flood: int | None):
        self.fd, self.cap, self.flood = fd, cap, flood
        self.data = bytearray()
        self.total = 0
        self.last = time.monotonic()
        os.set_blocking(fd, False)

    def read(self) -> bool:
        """Read what is there; False at end of file."""
        try:
            chunk = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return True
        if not chunk:
            return False
        self.total += len(chunk)
        self.last = time.monotonic()
        room = self.cap - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        return True

    @property
    def flooded(self) -> bool:
        return self.flood is not None and self.total > self.flood


def run(
    target: Path | str,
    *,
    mode: str,
    limits: Limits,
    stdin: bytes = b"",
    files: dict[str, str | bytes] | None = None,
    args: dict | None = None,
    program: bytes | None = None,
    want_report: bool = False,
    sys_path: list[str] | None = None,
    stall_timeout_s: float | None = None,
    first_stall_timeout_s: float | None = None,
) -> RawRun:
    """Run ``target`` in a sandbox child.

    ``mode`` "script": the file runs as ``__main__`` (``target`` may name a file in
    ``files``, relative to the work directory). ``mode`` "entry": a trusted script whose
    ``main(args)`` is called; ``args`` gets ``report_fd`` (a pipe back to the app,
    returned as ``RawRun.report``) and ``program_fd`` (a pipe holding ``program``, which
    the entry script reads and closes before any untrusted code runs).
    ``stall_timeout_s``: stop the child when the report pipe has been silent that long
    (``first_stall_timeout_s`` for the first bytes); the wall clock still applies."""
    with _children:
        global _running, _peak
        with _count_lock:
            _running += 1
            _peak = max(_peak, _running)
        try:
            return _run(
                target,
                mode,
                limits,
                stdin,
                files or {},
                dict(args or {}),
                program,
                want_report,
                sys_path or [],
                stall_timeout_s,
                first_stall_timeout_s,
            )
        finally:
            with _count_lock:
                _running -= 1


def _run(
    target,
    mode,
    limits,
    stdin,
    files,
    args,
    program,
    want_report,
    sys_path,
    stall_timeout_s,
    first_stall_timeout_s,
) -> RawRun:
    workdir = tempfile.mkdtemp(prefix="aw-sandbox-")  # mode 0700
    opened: list[int] = []
    try:
        written = _write_files(Path(workdir), files)
        with sandbox_identity() as ident:
            if ident is not None:
                for path in [Path(workdir), *written]:
                    os.chown(path, ident.uid, ident.gid, follow_symlinks=False)
            status_r, status_w = os.pipe()
            opened += [status_r, status_w]
            pass_fds, child_fds = [status_w], []
            report_r = None
            if want_report:
                report_r, report_w = os.pipe()
                opened += [report_r, report_w]
                pass_fds.append(report_w)
                child_fds.append(report_w)
                args["report_fd"] = report_w
            if program is not None:
                program_r = _filled_pipe(program, opened)
                pass_fds.append(program_r)
                child_fds.append(program_r)
                args["program_fd"] = program_r
            target_path = str(target if os.path.isabs(target) else Path(workdir) / target)
            config = {
                "workdir": workdir,
                "uid": ident.uid if ident else None,
                "gid": ident.gid if ident else None,
                "limits": {
                    "cpu": max(1, int(limits.cpu_time_s)),
                    "memory": int(limits.memory_bytes),
                    "fsize": int(limits.file_size_bytes),
                    "nofile": int(limits.open_files),
                    "nproc": int(limits.processes),
                    "writable": max(1 << 20, int(limits.writable_bytes)),
                },
                "network": bool(limits.network),
                "status_fd": status_w,
                "child_fds": child_fds,
                "target": target_path,
                "mode": mode,
                "args": args,
                "sys_path": sys_path,
                "hide_dirs": [os.path.expanduser("~")],
            }
            argv = [sys.executable, *PYTHON_FLAGS, str(RUNNER), json.dumps(config)]
            started = time.monotonic()
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=workdir,
                env=child_env(workdir),
                start_new_session=True,
                close_fds=True,
                pass_fds=pass_fds,
            )
            for fd in pass_fds:
                os.close(fd)
                opened.remove(fd)
            try:
                return _collect(
                    proc,
                    ident,
                    started,
                    limits,
                    stdin,
                    status_r,
                    report_r,
                    stall_timeout_s,
                    first_stall_timeout_s,
                )
            finally:
                if proc.poll() is None:
                    _hard_kill(proc, ident)
                    proc.wait()
                for f in (proc.stdin, proc.stdout, proc.stderr):
                    if f is not None:  # all three are pipes (see Popen above)
                        with contextlib.suppress(OSError):
                            f.close()
    finally:
        for fd in opened:
            with contextlib.suppress(OSError):
                os.close(fd)
        _remove(workdir)


def _hard_kill(proc: subprocess.Popen, ident) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if ident is not None:
        kill_uid(ident.uid)


def _collect(
    proc, ident, started, limits, stdin, status_r, report_r, stall_timeout_s, first_stall_timeout_s
) -> RawRun:
    flood = 4 * limits.output_bytes
    out = _Stream(proc.stdout.fileno(), limits.output_bytes, flood)
    err = _Stream(proc.stderr.fileno(), limits.output_bytes, flood)
    status = _Stream(status_r, STATUS_CAP, None)
    report = _Stream(report_r, REPORT_CAP, REPORT_CAP) if report_r is not None else None
    sel = selectors.DefaultSelector()
    for stream in (out, err, status, report):
        if stream is not None:
            sel.register(stream.fd, selectors.EVENT_READ, stream)
    pending = memoryview(stdin)
    stdin_fd = proc.stdin.fileno()
    if pending:
        os.set_blocking(stdin_fd, False)
        sel.register(stdin_fd, selectors.EVENT_WRITE, "stdin")
    else:
        proc.stdin.close()
    try:
        pidfd = os.pidfd_open(proc.pid)
        sel.register(pidfd, selectors.EVENT_READ, "exit")
    except (AttributeError, OSError):
        pidfd = None

    deadline = started + limits.wall_time_s
    stop_reason = None
    hard_deadline = drain_deadline = None
    alive = True
    try:
        while True:
            now = time.monotonic()
            if alive and stop_reason is None:
                if now >= deadline:
                    stop_reason = "timeout"
                elif out.flooded or err.flooded or (report is not None and report.flooded):
                    stop_reason = "output"
                elif report is not None and stall_timeout_s is not None:
                    window = (
                        stall_timeout_s
                        if report.total
                        else (first_stall_timeout_s or stall_timeout_s)
                    )
                    if now - report.last >= window:
                        stop_reason = "stalled"
                if stop_reason is not None:
                    with contextlib.suppress(ProcessLookupError):
                        proc.send_signal(signal.SIGTERM)
                    hard_deadline = now + STOP_GRACE_S
            if alive and hard_deadline is not None and now >= hard_deadline:
                _hard_kill(proc, ident)
                hard_deadline = None
            if alive and proc.poll() is not None:
                alive = False
                drain_deadline = time.monotonic() + DRAIN_GRACE_S
                status.read()
                if not status.data:
                    _hard_kill(proc, ident)  # supervisor gone without its report
            open_streams = [k for k in sel.get_map().values() if isinstance(k.data, _Stream)]
            if (
                not alive
                and drain_deadline is not None  # set when alive turned False
                and (not open_streams or now >= drain_deadline)
            ):
                break
            waits = [
                t
                for t in (deadline if stop_reason is None else None, hard_deadline, drain_deadline)
                if t is not None
            ]
            if report is not None and stall_timeout_s is not None and stop_reason is None:
                waits.append(report.last + stall_timeout_s)
                if first_stall_timeout_s:
                    waits.append(report.last + first_stall_timeout_s)
            timeout = max(0.0, min(waits) - now) if waits else None
            if pidfd is None:
                timeout = 0.05 if timeout is None else min(timeout, 0.05)
            for key, _mask in sel.select(timeout):
                if key.data == "exit":
                    sel.unregister(key.fd)
                elif key.data == "stdin":
                    try:
                        n = os.write(stdin_fd, pending[: 1 << 16])
                        pending = pending[n:]
                    except BlockingIOError:
                        continue
                    except OSError:  # the child closed its stdin
                        pending = pending[:0]
                    if not pending:
                        sel.unregister(stdin_fd)
                        with contextlib.suppress(OSError):
                            proc.stdin.close()
                elif not key.data.read():
                    sel.unregister(key.fd)
    finally:
        sel.close()
        if pidfd is not None:
            os.close(pidfd)
    wall = time.monotonic() - started
    return _result(proc, limits, out, err, status, report, stop_reason, wall)


def _result(proc, limits, out, err, status, report, stop_reason, wall) -> RawRun:
    record: dict = {}
    for line in bytes(status.data).splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            break
    if "error" in record:
        raise SandboxError(record["error"])
    code = None
    if stop_reason is None and "wait_status" in record:
        code = os.waitstatus_to_exitcode(record["wait_status"])
    elif stop_reason is None and not record:
        code = proc.returncode  # the supervisor itself died (should not happen)
    killed_by = {"timeout": "timeout", "stalled": "timeout", "output": "output"}.get(
        stop_reason or ""
    ) or _killed_by(code, record, bytes(err.data), limits)
    result = SandboxResult(
        exit_code=code,
        stdout=bytes(out.data).decode("utf-8", "replace"),
        stderr=bytes(err.data).decode("utf-8", "replace"),
        timed_out=stop_reason in ("timeout", "stalled"),
        killed_by=killed_by,
        wall_time_s=wall,
        output_truncated=out.total > out.cap or err.total > err.cap,
    )
    return RawRun(result, bytes(report.data) if report is not None else b"", record)


def run_python(
    code: str, limits: Limits = DEFAULT_LIMITS, stdin: str = "", files: dict[str, str] | None = None
) -> SandboxResult:
    """Run untrusted Python ``code`` as ``__main__`` in a sandbox child (see the package
    docstring for what is isolated). ``files`` are written next to it first."""
    all_files: dict[str, str | bytes] = dict(files or {})
    name = "main.py"
    while name in all_files:
        name = "_" + name
    all_files[name] = code
    return run(
        name, mode="script", limits=limits, stdin=stdin.encode("utf-8"), files=all_files
    ).result
