"""The hostile corpus: each item runs through ``run_unit_tests`` against a trivial test,
must score passed=False, must leave the app intact, and is stopped by the mechanism
the README table names (asserted where it can be observed)."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

import pytest

from engine.sandbox import Limits, run_python
from engine.sandbox.identity import dropping_privileges
from engine.sandbox.limits import DEFAULT_LIMITS
from engine.sandbox.unit_tests import run_unit_tests_detailed

from .conftest import TRIVIAL_TEST

pytestmark = pytest.mark.usefixtures("app_unaffected")
REPO = Path(__file__).resolve().parents[3]
SHORT = Limits(wall_time_s=1.0)


def check(solution: str, limits: Limits = DEFAULT_LIMITS):
    outcome, raw, signed = run_unit_tests_detailed(solution, TRIVIAL_TEST, limits)
    assert outcome.passed is False, outcome
    return outcome, raw.result, signed


def test_infinite_loop_is_stopped_by_the_wall_clock():
    outcome, result, signed = check("while True:\n    pass\n", SHORT)
    assert result.timed_out and result.killed_by == "timeout" and not signed
    assert result.wall_time_s < 4
    assert "timed out" in outcome.reason


def test_infinite_loop_is_stopped_by_the_cpu_limit():
    outcome, result, signed = check("while True:\n    pass\n", Limits(wall_time_s=20, cpu_time_s=1))
    assert result.killed_by == "cpu" and not result.timed_out and not signed
    assert "CPU" in outcome.reason


def test_fork_bomb_hits_the_process_limit():
    outcome, result, signed = check(
        "import os\nwhile True:\n    os.fork()\n", Limits(wall_time_s=5)
    )
    assert signed and not result.timed_out  # contained quickly, the harness reported
    assert "BlockingIOError" in outcome.reason  # fork() refused by RLIMIT_NPROC


def test_fork_bomb_that_ignores_errors_and_leaves_the_group_is_killed():
    solution = (
        "import os\n"
        "while True:\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            os.setsid()\n"
        "    except OSError:\n"
        "        pass\n"
    )
    outcome, raw, signed = run_unit_tests_detailed(solution, TRIVIAL_TEST, SHORT)
    assert not outcome.passed and raw.result.timed_out and not signed
    assert raw.status["stopped"] and raw.status["reaped_all"]  # supervisor killed them all
    # app_unaffected then checks that no process of the sandbox uid outlived it


def test_memory_bomb_fails_under_the_address_space_limit():
    outcome, result, signed = check("x = bytearray(10 * 2**30)\n")
    assert signed and "MemoryError" in outcome.reason


def test_gigabyte_string_fails_under_the_address_space_limit():
    outcome, result, signed = check("print('x' * 10**9)\n")
    assert signed and "MemoryError" in outcome.reason


def test_endless_output_is_cut_off():
    outcome, result, signed = check("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n")
    assert result.killed_by == "output" and result.output_truncated and not signed
    assert len(result.stdout) <= Limits().output_bytes
    assert "output limit" in outcome.reason


def test_os_exit_before_the_tests_has_no_report():
    outcome, result, signed = check("import os\nos._exit(0)\n")
    assert result.exit_code == 0 and not signed
    assert "no harness report" in outcome.reason


def test_sys_exit_before_the_tests_is_reported_as_a_failure():
    outcome, result, signed = check("import sys\nsys.exit(0)\n")
    assert signed and "SystemExit" in outcome.reason


def test_killing_the_harness_earns_nothing():
    outcome, result, signed = check("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    assert result.killed_by == "SIGKILL" and not signed


def test_fake_reports_on_every_fd_are_ignored():
    solution = (
        "import os, sys\n"
        "def add(a, b):\n"
        "    return 0\n"
        "fake = '\\n' + '0' * 64 + ' 1 1 - -\\n'\n"
        "print('PASSED'); print(fake); print(fake, file=sys.stderr)\n"
        "stolen = []\n"
        "for fd in [int(n) for n in os.listdir('/proc/self/fd') if int(n) > 2]:\n"
        "    try:\n"
        "        stolen.append(os.read(fd, 100))\n"  # the secret fd is already closed
        "    except OSError:\n"
        "        pass\n"
        "    try:\n"
        "        os.write(fd, fake.encode())\n"
        "    except OSError:\n"
        "        pass\n"
        "print('stolen', stolen)\n"
        "sys.stdout.flush()\n"
        "os._exit(0)\n"
    )
    outcome, result, signed = check(solution)
    assert "PASSED" in result.stdout and not signed
    assert "stolen []" in result.stdout  # nothing readable on any inherited fd


def test_monkeypatching_the_harness_environment_does_not_help():
    solution = (
        "import builtins, json, sys\n"
        "def add(a, b):\n"
        "    return 0\n"
        "sys.exit = lambda *a: None\n"
        "builtins.assert_equal = lambda *a, **k: None\n"
        "builtins.AssertionError = type('Nothing', (Exception,), {})\n"
        "builtins.len = lambda x: 0\n"
        'json.dumps = lambda *a, **k: \'{"passed": 1, "total": 1}\'\n'
        "builtins.__import__ = None\n"
    )
    outcome, result, signed = check(solution)
    assert signed and outcome.tests_passed == 0 and "got 0" in outcome.reason


def test_a_forked_copy_of_the_harness_cannot_report():
    solution = (
        "import os\n"
        "CHILD = os.fork() == 0\n"
        "def add(a, b):\n"
        "    return a + b if CHILD else 0\n"  # only the fork would pass
    )
    outcome, result, signed = check(solution)
    assert signed and outcome.tests_passed == 0


def test_re_pointing_the_report_fd_is_refused():
    solution = (
        "import os, stat\n"
        "def add(a, b):\n"
        "    return a + b\n"
        "r, w = os.pipe()\n"
        # Every open fd: the report pipe's number depends on what the app had open.
        "for fd in [int(n) for n in os.listdir('/proc/self/fd') if int(n) > 2]:\n"
        "    try:\n"
        "        if stat.S_ISFIFO(os.fstat(fd).st_mode) and fd not in (r, w):\n"
        "            os.dup2(w, fd)\n"
        "    except OSError:\n"
        "        pass\n"
    )
    outcome, result, signed = check(solution)
    assert not signed and result.exit_code == 1


def test_the_parent_environment_is_not_inherited(monkeypatch):
    canary = "sk-canary-" + uuid.uuid4().hex
    monkeypatch.setenv("OPENAI_API_KEY", canary)
    monkeypatch.setenv("HF_TOKEN", canary)
    seen = run_python(
        "import os\n"
        "print(dict(os.environ))\n"
        f"for pid in ({os.getpid()}, os.getppid(), 1):\n"
        "    try:\n"
        "        print(open(f'/proc/{pid}/environ', 'rb').read())\n"
        "    except OSError as exc:\n"
        "        print(type(exc).__name__)\n"
    )
    assert seen.exit_code == 0
    assert canary not in seen.stdout and "OPENAI_API_KEY" not in seen.stdout
    solution = (
        "import os\n"
        "KEY = os.environ.get('OPENAI_API_KEY')\n"
        "def add(a, b):\n"
        "    return a + b if KEY else 0\n"  # passes only if the key leaked
    )
    outcome, result, signed = check(solution)
    assert signed and outcome.tests_passed == 0


def test_writing_outside_the_work_directory_fails(tmp_path):
    name = f"aw-hostile-{uuid.uuid4().hex}"
    targets = [Path("/tmp") / name, REPO / name, tmp_path / name, Path("/var/tmp") / name]
    solution = (
        "import sys\n"
        f"for path in {[str(t) for t in targets]!r}:\n"
        "    try:\n"
        "        open(path, 'w').write('pwned')\n"
        "        print('WROTE', path)\n"
        "    except OSError as exc:\n"
        "        print(path, exc, file=sys.stderr)\n"
        "open('inside.txt', 'w').write('fine')\n"  # its own directory is writable
        "raise SystemExit('no add defined')\n"
    )
    outcome, result, signed = check(solution)
    assert "WROTE" not in result.stdout
    assert "Read-only file system" in result.stderr or "Permission denied" in result.stderr
    for target in targets:
        assert not target.exists(), target


def test_network_connection_to_a_local_server_fails():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    port = server.getsockname()[1]
    try:
        solution = (
            "import socket, sys\n"
            "try:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'hi')\n"
            "    print('CONNECTED')\n"
            "except OSError as exc:\n"
            "    print(exc, file=sys.stderr)\n"
            "def add(a, b):\n"
            "    return 0\n"
        )
        outcome, result, signed = check(solution)
        assert "CONNECTED" not in result.stdout
        assert "unreachable" in result.stderr or "refused" in result.stderr.lower()
        with pytest.raises(BlockingIOError):
            server.accept()  # nothing ever connected
    finally:
        server.close()


@pytest.mark.skipif(not dropping_privileges(), reason="root mode only")
def test_the_child_runs_unprivileged():
    result = run_python("import os\nprint(os.getuid(), os.getgid(), os.getgroups())\n")
    uid, gid, groups = result.stdout.split(maxsplit=2)
    assert int(uid) != 0 and int(gid) != 0 and groups.strip() == "[]"
