"""`workbench demo`, `import` and `export`: building projects and moving prompts in and out."""

from __future__ import annotations

import sys

from workbench.cli.output import (
    ProgressBar,
    add_max_chars_option,
    apply_max_chars,
    emit_json,
    report_import_failure,
)
from workbench.project import Project


def cmd_demo(args) -> int:
    from workbench.data.prompts import split_counts
    from workbench.demo_project import build_demo_project

    project = build_demo_project(args.dir)
    counts = split_counts(project)
    if args.json:
        emit_json({"ok": True, "project": str(project.path), "prompts": counts})
    else:
        print(f"Demo project created in {project.path}")
        print("Prompts: " + ", ".join(f"{n} {split}" for split, n in sorted(counts.items())))
        print(f"Next: workbench generate {project.path} --split eval --n 1")
    return 0


def cmd_import(args) -> int:
    from workbench.data.prompt_io import ImportFailed, import_prompts

    project = Project.open(args.project)
    apply_max_chars(project, args)
    bar = ProgressBar(f"importing {args.file}", enabled=not args.json)
    try:
        report = import_prompts(
            project,
            args.file,
            fmt=args.format,
            default_split=args.split,
            progress=lambda done, total: bar(done, total),
        )
    except ImportFailed as exc:
        bar.close()
        return report_import_failure(exc, args.json)
    bar.close()
    if args.json:
        emit_json(
            {
                "ok": True,
                "imported": report.imported,
                "by_split": report.by_split,
                "warnings": report.warnings,
            }
        )
    else:
        print(
            f"Imported {report.imported} prompt(s): "
            + ", ".join(f"{n} {s}" for s, n in sorted(report.by_split.items()))
        )
        for warning in report.warnings:
            print(f"warning: {warning}", file=sys.stderr)
    return 0


def cmd_export(args) -> int:
    from workbench.data.prompt_io import export_prompts

    project = Project.open(args.project)
    count = export_prompts(project, args.file, fmt=args.format, split=args.split)
    if args.json:
        emit_json({"ok": True, "exported": count, "path": str(args.file)})
    else:
        print(f"Exported {count} prompt(s) to {args.file}")
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("demo", help="build the demo project (embedded arithmetic model) in DIR")
    p.add_argument("dir")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("import", help="import prompts from JSONL, CSV or Parquet (all or nothing)")
    p.add_argument("project")
    p.add_argument("file")
    p.add_argument("--split", default="train", help="split for rows that name none (train)")
    p.add_argument("--format", choices=["jsonl", "csv", "parquet"], help="default: from the suffix")
    add_max_chars_option(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="export prompts to JSONL, CSV or Parquet")
    p.add_argument("project")
    p.add_argument("file")
    p.add_argument("--split", default=None, help="only this split (default: all)")
    p.add_argument("--format", choices=["jsonl", "csv", "parquet"], help="default: from the suffix")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_export)
