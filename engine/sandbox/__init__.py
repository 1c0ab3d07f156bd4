"""Sandbox processes for untrusted code and for verifiers that can hang.

Public API::

    Limits, SandboxResult, SandboxError
    run_python(code, limits=Limits(), stdin="", files=None) -> SandboxResult
    TestOutcome
    run_unit_tests(solution_code, test_code, limits=Limits()) -> TestOutcome
    run_reward_function(source_path, function_name, items, limits=Limits())
        -> list[(score | None, reason)]
    math_equivalent(pairs, timeout_s=5.0) -> list[(bool | None, reason)]
    run_many(fn, arg_tuples, max_workers=None) -> list

Nothing here imports torch or the app's other packages, and every child starts as
``python -I -S -B`` on a small trusted runner (no site-packages unless a verifier needs
them; about 50 ms per child).

What each child gets (``process.py``, ``runner.py``)
----------------------------------------------------
* Its own session and process group, an empty environment (``PATH=/usr/bin:/bin``,
  ``HOME``/``TMPDIR`` = its work directory, a UTF-8 locale; nothing inherited: no API
  keys or tokens), a fresh private work directory as cwd (0700, removed afterwards),
  the given stdin, and stdout/stderr read incrementally and kept up to
  ``Limits.output_bytes`` each (a stream passing 4x that stops the child).
* rlimits: CPU, address space, file size, open files, processes, no core files; and
  no_new_privs (set-uid programs cannot raise privileges).
* **As root** (CI, this build machine, containers): the child drops to an unprivileged
  uid/gid of its own (one per concurrent child, from a flock'ed pool, see
  ``identity.py``) with no supplementary groups, because RLIMIT_NPROC does not bind
  root and root can read and write everything. The work directory is chowned to it.
  A fork bomb stops at ``Limits.processes`` processes of that uid; the app (root) is
  not counted and can still fork.
* No network: a new network namespace (``unshare(CLONE_NEWNET)``); connecting even to
  127.0.0.1 fails with "Network is unreachable".
* Its own root (mount namespace, ``pivot_root``): read-only binds of the system
  libraries and the Python installation, a few /etc files and devices, its own /proc;
  one size-limited tmpfs (``Limits.writable_bytes``, 64 MiB) of which only the work
  directory and /dev/shm are writable; /tmp, /run, /var/run and /var/tmp empty and
  read-only. Nothing else of the host exists there: no file, no Unix socket.
* A supervisor (the runner's first process, still root where the app is) that is the
  child subreaper of the whole tree: when the sandboxed process ends or the deadline
  passes, every descendant (including ones that called ``setsid`` to leave the
  process group) is SIGKILLed and reaped. If the supervisor itself does not answer,
  the app SIGKILLs the process group and every process of the sandbox uid.

Not isolated: there is no PID namespace, so the child can list other processes and
read their command lines in /proc (not their environment or memory: another uid).
Children are started with ``sys.executable``, which must be a real Python (a frozen
app would need a separate interpreter for them).

Weaker guarantees where the platform refuses a step (reported in the supervisor's
status record, ``RawRun.status["isolation"]``):

* Not root: the child keeps the app's uid. The runner then tries an unprivileged user
  namespace (network and mount isolation as above, capabilities dropped afterwards).
  RLIMIT_NPROC then counts the processes of that user namespace only. The sandboxed
  code can signal the supervisor (same uid), so reaping is best effort there.
* No network namespace at all: the socket modules are made unimportable inside the
  child. That only stops ordinary code: code that loads the C extension by hand or
  uses ctypes gets around it.
* No ``pivot_root``: the older view, tmpfs masks over /tmp, /var/tmp, /dev/shm, /run and
  the home with everything else read-only (host Unix sockets elsewhere stay reachable,
  the work directory is on the host's disk).
* No mount namespace: files are protected only by permissions (as root the sandbox
  uid owns nothing but its work directory, but world-writable places such as /tmp
  stay writable; not root: the user's own files are writable). If the sandbox uid
  cannot read the Python installation, common standard modules are imported before
  privileges are dropped and others fail to import.

Unit tests: the verdict is the app's (``assertion_plan/``, ``harness.py``, ``verdict.py``)
--------------------------------------------------------------------------------------
The app rewrites the (trusted) test so that every assertion reports the values of the
operands only the child can compute, as plain data, and keeps the literal operands
itself; it then compares them and accepts only the exact stream of checks its plan
predicts. Exiting early, killing the harness, patching it (frames, ``gc``,
``sys.modules``, built-ins), writing fake reports, or returning objects whose ``__eq__``
or ``__bool__`` lie earn nothing: a pass needs the right values. What remains is said
in README.md: expected values that the test itself computes at run time live in the
child and can be read by a solution written to look for them.
"""

from .limits import Limits, SandboxResult
from .math_check import math_equivalent
from .pool import run_many
from .process import SandboxError, run_python
from .reward_function import run_reward_function
from .unit_tests import TestOutcome, run_unit_tests

__all__ = [
    "Limits",
    "SandboxError",
    "SandboxResult",
    "TestOutcome",
    "math_equivalent",
    "run_many",
    "run_python",
    "run_reward_function",
    "run_unit_tests",
]
