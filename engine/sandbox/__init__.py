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
* Its own view of the files (mount namespace): /tmp, /var/tmp, /dev/shm and the app's
  home are empty tmpfs, the Python installation is bound back read-only, the work
  directory read-write, and every other mount is read-only. Writing to the repository
  or to /tmp fails with EROFS/EACCES.
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
* No mount namespace: files are protected only by permissions (as root the sandbox
  uid owns nothing but its work directory, but world-writable places such as /tmp
  stay writable; not root: the user's own files are writable). If the sandbox uid
  cannot read the Python installation, common standard modules are imported before
  privileges are dropped and others fail to import.

Unit tests and the per-check secret (``unit_tests.py``, ``harness.py``)
-----------------------------------------------------------------------
``run_unit_tests`` counts a pass only when the trusted harness writes a report line
carrying a fresh 256-bit secret that it read from an inherited pipe and closed before
any untrusted code ran. So ``exit(0)``/``sys.exit(0)``/``os._exit(0)`` before the
tests, printing "PASSED", writing fake report lines to stdout, stderr or any fd,
killing the harness, crashing it, or forking a copy of it all earn nothing. The
harness also refuses to report from a forked copy or through a re-pointed report fd,
calls no library code the solution could have monkeypatched after the solution ran,
gives the tests a private copy of the built-ins, and hardens ``assert a == b`` and
provides ``assert_equal(actual, expected)`` (identical types all the way down) so
objects whose ``__eq__`` always returns True do not pass.

What the secret does NOT defend against: the solution runs in the same interpreter as
the harness, so code written to attack this harness can, with effort, walk the
interpreter's frames or the garbage collector (``sys._getframe``, ``gc``) to read the
secret or call the reporter, or patch the harness's own functions. The secret raises
the bar from "print PASSED" to deliberate introspection; the security boundary is the
process isolation above (no secrets in the child, no network, no writes outside its
directory, hard limits), which holds whatever the code does inside the interpreter.
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
