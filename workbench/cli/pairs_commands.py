"""`workbench pairs PROJECT stats|export|import`: the training data the labels make, and
TRL's preference formats in and out."""

from __future__ import annotations

import sys
from dataclasses import asdict

from workbench.cli.output import (
    ProgressBar,
    add_max_chars_option,
    apply_max_chars,
    emit_json,
    report_import_failure,
)
from workbench.labels.comparisons import SOURCES
from workbench.project import Project


def _dataset(args):
    from workbench.data.preference_data import build_dataset

    project = Project.open(args.project)
    return build_dataset(
        project,
        sources=args.source or SOURCES,
        min_confidence=args.min_confidence,
        split=args.split,
    )


def print_counts(counts: dict) -> None:
    print(
        f"{counts['pairs']} pair(s) and {counts['unpaired']} unpaired example(s) "
        f"from {counts['prompts']} prompt(s)"
    )
    print(
        "Labels used by source: "
        + ", ".join(f"{n} {source}" for source, n in counts["by_source"].items())
    )
    dropped = {
        name: counts[name]
        for name in (
            "ties",
            "both_bad",
            "duplicates",
            "identical",
            "conflicts",
            "unpaired_duplicates",
            "unpaired_conflicts",
            "filtered_out",
        )
        if counts[name]
    }
    if dropped:
        print(
            "Not in the pairs: "
            + ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in dropped.items())
        )


def cmd_stats(args) -> int:
    dataset = _dataset(args)
    if args.json:
        emit_json({"ok": True, "counts": dataset.counts, "hash": dataset.hash})
    else:
        print_counts(dataset.counts)
    return 0


def cmd_export(args) -> int:
    from workbench.data.preference_data import export_dataset

    dataset = _dataset(args)
    bar = ProgressBar(f"exporting {args.file}", enabled=not args.json)
    try:
        fmt, count = export_dataset(
            dataset, args.file, fmt=args.format, progress=lambda done, total: bar(done, total)
        )
    finally:
        bar.close()
    if args.json:
        emit_json(
            {
                "ok": True,
                "exported": count,
                "format": fmt,
                "path": str(args.file),
                "hash": dataset.hash,
                "counts": dataset.counts,
            }
        )
    else:
        print(f"Exported {count} record(s) in the {fmt} format to {args.file}")
    return 0


def cmd_import(args) -> int:
    from workbench.data.preference_data import import_preferences
    from workbench.data.prompt_io import ImportFailed

    project = Project.open(args.project)
    apply_max_chars(project, args)
    bar = ProgressBar(f"importing {args.file}", enabled=not args.json)
    try:
        report = import_preferences(
            project,
            args.file,
            source=args.source,
            split=args.split,
            progress=lambda done, total: bar(done, total),
        )
    except ImportFailed as exc:
        bar.close()
        return report_import_failure(exc, args.json)
    bar.close()
    if args.json:
        emit_json({"ok": True, **asdict(report)})
    else:
        print(
            f"Imported {report.pairs} pair(s) and {report.unpaired} unpaired label(s) "
            f"as source '{args.source}': {report.prompts_created} new prompt(s), "
            f"{report.prompts_reused} already in the project, {report.completions} completion(s)"
        )
        for warning in report.warnings:
            print(f"warning: {warning}", file=sys.stderr)
    return 0


def _add_filters(p) -> None:
    p.add_argument(
        "--source",
        action="append",
        choices=SOURCES,
        help="only labels from this source (repeatable; default: all)",
    )
    p.add_argument(
        "--min-confidence",
        type=float,
        help="only labels at least this confident (labels without one pass)",
    )
    p.add_argument(
        "--split",
        choices=["train", "eval"],
        help="train: prompts not in the eval split; eval: those in it (default: all)",
    )
    p.add_argument("--json", action="store_true")


def add_commands(sub) -> None:
    from workbench.data.preference_data import FORMATS

    p = sub.add_parser("pairs", help="training data from the labels: stats, export, import")
    p.add_argument("project")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    a = actions.add_parser("stats", help="how many pairs and unpaired examples the labels give")
    _add_filters(a)
    a.set_defaults(func=cmd_stats)

    a = actions.add_parser("export", help="write the dataset in a TRL format (.jsonl or .parquet)")
    a.add_argument("file")
    a.add_argument(
        "--format",
        choices=FORMATS,
        help="default: standard, or conversational when a prompt is a chat",
    )
    _add_filters(a)
    a.set_defaults(func=cmd_export)

    a = actions.add_parser("import", help="add labels from a TRL preference file (all or nothing)")
    a.add_argument("file")
    a.add_argument(
        "--source",
        choices=SOURCES,
        default="human",
        help="the source the labels are stored with (human)",
    )
    a.add_argument("--split", default="train", help="split of new prompts (train)")
    add_max_chars_option(a)
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_import)
