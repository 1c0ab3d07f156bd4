"""Child side of ``math_equivalent`` (run by ``runner.py`` in the sandbox child's main
thread, where math-verify's SIGALRM timeouts work). Stdlib plus math-verify only.

Writes one JSON line per item to the report fd as soon as it is decided, after a
first ``{"ready": true}`` line once math-verify is imported, so the app can tell
start-up from a stuck item."""

import json
import os


def main(args):
    fd = args["report_fd"]

    def send(obj):
        data = (json.dumps(obj) + "\n").encode()
        while data:
            data = data[os.write(fd, data) :]

    from math_verify import parse, verify
    from math_verify.errors import TimeoutException

    with open(args["items"], encoding="utf-8") as f:
        items = json.load(f)
    seconds = int(args["timeout"])
    send({"ready": True})
    for index, gold, answer in items:
        try:
            parsed_gold = parse(gold, parsing_timeout=seconds, raise_on_error=True)
            parsed_answer = parse(answer, parsing_timeout=seconds, raise_on_error=True)
            if not parsed_gold:
                value, reason = None, "could not parse the gold answer"
            elif not parsed_answer:
                value, reason = None, "could not parse the answer"
            else:
                same = verify(
                    parsed_gold, parsed_answer, timeout_seconds=seconds, raise_on_error=True
                )
                value, reason = bool(same), "equivalent" if same else "not equivalent"
        except TimeoutException:
            value, reason = None, "timed out"
        except Exception as exc:  # MemoryError and RecursionError included
            value, reason = None, f"error: {type(exc).__name__}: {exc}"[:200]
        send({"i": index, "v": value, "r": reason})
