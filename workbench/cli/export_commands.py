"""`workbench export-model` (a checkpoint as an adapter, a merged model, GGUF or an
Ollama folder), `workbench export-data` (comparisons, arena battles, a run's metrics and
samples as CSV or JSONL) and `workbench install-desktop`."""

from __future__ import annotations

import sys
from typing import Any

from engine.export.formats import FORMATS, GGUF_DTYPES
from workbench.cli.job_commands import report_job
from workbench.cli.output import ProgressBar, emit_json
from workbench.project import Project

DATA_KINDS = ("comparison", "battles", "metrics", "samples")


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def print_export(result: dict[str, Any]) -> None:
    print(
        f"Exported checkpoint {result['checkpoint_id']} as {result['format']}"
        + (f" ({result['dtype']})" if result.get("dtype") else "")
        + f" to {result['out_dir']}: {_mib(result['bytes'])} in {result['seconds']:.1f} s"
    )
    for name in result["files"]:
        print(f"  {name}")
    if result.get("ollama_command"):
        print(f"Import it into Ollama from that folder: {result['ollama_command']}")
        if not result.get("template_translated"):
            print("The chat template was not translated; Ollama reads the one in the GGUF file.")


def cmd_export_model(args) -> int:
    from workbench.exporting.request import ExportRequest, check_request
    from workbench.jobs.worker import run_inline

    project = Project.open(args.project)
    request = ExportRequest(
        checkpoint_id=args.checkpoint,
        format=args.format,
        out_dir=str(args.out_dir),
        dtype=args.dtype,
        overwrite=args.overwrite,
    )
    check_request(project, request)  # refuse before a job row is written
    bar = ProgressBar(f"export {args.format}", enabled=not args.json)
    try:
        job = run_inline(project, "export_model", request.to_params(), on_progress=bar)
    finally:
        bar.close()
    return report_job(job, args.json, print_export)


def cmd_export_data(args) -> int:
    from workbench.exporting import data_files

    project = Project.open(args.project)
    if args.kind in ("comparison", "metrics", "samples") and args.id is None:
        raise ValueError(f"export-data {args.kind} needs --id (the comparison or run id).")
    if args.kind == "comparison":
        count = data_files.export_comparison(project, args.id, args.file)
    elif args.kind == "battles":
        count = data_files.export_battles(project, args.file)
    elif args.kind == "metrics":
        count = data_files.export_metrics(project, args.id, args.file)
    else:
        count = data_files.export_samples(project, args.id, args.file)
    if args.json:
        emit_json({"ok": True, "kind": args.kind, "exported": count, "path": str(args.file)})
    else:
        print(f"Wrote {count} row(s) to {args.file}")
    return 0


def cmd_install_desktop(args) -> int:
    from workbench.desktop import install_desktop_entry

    written = install_desktop_entry(args.prefix)
    if args.json:
        emit_json({"ok": True, "files": [str(p) for p in written]})
    else:
        for path in written:
            print(f"wrote {path}")
        print("The app now appears in your desktop's application menu.", file=sys.stderr)
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser(
        "export-model",
        help="a checkpoint as a PEFT adapter, a merged model, a GGUF file or an Ollama folder",
    )
    p.add_argument("project")
    p.add_argument("out_dir", metavar="OUT_DIR", help="the folder to create (must not exist)")
    p.add_argument("--checkpoint", type=int, required=True, metavar="ID", help="checkpoint id")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument(
        "--dtype",
        choices=GGUF_DTYPES,
        help="weights type: f16 (default for GGUF), bf16, f32 or q8_0 (GGUF only); a merged "
        "model keeps its base's type unless told",
    )
    p.add_argument("--overwrite", action="store_true", help="replace OUT_DIR if it exists")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_export_model)

    d = sub.add_parser(
        "export-data",
        help="a comparison, the arena battles, a run's metrics or samples as CSV or JSONL",
    )
    d.add_argument("project")
    d.add_argument("kind", choices=DATA_KINDS)
    d.add_argument("file", help="a .csv or .jsonl file")
    d.add_argument("--id", type=int, help="the comparison id, or the run id for metrics/samples")
    d.add_argument("--json", action="store_true")
    d.set_defaults(func=cmd_export_data)

    i = sub.add_parser(
        "install-desktop",
        help="add the app to this user's desktop menu (a .desktop file, an icon, metainfo)",
    )
    i.add_argument(
        "--prefix",
        default=None,
        help="the data folder to install into (default: $XDG_DATA_HOME or ~/.local/share)",
    )
    i.add_argument("--json", action="store_true")
    i.set_defaults(func=cmd_install_desktop)
