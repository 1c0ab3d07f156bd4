"""Printing for the command line: JSON on stdout for scripts, a progress bar on stderr."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tqdm import tqdm


def emit_json(payload: dict) -> None:
    print(json.dumps(payload, indent=2, ensure_ascii=False))


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
