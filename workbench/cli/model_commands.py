"""`workbench models PROJECT list|add|remove|fit`: the Model view's twin.

`add` takes a local folder (checked as the Add dialog checks it: config.json, safetensors
weights unless pickle files are allowed, an exported adapter's base) or a Hub id (a
snapshot in the Hugging Face cache, else downloaded by the worker on first use). `remove`
refuses a model that runs, completions, evaluations or comparisons point to. `fit` prints
the memory estimate the fit panel shows.
"""

from __future__ import annotations

from pathlib import Path

from workbench.cli.output import emit_json
from workbench.data.models import ModelRecord, add_model, get_model, list_models
from workbench.project import Project

# Tables whose rows name a model; a model any of them names stays.
_USERS = (
    ("runs", "training run(s)"),
    ("completions", "completion(s)"),
    ("evaluations", "evaluation(s)"),
    ("comparison_set_entries", "comparison entrant(s)"),
)


def _row(model: ModelRecord, default_id: int | None) -> dict:
    return {
        "id": model.id,
        "name": model.name,
        "source": model.source,
        "path": model.path,
        "revision": model.revision,
        "allow_pickle": model.allow_pickle,
        "trust_remote_code": model.trust_remote_code,
        "default": model.id == default_id,
    }


def _default_id(project: Project) -> int | None:
    value = project.setting("default_model_id")
    return None if value is None else int(value)


def cmd_list(args) -> int:
    project = Project.open(args.project)
    default = _default_id(project)
    rows = [_row(m, default) for m in list_models(project)]
    if args.json:
        emit_json({"ok": True, "models": rows})
        return 0
    if not rows:
        print("No models yet: add one with `workbench models PROJECT add FOLDER_OR_HUB_ID`.")
    for r in rows:
        mark = "*" if r["default"] else " "
        flags = [f for f in ("allow_pickle", "trust_remote_code") if r[f]]
        extra = f"  [{', '.join(flags)}]" if flags else ""
        print(f"{mark}{r['id']:>4}  {r['name']}  ({r['source']}: {r['path']}){extra}")
    return 0


def _source_of(target: str, allow_pickle: bool) -> tuple[str, str]:
    """(source, stored path) of what the user named; ValueError says what is wrong."""
    from engine.model_source import default_cache_dir, list_cached_models, looks_like_repo_id
    from workbench.data.model_folders import folder_problem

    folder = Path(target).expanduser()
    if folder.exists():
        problem = folder_problem(folder, allow_pickle)
        if problem:
            raise ValueError(problem)
        return "local", str(folder.resolve())
    if not looks_like_repo_id(target):
        raise ValueError(
            f"{target} is neither an existing folder nor a Hub id such as org/name; check it."
        )
    cached = {m.repo_id: m for m in list_cached_models(default_cache_dir())}
    if target in cached and cached[target].problem:
        raise ValueError(cached[target].problem)
    return ("cache" if target in cached else "hub"), target


def cmd_add(args) -> int:
    project = Project.open(args.project)
    source, path = _source_of(args.target, args.allow_pickle)
    name = (args.name or "").strip() or Path(path).name
    model_id = add_model(
        project,
        name=name,
        source=source,
        path=path,
        revision=args.revision,
        trust_remote_code=args.trust_remote_code,
        allow_pickle=args.allow_pickle,
    )
    row = _row(get_model(project, model_id), _default_id(project))
    if args.json:
        emit_json({"ok": True, "model": row})
    else:
        later = " (the worker downloads it on first use)" if source == "hub" else ""
        print(f"Added model {model_id} {name!r} from {source} {path}{later}.")
    return 0


def _users(project: Project, model_id: int) -> list[str]:
    found = []
    for table, what in _USERS:
        n = project.db.execute(
            f"SELECT count(*) FROM {table} WHERE model_id = ?", [model_id]
        ).fetchone()[0]
        if n:
            found.append(f"{n} {what}")
    return found


