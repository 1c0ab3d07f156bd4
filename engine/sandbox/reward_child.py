"""Child side of ``run_reward_function`` (run by ``runner.py`` in the sandbox child).

Loads the user's file, then calls ``function(prompt, completion, reference)`` per item
and writes one JSON line per item to the report fd as soon as it has a value; a
problem loading the file is one ``{"fatal": reason}`` line."""

import importlib.util
import json
import math
import numbers
import os


def _score(value):
    reason = ""
    if isinstance(value, tuple) and len(value) == 2:
        value, reason = value
        reason = str(reason)[:200]
    if isinstance(value, bool):
        value = float(value)
    if not isinstance(value, numbers.Real):
        return None, f"returned {type(value).__name__}, not a number"
    value = float(value)
    if not math.isfinite(value):
        return None, f"returned {value}, not a finite number"
    return value, reason


def main(args):
    fd = args["report_fd"]

    def send(obj):
        data = (json.dumps(obj) + "\n").encode()
        while data:
            data = data[os.write(fd, data) :]

    with open(args["items"], encoding="utf-8") as f:
        items = json.load(f)
    try:
        spec = importlib.util.spec_from_file_location("user_reward", args["source"])
        # The source is always written as a .py file, which has a source loader.
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except BaseException as exc:
        send({"fatal": f"loading the file raised {type(exc).__name__}: {exc}"[:300]})
        return
    function = getattr(module, args["function"], None)
    if not callable(function):
        send({"fatal": f"the file defines no function {args['function']!r}"})
        return
    for index, item in enumerate(items):
        try:
            value = function(item.get("prompt"), item.get("completion"), item.get("reference"))
            score, reason = _score(value)
        except Exception as exc:
            score, reason = None, f"raised {type(exc).__name__}: {exc}"[:200]
        send({"i": index, "v": score, "r": reason})
