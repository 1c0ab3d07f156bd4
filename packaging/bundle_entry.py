"""The entry point of a PyInstaller bundle (packaging/README.md, "A standalone bundle").

In a bundle, ``sys.executable`` is the bundle itself, so the window's
``<python> -m workbench.jobs.worker PROJECT`` and a launcher's ``<python> -m
workbench.cli`` both arrive here; the ``-m`` argument says which one to run.
"""

from __future__ import annotations

import sys


def main() -> int:
    args = sys.argv[1:]
    if len(args) >= 2 and args[0] == "-m":
        module, rest = args[1], args[2:]
        if module == "workbench.jobs.worker":
            from workbench.jobs.worker import main as worker_main

            return worker_main(rest)
        if module == "workbench.cli":
            args = rest
    from workbench.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    raise SystemExit(main())
