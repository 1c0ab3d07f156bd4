"""``python_function``: the user's own reward function, from a Python file.

The file is the user's, but it runs in the sandbox anyway
(``engine.sandbox.run_reward_function``): a bug that loops, leaks memory or crashes
then costs one check, not the training run. A batch is split into small chunks, one
sandbox child each, run in parallel (see ``_run_chunk`` for timeouts).
Scores are clipped to [0, 1] so that weights and ``RuleSet.max_total`` mean the same
for every kind: scale with the rule's weight, penalise with a negative weight.
"""

from __future__ import annotations

import ast
import math
import threading
from pathlib import Path

from engine.rules.base import ParamInfo, Rule, RuleParamError, RuleScore, as_item

_STARTUP_S = 5.0  # a child's start and the file's own imports, on a busy machine
_CHUNK = 4  # calls per sandbox child
_MAX_STOPS = 3  # timeouts or crashes in one batch before the rest of it is skipped
_NOT_RUN = "not run:"  # engine.sandbox's reason for the calls after one that stopped it


class _Breaker:
    """Counts the children of one batch that stopped early (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stops = 0

    def record(self) -> None:
        with self._lock:
            self._stops += 1

    def tripped(self) -> bool:
        with self._lock:
            return self._stops >= _MAX_STOPS


def _defines(tree: ast.Module, name: str) -> bool:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return True
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return True
        if isinstance(node, ast.ImportFrom) and any(
            (alias.asname or alias.name) == name for alias in node.names
        ):
            return True
    return False


class PythonFunctionRule(Rule):
    kind = "python_function"
    title = "Python reward function"
    description = (
        "Calls your own Python function to score each completion. Write a file with, e.g., "
        "def reward(prompt, completion, reference): return 1.0 if ... else 0.0 "
        "and return a number from 0 to 1 (values outside are clipped; use the rule's "
        "weight to scale). It runs in a separate process with a time limit, so a bug "
        "fails the check instead of the run."
    )
    PARAMS = [
        ParamInfo("path", "path", "", "The Python file that defines the function."),
        ParamInfo(
            "function",
            "str",
            "reward",
            "The function's name in that file. It is called with prompt, completion "
            "and reference (each a string, reference may be None).",
        ),
        ParamInfo(
            "pass_threshold",
            "float",
            0.5,
            "A score at or above this counts as passed (for gates and pass rates).",
            minimum=0.0,
            maximum=1.0,
        ),
        ParamInfo(
            "timeout_s",
            "float",
            5.0,
            "Seconds allowed per call. Calls run a few to a process, which gets this "
            "times their number (plus start-up); a call that runs past it scores 0 and "
            "the calls after it run again in a new process. After 3 such stops in one "
            "batch, the rest of the batch scores 0.",
            minimum=0.1,
            maximum=120.0,
        ),
        ParamInfo(
            "memory_mb",
            "int",
            1024,
            "Memory limit of the process running the function, in MiB.",
            minimum=64,
            maximum=65536,
        ),
    ]

    @classmethod
    def check_params(cls, params):
        if not params["path"]:
            raise RuleParamError("path", "choose the Python file with your reward function")
        path = Path(params["path"]).expanduser()
        if not path.is_file():
            raise RuleParamError("path", f"no file at {path}")
        if not params["function"].isidentifier():
            raise RuleParamError("function", f"{params['function']!r} is not a Python name")
        try:  # parse, never import: the GUI process must not run the user's code
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (OSError, UnicodeDecodeError) as error:
            raise RuleParamError("path", f"cannot read {path}: {error}") from None
        except SyntaxError as error:
            raise RuleParamError(
                "path", f"syntax error on line {error.lineno}: {error.msg}"
            ) from None
        if not _defines(tree, params["function"]):
            raise RuleParamError("function", f"{path.name} defines no {params['function']!r}")
        params["path"] = str(path.resolve())
        return params

    def score(self, completion, reference=None, prompt=None) -> RuleScore:
        return self.score_batch([(completion, reference, prompt)])[0]

    def score_batch(self, items) -> list[RuleScore]:
        from engine.sandbox import run_many

        rows = [
            {"prompt": i.prompt, "completion": i.completion, "reference": i.reference}
            for i in map(as_item, items)
        ]
        # Small chunks, one sandbox child each (about 50 ms to start), run in parallel:
        # the sandbox's time limit covers a whole child, so small chunks keep the cost
        # of one slow call small.
        chunks = [rows[i : i + _CHUNK] for i in range(0, len(rows), _CHUNK)]
        breaker = _Breaker()
        done = run_many(self._run_chunk, [(chunk, breaker) for chunk in chunks])
        return [self._to_score(value, reason) for chunk in done for value, reason in chunk]

    def _run_chunk(self, rows: list[dict], breaker: _Breaker) -> list[tuple[float | None, str]]:
        """Scores of ``rows``. When a call runs out of time (or the child dies), the
        sandbox marks the calls after it "not run": run those again in a fresh child,
        so one slow completion costs only its own score; unless the batch has seen
        ``_MAX_STOPS`` such stops already, which means the function (or its file's
        import) is slow on everything, and waiting on each call would stall training."""
        from engine.sandbox import Limits, run_reward_function

        p = self.params
        results: list[tuple[float | None, str]] = []
        while len(results) < len(rows):
            todo = rows[len(results) :]
            if breaker.tripped():
                results.extend(
                    [(None, f"skipped: {_MAX_STOPS} calls of this batch timed out or crashed")]
                    * len(todo)
                )
                break
            wall = _STARTUP_S + p["timeout_s"] * len(todo)
            limits = Limits(
                wall_time_s=wall, cpu_time_s=math.ceil(wall), memory_bytes=p["memory_mb"] * 2**20
            )
            got = run_reward_function(p["path"], p["function"], todo, limits)
            stop = next(
                (
                    i
                    for i, (value, reason) in enumerate(got)
                    if value is None and reason.startswith(_NOT_RUN)
                ),
                None,
            )
            if stop is None:
                results.extend(got)
            else:
                breaker.record()
                results.extend(got[: max(stop, 1)])  # the call that stopped keeps its reason
        return results

    def _to_score(self, value: float | None, reason: str) -> RuleScore:
        if value is None or not math.isfinite(value):
            why = reason or (
                "the function returned no number" if value is None else f"returned {value}"
            )
            return RuleScore(0.0, False, why)
        clipped = min(1.0, max(0.0, float(value)))
        text = reason or f"returned {value:g}"
        if clipped != value:
            text += f" (clipped to {clipped:g})"
        return RuleScore(clipped, clipped >= self.params["pass_threshold"], text)
