"""The knobs of one sandboxed run and what came back from it (plain data, stdlib only)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Hard limits for one sandboxed child (and everything it forks)."""

    wall_time_s: float = 5.0  # whole-process wall clock; the process tree is killed after it
    cpu_time_s: int = 5  # RLIMIT_CPU (SIGXCPU at the soft limit, SIGKILL one second later)
    memory_bytes: int = 512 * 2**20  # RLIMIT_AS: allocations beyond it fail (MemoryError)
    file_size_bytes: int = 1 * 2**20  # RLIMIT_FSIZE: writes beyond it fail (EFBIG)
    open_files: int = 64  # RLIMIT_NOFILE
    processes: int = 16  # RLIMIT_NPROC, binding because the child runs under its own uid
    output_bytes: int = 64 * 2**10  # stdout and stderr are each kept up to this many bytes
    network: bool = False  # False: the child gets an empty network namespace
    # The child's whole writable space (/tmp, its work directory, /dev/shm) is one tmpfs
    # of this size: a check that fills it fails alone and the host's disk is untouched.
    writable_bytes: int = 64 * 2**20


DEFAULT_LIMITS = Limits()  # frozen, so one shared default is safe


@dataclass
class SandboxResult:
    """What one sandboxed run did.

    ``exit_code`` is the untrusted process's exit status (negative: killed by that
    signal), or None when the sandbox stopped it (timeout, output flood) or it could
    not be learnt. ``killed_by`` names what ended it early: "timeout", "cpu",
    "memory", "output", "file_size" or a signal name ("SIGSEGV"); None for a normal
    exit."""

    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool
    killed_by: str | None
    wall_time_s: float
    output_truncated: bool

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.killed_by is None
