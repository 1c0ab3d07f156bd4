"""A stand-in for the engine worker in WorkerLink's tests: `python -m tests.ui.fake_worker
PROJECT`, behaving as FAKE_WORKER_MODE says (crash, sleep, stubborn)."""

import os
import signal
import sys
import time

mode = os.environ.get("FAKE_WORKER_MODE", "sleep")
print("fake worker loading", flush=True)
if mode == "crash":
    print("RuntimeError: CUDA out of memory", file=sys.stderr, flush=True)
    sys.exit(3)
if mode == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
while True:
    time.sleep(0.05)
