"""The loud refusal: a test form the checker cannot verify fails the run with its line,
because passing a check it could not judge would hand out reward for nothing."""

from __future__ import annotations

import ast

from .syntax import label


class PlanError(ValueError):
    """The test uses a form the checker cannot verify (the message names the line)."""


def refusal(src: str, node: ast.AST, why: str) -> PlanError:
    """``PlanError("line N: SOURCE: why")`` for ``node`` of ``src``."""
    return PlanError(f"{label(src, node)}: {why}")
