import os

# Qt tests run without a display; set before anything imports Qt.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _share_the_cores_among_test_workers() -> None:
    """pytest-xdist runs one test process per core: each gets its share of the cores for
    torch (and the workers it starts), because processes whose thread counts add up to more
    than the machine's cores wait on each other at every parallel region. Set before torch
    loads; a value the caller chose is kept."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers <= 1:
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    share = str(max(1, (cores or 1) // workers))
    os.environ.setdefault("WORKBENCH_THREADS", share)
    os.environ.setdefault("OMP_NUM_THREADS", share)


_share_the_cores_among_test_workers()