def cmd_remove(args) -> int:
    project = Project.open(args.project)
    model = get_model(project, args.model_id)
    users = _users(project, model.id)
    if users:
        raise ValueError(
            f"Model {model.id} ({model.name}) is used by {', '.join(users)}, so it stays: "
            "their history names it. Add another model and make it the default instead."
        )
    with project.transaction():
        project.db.execute("DELETE FROM models WHERE id = ?", [model.id])
        if _default_id(project) == model.id:
            project.set_setting("default_model_id", None)
    if args.json:
        emit_json({"ok": True, "removed": model.id})
    else:
        print(f"Removed model {model.id} ({model.name}).")
    return 0


def cmd_fit(args) -> int:
    from engine.device import device_memory
    from engine.fit import estimate_fit, format_bytes
    from workbench.data.model_folders import model_dir

    project = Project.open(args.project)
    model = get_model(project, args.model_id)
    available = None if args.device.startswith("cuda") else device_memory("cpu")[1]
    estimate = estimate_fit(
        model_dir(model),
        dtype=args.dtype,
        lora_rank=args.lora_rank,
        batch_size=args.batch_size,
        seq_len=args.seq_len,
        training=args.training,
        available_bytes=available,
        quantization=args.quantization,
        gradient_checkpointing=args.gradient_checkpointing,
    )
    terms = {
        "weights": estimate.weights_bytes,
        "adapter": estimate.adapter_bytes,
        "gradients": estimate.gradient_bytes,
        "optimizer": estimate.optimizer_bytes,
        "activations": estimate.activations_bytes,
        "kv_cache": estimate.kv_cache_bytes,
        "loading": estimate.loading_bytes,
    }
    if args.json:
        emit_json(
            {
                "ok": True,
                "model": model.id,
                "parameters": estimate.num_parameters,
                "trainable_parameters": estimate.trainable_parameters,
                "bytes": terms,
                "total_bytes": estimate.total_bytes,
                "available_bytes": estimate.available_bytes,
                "fits": estimate.fits,
            }
        )
        return 0
    what = "a training step" if args.training else "generation"
    print(f"Model {model.id} ({model.name}), {estimate.num_parameters / 1e6:.1f} M parameters,")
    print(f"for {what} in {args.dtype}, batch {args.batch_size} x {args.seq_len} tokens:")
    for term, value in terms.items():
        if value:
            print(f"  {term:<12} {format_bytes(value):>10}")
    print(estimate.summary())
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("models", help="the project's models: list, add, remove, fit")
    p.add_argument("project")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    a = actions.add_parser("list", help="the project's models (* the default)")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_list)

    a = actions.add_parser("add", help="add a local folder or a Hugging Face Hub id")
    a.add_argument("target", metavar="FOLDER_OR_HUB_ID")
    a.add_argument("--name", help="display name (default: the folder or repository name)")
    a.add_argument("--revision", help="a Hub revision (branch, tag or commit)")
    a.add_argument(
        "--allow-pickle",
        action="store_true",
        help="let .bin/.pt weights load (they can run code): only for a model you trust",
    )
    a.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="let the model's own Python code run: only for an author you trust",
    )
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_add)

    a = actions.add_parser("remove", help="remove a model no run or completion uses")
    a.add_argument("model_id", type=int, metavar="ID")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_remove)

    a = actions.add_parser("fit", help="estimate the memory a model needs")
    a.add_argument("model_id", type=int, metavar="ID")
    a.add_argument("--training", action="store_true", help="a LoRA training step")
    a.add_argument("--lora-rank", type=int, default=16)
    a.add_argument("--batch-size", type=int, default=1)
    a.add_argument("--seq-len", type=int, default=512)
    a.add_argument("--dtype", default="bfloat16", help="float32, bfloat16 or float16")
    a.add_argument("--quantization", choices=("4bit",), default=None, help="4-bit (QLoRA) weights")
    a.add_argument(
        "--gradient-checkpointing",
        choices=("auto", "on", "off"),
        default="auto",
        help="as a run's setting: auto is on for models of 100 M parameters or more (auto)",
    )
    a.add_argument("--device", default="cpu", help="cpu compares with free RAM")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_fit)
