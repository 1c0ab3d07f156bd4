from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from engine.sandbox import Limits, run_python
from engine.sandbox.process import run


def test_stdout_stderr_exit_code_and_stdin():
    result = run_python(
        "import sys\ndata = sys.stdin.read()\nprint(len(data))\nprint('err', file=sys.stderr)\n"
        "sys.exit(3)\n",
        stdin="y" * 300_000,
    )
    assert (result.exit_code, result.stdout, result.stderr) == (3, "300000\n", "err\n")
    assert not result.timed_out and result.killed_by is None and not result.output_truncated


def test_files_are_written_next_to_the_code_and_removed_afterwards():
    result = run_python(
        "import helper, os\nprint(helper.VALUE, os.getcwd())\n", files={"helper.py": "VALUE = 42\n"}
    )
    value, cwd = result.stdout.split()
    assert value == "42" and cwd.startswith(tempfile.gettempdir())
    assert not os.path.exists(cwd)


def test_environment_is_minimal():
    result = run_python("import os, sys\nprint(sorted(os.environ))\nprint(sys.flags.isolated)\n")
    names = eval(result.stdout.splitlines()[0])
    assert set(names) <= {
        "PATH",
        "HOME",
        "TMPDIR",
        "LANG",
        "LC_ALL",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONHASHSEED",
    }
    assert result.stdout.splitlines()[1] == "1"


def test_no_site_packages_and_no_app_imports():
    result = run_python("import engine\n")
    assert result.exit_code == 1 and "ModuleNotFoundError" in result.stderr


def test_traceback_shows_the_users_code_only():
    result = run_python("def f():\n    raise KeyError('k')\nf()\n")
    assert result.exit_code == 1
    assert "main.py" in result.stderr and "runner.py" not in result.stderr


def test_file_size_limit():
    result = run_python(
        "open('big', 'wb').write(b'x' * 2**21)\n", limits=Limits(file_size_bytes=2**20)
    )
    assert result.killed_by == "file_size"


def test_signal_death_is_named():
    result = run_python("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    assert (result.exit_code, result.killed_by) == (-11, "SIGSEGV")


def test_output_is_capped_without_killing_a_moderate_writer():
    result = run_python("print('x' * 100_000)\n", limits=Limits(output_bytes=30_000))
    assert result.exit_code == 0 and result.output_truncated and len(result.stdout) == 30_000


def test_network_can_be_allowed():
    code = "import socket\ns = socket.socket()\ns.bind(('127.0.0.1', 0))\nprint('bound')\n"
    assert run_python(code, limits=Limits(network=True)).stdout == "bound\n"


def test_isolation_obtained_is_reported():
    raw = run("main.py", mode="script", limits=Limits(), files={"main.py": "pass\n"})
    assert raw.status["isolation"]["net"] in ("netns", "none")
    assert raw.status["reaped_all"] is True


def test_sandbox_package_does_not_import_torch_or_the_app():
    code = (
        "import sys, engine.sandbox\n"
        "bad = [m for m in ('torch', 'transformers', 'PySide6', 'workbench', 'ui', 'math_verify')"
        " if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
