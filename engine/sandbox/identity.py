"""Which user a sandbox child runs as.

RLIMIT_NPROC does not bind root, and root can read and write everything; so when the
app runs as root (CI, build machines, containers) every sandbox child drops to an
unprivileged uid/gid of its own. Each concurrent child gets a *different* uid from a
small pool (a "slot"), so the process limit counts that child's processes only, one
sandbox cannot signal or ptrace another, and whatever a slot's uid still runs after a
check can be killed without touching anything else. Slots are claimed with ``flock``
on files in a root-only directory, so several app processes on one machine never
share a uid at the same time; a lock dies with its process.

When the app is not root the child keeps the app's uid (it cannot change it); the
runner then isolates it in a user namespace instead (see ``runner.py``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass

SLOTS = 64
PREFERRED_BASE = 1_700_000_000  # far above any real account (needs a full uid map)
FALLBACK_BASE = 50_000  # for containers whose user namespace maps only 0..65535

_lock = threading.Lock()
_held: set[int] = set()
# Processes of a slot uid found still alive when the slot was released (the runner's
# supervisor should have killed them all; these were caught by the back-stop).
leftovers_killed = 0


@dataclass(frozen=True)
class Identity:
    uid: int
    gid: int
    slot: int


def dropping_privileges() -> bool:
    return os.geteuid() == 0


def _mapped(first: int, count: int) -> bool:
    try:
        with open("/proc/self/uid_map") as f:
            ranges = [tuple(map(int, line.split())) for line in f if line.strip()]
    except OSError:
        return True
    return any(inside <= first and first + count <= inside + n for inside, _, n in ranges)


def uid_base() -> int:
    return PREFERRED_BASE if _mapped(PREFERRED_BASE, SLOTS) else FALLBACK_BASE


def _lock_dir() -> str:
    path = os.path.join(tempfile.gettempdir(), f"alignment-workbench-sandbox-{os.geteuid()}")
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
        raise RuntimeError(f"sandbox lock directory {path} is not private; remove it")
    return path


@contextlib.contextmanager
def sandbox_identity() -> Iterator[Identity | None]:
    """Claim a free uid slot for one child (None when not running as root)."""
    if not dropping_privileges():
        yield None
        return
    base, folder = uid_base(), _lock_dir()
    start = (os.getpid() * 7) % SLOTS
    while True:
        for i in range(SLOTS):
            slot = (start + i) % SLOTS
            with _lock:
                if slot in _held:
                    continue
                _held.add(slot)
            fd = os.open(os.path.join(folder, f"slot-{slot}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                with _lock:
                    _held.discard(slot)
                continue
            try:
                kill_uid(base + slot)  # leftovers of a crashed app, if any
                yield Identity(base + slot, base + slot, slot)
            finally:
                left = processes_of(base + slot)
                if left:
                    global leftovers_killed
                    with _lock:
                        leftovers_killed += len(left)
                    kill_uid(base + slot)
                os.close(fd)  # releases the flock
                with _lock:
                    _held.discard(slot)
            return
        # Every slot busy (SLOTS concurrent sandboxes on this machine): wait for one.
        fd = os.open(os.path.join(folder, f"slot-{start}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.close(fd)


def processes_of(uid: int) -> list[int]:
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid != uid:
                    continue
                with open(f"/proc/{name}/stat", "rb") as f:
                    data = f.read()
            except OSError:
                continue
            if data[data.rindex(b")") + 2 :][:1] not in (b"Z", b"X"):  # zombies hold nothing
                pids.append(int(name))
    return pids


def kill_uid(uid: int, rounds: int = 50) -> bool:
    """SIGKILL every process running as ``uid`` (a slot uid is ours alone). Normally the
    runner's supervisor has already done so; this is the back-stop."""
    for _ in range(rounds):
        pids = processes_of(uid)
        if not pids:
            return True
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, 9)
    return not processes_of(uid)
