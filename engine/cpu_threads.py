"""CPU threads for training and generation that degrade gracefully under other load.

OpenMP's default wait policy spins a waiting thread for a while before it sleeps. When
another process keeps a core busy (the window, a browser, a second worker), torch's
threads spin against it at every parallel region and a step can take 20 times longer.
A passive wait policy makes waiting threads sleep at once, so other load costs about
its share of the machine instead. libgomp reads the policy once, when torch loads it,
so it must be in the environment before the first `import torch`: `engine/__init__.py`
sets it, and a value the user set is kept. The thread count is the cores left free by
other load at start (``free_cores``): under load, a thread that shares a core stalls the
others at every barrier, so the count matters as much as the wait. Each job on the CPU
sets it for its model (``apply_job_threads``): one thread for a small model, else the
count chosen at start. WORKBENCH_THREADS overrides it, and so does an
OMP_NUM_THREADS of the user's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping

WAIT_POLICY_ENV = "OMP_WAIT_POLICY"
THREADS_ENV = "WORKBENCH_THREADS"
NUM_THREADS_ENV = "OMP_NUM_THREADS"
# Any of these set by the user means they chose how OpenMP waits (libgomp's spin count,
# Intel OpenMP's block time): the engine then sets nothing.
USER_WAIT_ENVS = (WAIT_POLICY_ENV, "GOMP_SPINCOUNT", "KMP_BLOCKTIME")
# The OMP_NUM_THREADS the engine chose from the free cores (so a child process re-measures).
AUTO_MARK_ENV = "WORKBENCH_AUTO_THREADS"


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
    if not any(name in target for name in USER_WAIT_ENVS):  # the user's choice is kept
        target[WAIT_POLICY_ENV] = "PASSIVE"
    threads = target.get(THREADS_ENV, "").strip()
    if threads and NUM_THREADS_ENV not in target:
        target[NUM_THREADS_ENV] = str(_parse_threads(threads))
    elif not threads and target.get(NUM_THREADS_ENV) in (None, target.get(AUTO_MARK_ENV)):
        # Not the user's: chosen here, or by the process this one was started from (the
        # window, the CLI), whose measure of the load is stale by now.
        target[NUM_THREADS_ENV] = target[AUTO_MARK_ENV] = str(free_cores())


def free_cores() -> int:
    """The cores other work leaves free, by the 1-minute load average: torch's threads
    meet at a barrier after every operation, so a thread that shares its core with other
    work stalls all of them for a scheduler time slice (passive waiting avoids the spin,
    not the stall), and fewer threads than cores beat more."""
    cores = available_cores()
    try:
        others = os.getloadavg()[0]
    except (AttributeError, OSError):  # not Unix
        return cores
    return max(1, min(cores, round(cores - others)))


def available_cores() -> int:
    """Cores this process may run on (the affinity mask, not the whole machine)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


# Below this many parameters a model's operations are too small to split: waking a
# second thread for each costs more than it saves. Measured with
# tests/benchmarks/bench_dpo.py (30 DPO steps, 1 against 2 threads, quiet 2-core machine):
# the 0.8 M-parameter demo model 2.7 s against 4.5-5.0 s, a 5.1 M one 10.2 s against
# 10.7-11.8 s, a 15.4 M one 22.4 s against 20.0 s.
ONE_THREAD_BELOW_PARAMETERS = 10_000_000


def user_chose_threads(environ: Mapping[str, str] | None = None) -> bool:
    """WORKBENCH_THREADS, or an OMP_NUM_THREADS the engine did not choose itself."""
    env = os.environ if environ is None else environ
    if env.get(THREADS_ENV, "").strip():
        return True
    chosen = env.get(NUM_THREADS_ENV)
    return chosen is not None and chosen != env.get(AUTO_MARK_ENV)


def _job_choice(num_parameters: int, env: Mapping[str, str]) -> tuple[int | None, str]:
    """(threads, why) for a CPU job on a model of ``num_parameters``; None threads when
    the user set the count."""
    if user_chose_threads(env):
        return None, "set by WORKBENCH_THREADS or OMP_NUM_THREADS"
    if num_parameters < ONE_THREAD_BELOW_PARAMETERS:
        millions = ONE_THREAD_BELOW_PARAMETERS // 1_000_000
        return 1, f"a model under {millions} M parameters runs fastest on one"
    chosen = env.get(AUTO_MARK_ENV, "")
    count = int(chosen) if chosen.isdigit() and int(chosen) > 0 else free_cores()
    return count, "the cores free when the worker started"


def job_threads(num_parameters: int, environ: Mapping[str, str] | None = None) -> int | None:
    """Threads for a CPU job on a model of ``num_parameters``: one for a small model,
    else the count chosen when the process started (a load measured inside a worker
    would count the worker's own last job); None when the user set the count, which
    stays as it is."""
    return _job_choice(num_parameters, os.environ if environ is None else environ)[0]


def apply_job_threads(num_parameters: int) -> str:
    """Set torch's intra-op threads for a CPU job (``job_threads``); returns what the
    run's log says of them (``job_threads_note``)."""
    import torch

    threads, why = _job_choice(num_parameters, os.environ)
    if threads is not None and threads != torch.get_num_threads():
        torch.set_num_threads(threads)
    return _note(threads, why)


def job_threads_note(num_parameters: int) -> str:
    """What a run's log says of its CPU threads: how many, and why that many."""
    return _note(*_job_choice(num_parameters, os.environ))


def _note(threads: int | None, why: str) -> str:
    import torch

    how_to_set = "" if threads is None else "; WORKBENCH_THREADS=N sets it"
    return f"CPU threads: {torch.get_num_threads()} ({why}{how_to_set})"
