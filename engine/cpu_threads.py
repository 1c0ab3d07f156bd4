"""CPU threads for training and generation that degrade gracefully under other load.

OpenMP's default wait policy spins a waiting thread for a while before it sleeps. When
another process keeps a core busy (the window, a browser, a second worker), torch's
threads spin against it at every parallel region and a step can take 20 times longer.
A passive wait policy makes waiting threads sleep at once, so other load costs about
its share of the machine instead. libgomp reads the policy once, when torch loads it,
so it must be in the environment before the first `import torch`: `engine/__init__.py`
sets it, and a value the user set is kept. WORKBENCH_THREADS (or
`configure_cpu_threads`) overrides the thread count.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

WAIT_POLICY_ENV = "OMP_WAIT_POLICY"
THREADS_ENV = "WORKBENCH_THREADS"
NUM_THREADS_ENV = "OMP_NUM_THREADS"


def _parse_threads(text: str) -> int:
    try:
        threads = int(text)
    except ValueError:
        raise ValueError(f"{THREADS_ENV} must be a whole number of threads, got {text!r}") from None
    if threads < 1:
        raise ValueError(f"{THREADS_ENV} must be at least 1, got {threads}")
    return threads


def prepare_openmp_environment(environ: MutableMapping[str, str] | None = None) -> None:
    """Ask OpenMP to sleep rather than spin while it waits, unless the user chose; and
    pass WORKBENCH_THREADS on as OMP_NUM_THREADS, which torch reads when it loads (so no
    command has to import torch just to set its threads)."""
    target = os.environ if environ is None else environ
    target.setdefault(WAIT_POLICY_ENV, "PASSIVE")
    threads = target.get(THREADS_ENV, "").strip()
    if threads and NUM_THREADS_ENV not in target:
        target[NUM_THREADS_ENV] = str(_parse_threads(threads))


def available_cores() -> int:
    """Cores this process may run on (the affinity mask, not the whole machine)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def resolve_threads(requested: int | None, share: int = 1) -> int:
    """The thread count to use: `requested` when given (or WORKBENCH_THREADS), else the
    available cores divided among `share` processes that work at the same time."""
    if requested is None:
        from_env = os.environ.get(THREADS_ENV, "").strip()
        requested = _parse_threads(from_env) if from_env else None
    if requested is not None:
        if requested < 1:
            raise ValueError(f"CPU threads must be at least 1, got {requested}")
        return requested
    return max(1, available_cores() // max(1, share))


def configure_cpu_threads(requested: int | None = None, share: int = 1) -> int:
    """Set torch's intra-op threads; returns the number set."""
    import torch

    threads = resolve_threads(requested, share)
    torch.set_num_threads(threads)
    return threads
