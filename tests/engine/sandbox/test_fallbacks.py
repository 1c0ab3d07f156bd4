"""The weaker modes the runner falls back to when the platform refuses namespaces,
simulated by a wrapper around the real runner that makes those calls fail."""

from __future__ import annotations

import pytest

from engine.sandbox import Limits, process, run_unit_tests
from engine.sandbox.identity import dropping_privileges
from engine.sandbox.process import run

WRAPPER = """
import importlib.util

spec = importlib.util.spec_from_file_location("runner", {runner!r})
runner = importlib.util.module_from_spec(spec)
spec.loader.exec_module(runner)


def refuse(*args):
    raise OSError(1, "simulated refusal")


if {mode!r} == "no-namespaces":
    runner._unshare = refuse
elif {mode!r} == "mounts-fail":
    real_mount = runner._mount

    def mount(source, target, fstype, flags, data=None):
        if fstype == "tmpfs" and target != "/tmp":  # /tmp is already hidden by then
            refuse()
        return real_mount(source, target, fstype, flags, data)

    runner._mount = mount
elif {mode!r} == "no-pivot-root":
    runner.SYS_PIVOT_ROOT = None
runner.main()
"""

PROBE = (
    "import os, json, collections\n"
    "try:\n"
    "    import socket\n"
    "    print('socket importable')\n"
    "except ImportError as exc:\n"
    "    print('socket refused' if 'halted' in str(exc) else 'socket unreadable')\n"
    "print('host /tmp' if len(os.listdir('/tmp')) > 1 else 'private /tmp')\n"
)


@pytest.fixture
def wrapped_runner(tmp_path, monkeypatch):
    def use(mode: str):
        wrapper = tmp_path / f"runner_{mode}.py"
        wrapper.write_text(WRAPPER.format(runner=str(process.RUNNER), mode=mode))
        monkeypatch.setattr(process, "RUNNER", wrapper)

    return use


def test_without_namespaces_sockets_are_refused_in_python(wrapped_runner):
    wrapped_runner("no-namespaces")
    raw = run("main.py", mode="script", limits=Limits(), files={"main.py": PROBE})
    assert raw.status["isolation"]["net"] == "none" and raw.status["isolation"]["fs"] == "none"
    assert raw.result.exit_code == 0, raw.result.stderr
    assert raw.result.stdout.splitlines() == ["socket refused", "host /tmp"]
    # the harness still works (its modules are among those imported before the drop)
    assert run_unit_tests("def add(a, b):\n    return a + b\n", "assert add(1, 2) == 3\n").passed
    assert not run_unit_tests("import os\nos._exit(0)\n", "assert add(1, 2) == 3\n").passed


@pytest.mark.skipif(not dropping_privileges(), reason="root mode: setns back to the host view")
def test_a_failed_file_system_setup_goes_back_to_the_host_view(wrapped_runner):
    wrapped_runner("mounts-fail")
    raw = run("main.py", mode="script", limits=Limits(), files={"main.py": PROBE})
    isolation = raw.status["isolation"]
    assert isolation["fs"] == "none" and "simulated refusal" in " ".join(isolation["errors"])
    assert isolation["net"] == "netns"
    assert raw.result.exit_code == 0, raw.result.stderr
    # the host's /tmp is visible again (and, as root, the sandbox uid cannot read the
    # Python installation under /root, so only the pre-imported modules are there)
    assert raw.result.stdout.splitlines()[1] == "host /tmp"


def test_without_pivot_root_the_masked_view_is_used(wrapped_runner):
    wrapped_runner("no-pivot-root")
    raw = run("main.py", mode="script", limits=Limits(), files={"main.py": PROBE})
    isolation = raw.status["isolation"]
    assert "private root refused" in " ".join(isolation["errors"])
    assert "/run" in isolation["fs"]["hidden"] and isolation["net"] == "netns"
    assert raw.result.stdout.splitlines() == ["socket importable", "private /tmp"]
    assert run_unit_tests("def add(a, b):\n    return a + b\n", "assert add(1, 2) == 3\n").passed
