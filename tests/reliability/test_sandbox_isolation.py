"""Nothing on the host is reachable from a sandbox child: no Unix socket (a listener in
the host's /tmp, in another world-writable folder, or abstract), and its writable space
is a size-limited tmpfs, so filling it costs the host nothing and fails that check only."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import uuid
from pathlib import Path

import pytest

from engine.sandbox import Limits, run_python, run_unit_tests
from engine.sandbox.limits import DEFAULT_LIMITS
from engine.sandbox.process import run


def _private_root() -> bool:
    """Whether this platform gives the child its own root (mount and network namespaces)."""
    raw = run("main.py", mode="script", limits=DEFAULT_LIMITS, files={"main.py": "pass\n"})
    fs = raw.status.get("isolation", {}).get("fs")
    return isinstance(fs, dict) and fs.get("root") == "private"


pytestmark = pytest.mark.skipif(
    not _private_root(),
    reason="this platform refuses mount and network namespaces (the sandbox falls back "
    "to weaker isolation; see engine/sandbox/README.md)",
)

CONNECT = (
    "import socket, sys\n"
    "for target in {targets!r}:\n"
    "    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
    "    try:\n"
    "        s.connect(target)\n"
    "        s.sendall(b'pwned')\n"
    "        print('CONNECTED', target)\n"
    "    except OSError as exc:\n"
    "        print('REFUSED:', repr(target), exc, file=sys.stderr)\n"
)


def _world_writable_dirs() -> list[Path]:
    """The host's /tmp and another world-writable folder outside it (/run, /var/tmp or
    /dev/shm, whichever exists)."""
    dirs = [Path(tempfile.mkdtemp(prefix="aw-sock-", dir="/tmp"))]
    for parent in ("/run", "/var/tmp", "/dev/shm"):
        if os.path.isdir(parent) and os.access(parent, os.W_OK):
            dirs.append(Path(tempfile.mkdtemp(prefix="aw-sock-", dir=parent)))
            break
    for d in dirs:
        d.chmod(0o1777)
    return dirs


def test_no_host_unix_socket_can_be_connected():
    dirs = _world_writable_dirs()
    assert len(dirs) == 2, "no second world-writable folder to listen in"
    listeners, targets = [], []
    try:
        for d in dirs:
            path = str(d / "listener.sock")
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            server.bind(path)
            os.chmod(path, 0o777)
            server.listen(8)
            server.setblocking(False)
            listeners.append(server)
            targets.append(path)
        abstract = "\0aw-abstract-" + uuid.uuid4().hex
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(abstract)
        server.listen(8)
        server.setblocking(False)
        listeners.append(server)
        targets.append(abstract)
        result = run_python(CONNECT.format(targets=targets))
        assert "CONNECTED" not in result.stdout, result.stdout
        assert result.stderr.count("REFUSED:") == len(targets), result.stderr
        for server in listeners:
            with pytest.raises(BlockingIOError):
                server.accept()  # nothing ever connected
    finally:
        for server in listeners:
            server.close()
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)


def _host_tmp_free() -> int:
    return shutil.disk_usage(tempfile.gettempdir()).free


FILL = (
    "import os\n"
    "written = 0\n"
    "for n, where in enumerate(('.', '/tmp', '/dev/shm', os.environ.get('HOME', '.'))):\n"
    "    for i in range(400):\n"
    "        try:\n"
    "            with open(os.path.join(where, f'fill{{n}}-{{i}}'), 'wb') as f:\n"
    "                f.write(b'x' * (1 << 20))\n"
    "            written += 1 << 20\n"
    "        except OSError:\n"
    "            break\n"
    "print('WRITTEN', written)\n"
    "{tail}"
)


def test_filling_the_writable_space_is_bounded_and_fails_that_check_only():
    limits = Limits(writable_bytes=16 * 2**20, wall_time_s=20)
    before = _host_tmp_free()
    result = run_python(FILL.format(tail=""), limits)
    written = int(result.stdout.split("WRITTEN", 1)[1].split()[0])
    assert written <= 16 * 2**20, written  # one tmpfs of 16 MiB for all of it
    assert before - _host_tmp_free() < 8 * 2**20  # the host's disk did not fill
    # the next check is unaffected: a fresh tmpfs
    ok = run_unit_tests("def add(a, b):\n    return a + b\n", "assert add(1, 2) == 3\n", limits)
    assert ok.passed, ok.reason


def test_private_tmp_run_and_shm_start_empty_and_the_host_is_not_visible():
    marker = Path(tempfile.gettempdir()) / f"aw-visible-{uuid.uuid4().hex}"
    marker.write_text("host")
    try:
        result = run_python(
            "import os\n"
            "for d in ('/tmp', '/run', '/var/run', '/dev/shm', '/var/tmp'):\n"
            "    try:\n"
            "        print(d, sorted(os.listdir(d)))\n"
            "    except OSError as exc:\n"
            "        print(d, 'absent', exc.errno)\n"
            f"print('MARKER', os.path.exists({str(marker)!r}))\n"
        )
        assert "MARKER False" in result.stdout, result.stdout
        assert "listener" not in result.stdout and "aw-sock" not in result.stdout
        for line in result.stdout.splitlines():
            if line.startswith(("/run ", "/var/run ", "/dev/shm ", "/var/tmp ")):
                assert line.endswith(("[]", "absent 2")), line
    finally:
        marker.unlink()
