"""Printing for the command line: JSON on stdout for scripts, a progress bar on stderr."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tqdm import tqdm

    from workbench.data.prompt_io import ImportFailed


def emit_json(payload: dict) -> None:
    print(json.dumps(payload, indent=2, ensure_ascii=False))


def report_import_failure(exc: ImportFailed, as_json: bool) -> int:
    """An all-or-nothing import that wrote nothing: each bad line once (its message
    already starts with "line N:"); a file-level error has no line (null in JSON)."""
    if as_json:
        errors = [{"line": e.line or None, "message": e.message} for e in exc.errors]
        emit_json({"ok": False, "imported": 0, "errors": errors})
    print(f"error: {exc}", file=sys.stderr)
    return 1


def add_max_chars_option(p) -> None:
    p.add_argument(
        "--max-chars",
        type=int,
        metavar="N",
        help="first set the project's limit on the characters of one prompt, completion, "
        "reference or chat (saved in the project; default 262144)",
    )


def apply_max_chars(project, args) -> None:
    if getattr(args, "max_chars", None) is not None:
        from workbench.data.prompt_io.limits import set_max_chars

        set_max_chars(project, args.max_chars)


class ProgressBar:
    """A tqdm bar on stderr driven by the (done, total, message) callbacks jobs report.

    It goes to stderr so that `--json` output on stdout stays parseable."""

    def __init__(self, description: str, enabled: bool = True):
        self.description = description
        self.enabled = enabled
        self._bar: tqdm | None = None  # made on the first report (tqdm is imported then)

    def __call__(self, done: int, total: int, message: str = "") -> None:
        if not self.enabled:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=self.description, file=sys.stderr, mininterval=0.5)
        if total and self._bar.total != total:
            self._bar.total = total
        self._bar.n = done
        if message:
            self._bar.set_postfix_str(message, refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
