"""`workbench score PROJECT FILE`: score completions from a JSONL file with the project's
rules, as the Rules view's dry run does; stored only with --store."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from workbench.cli.output import emit_json
from workbench.project import Project


def _results(lines, batch) -> list[dict[str, Any]]:
    return [
        {
            "line": line.line,
            "prompt_id": line.prompt_id,
            "total": batch.total[i],
            "gated": batch.gated[i],
            "rules": {
                rule: {
                    "score": batch.per_rule[rule][i],
                    "passed": batch.passed[rule][i],
                    "reason": batch.reasons[rule][i],
                }
                for rule in batch.per_rule
            },
        }
        for i, line in enumerate(lines)
    ]


def _print(results: list[dict[str, Any]], stored: list[int] | None) -> None:
    for result in results:
        gated = "  (gated: a gate rule failed)" if result["gated"] else ""
        print(f"line {result['line']}: total {result['total']:.3f}{gated}")
        for rule, score in result["rules"].items():
            verdict = "pass" if score["passed"] else "fail"
            print(f"  {rule:<16} {score['score']:.3f} {verdict}  {score['reason']}")
    if stored is not None:
        print(f"Stored {len(stored)} completion(s) with their scores.")


def cmd_score(args) -> int:
    from workbench.data.prompt_io import ImportFailed
    from workbench.rules.score_file import read_score_file, score_lines, specs_named, store_scored

    project = Project.open(args.project)
    path = Path(args.file)
    names = [n.strip() for n in args.rules.split(",") if n.strip()] if args.rules else None
    specs = specs_named(project, names)
    try:
        lines = read_score_file(project, path, store=args.store)
    except ImportFailed as exc:
        if args.json:
            errors = [{"line": e.line or None, "message": e.message} for e in exc.errors]
            emit_json({"ok": False, "scored": 0, "errors": errors})
        print(
            f"error: nothing was scored from {path.name}; fix it and score again:", file=sys.stderr
        )
        for error in exc.errors:
            print(f"  {error.message}", file=sys.stderr)
        return 1
    batch = score_lines(specs, lines)
    stored = store_scored(project, lines, batch, path.name) if args.store else None
    results = _results(lines, batch)
    if args.json:
        emit_json(
            {
                "ok": True,
                "rules": [s.name for s in specs],
                "scored": len(results),
                "stored": stored,
                "results": results,
            }
        )
    else:
        _print(results, stored)
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser(
        "score",
        help="score completions from a JSONL file with the project's rules (stores nothing "
        "unless --store)",
    )
    p.add_argument("project")
    p.add_argument(
        "file", help='JSONL of {"prompt" or "prompt_id", "completion", "reference" (optional)}'
    )
    p.add_argument(
        "--rules", metavar="A,B", help="these rules by name (default: every enabled one)"
    )
    p.add_argument(
        "--store",
        action="store_true",
        help="add each completion for its prompt with its scores (the prompt must be in the "
        "project)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_score)
