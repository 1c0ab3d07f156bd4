"""Where a model comes from: a local folder, the Hugging Face cache, or the Hub.

No torch here: the GUI lists cached models and resolves the user's choice at start-up.
huggingface_hub is imported inside the functions.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from engine.errors import ModelLoadError

# A Hub repository id: "name" or "org/name" (letters, digits, "-", "_", ".").
_REPO_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$")


@dataclass
class ModelSpec:
    """What the user picked. ``path`` is a folder or a Hub id such as "org/name".

    ``allow_pickle`` lets .bin/.pt weights load (they can run code when unpickled);
    ``trust_remote_code`` lets a model's own Python code run. Both are off by default.
    """

    path: str
    revision: str | None = None
    trust_remote_code: bool = False
    allow_pickle: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelSpec:
        return cls(
            path=str(data["path"]),
            revision=data.get("revision"),
            trust_remote_code=bool(data.get("trust_remote_code", False)),
            allow_pickle=bool(data.get("allow_pickle", False)),
        )


@dataclass
class ResolvedModel:
    """``kind`` "local" (a folder), "cache" (a snapshot folder of the HF cache) or "hub"
    (to download; ``local_dir`` is None until then)."""

    kind: Literal["local", "cache", "hub"]
    local_dir: Path | None
    repo_id: str | None


@dataclass
class CachedModel:
    """One model repository in the Hugging Face cache."""

    repo_id: str
    size_bytes: int
    revisions: list[str] = field(default_factory=list)  # commit hashes, newest first
    snapshot_dir: Path | None = None  # the "main" snapshot, else the newest one
    has_safetensors: bool = False
    architecture: str | None = None  # config.json's "architectures"[0], else its model_type
    problem: str | None = None  # why that snapshot cannot load (incomplete, gated), or None


def default_cache_dir() -> Path:
    """The Hugging Face hub cache folder, read from the environment at call time."""
    env = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if env:
        return Path(env).expanduser()
    home = os.environ.get("HF_HOME")
    if home:
        return Path(home).expanduser() / "hub"
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def looks_like_repo_id(text: str) -> bool:
    """True for "name" or "org/name"; False for anything that reads as a file path."""
    if text.startswith((".", "/", "~", "\\")) or re.match(r"^[A-Za-z]:[\\/]", text):
        return False
    if text.endswith("/") or ".." in text or "\\" in text:
        return False
    return bool(_REPO_ID_RE.match(text))


def _find_in_cache(repo_id: str, revision: str | None, cache_dir: Path) -> Path | None:
    if not cache_dir.is_dir():
        return None
    from huggingface_hub import snapshot_download

    try:
        folder = snapshot_download(
            repo_id,
            revision=revision,
            cache_dir=str(cache_dir),
            local_files_only=True,
        )
    except Exception:  # LocalEntryNotFoundError, invalid ids, unreadable cache: not cached
        return None
    path = Path(folder)
    return path if path.is_dir() else None


def resolve(
    spec: ModelSpec, offline: bool = True, *, cache_dir: Path | None = None
) -> ResolvedModel:
    """Say where ``spec`` is: a folder that exists is "local"; else a Hub id found in the
    Hugging Face cache is "cache" (its snapshot folder); else, only when ``offline`` is
    False, a Hub id is "hub" (to download). Anything else raises ModelLoadError.

    ``cache_dir`` defaults to the HF hub cache (HF_HUB_CACHE, HF_HOME/hub, ~/.cache/...).
    """
    text = (spec.path or "").strip()
    if not text:
        raise ModelLoadError("No model was given.", "Pick a model folder or a cached model.")
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelLoadError(
                f"{path} is a file, not a model folder.",
                "Pick the folder that holds config.json and the weights.",
            )
        return ResolvedModel(kind="local", local_dir=path.resolve(), repo_id=None)

    if looks_like_repo_id(text):
        cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        snapshot = _find_in_cache(text, spec.revision, cache)
        if snapshot is not None:
            return ResolvedModel(kind="cache", local_dir=snapshot, repo_id=text)
        if not offline:
            return ResolvedModel(kind="hub", local_dir=None, repo_id=text)
        raise ModelLoadError(
            f"The folder {text!r} does not exist, and no model {text!r}"
            f"{' at revision ' + repr(spec.revision) if spec.revision else ''} is in the "
            f"Hugging Face cache ({cache}).",
            "Check the path, pick a model from the cached list, or allow downloads "
            "(online mode) to fetch it from the Hugging Face Hub.",
        )
    raise ModelLoadError(
        f"The model folder {str(path)!r} does not exist.",
        "Check the path, or pick a folder that holds config.json and the weights.",
    )


def list_cached_models(cache_dir: Path | None = None) -> list[CachedModel]:
    """The model repositories in the Hugging Face cache, sorted by id.

    A missing or unreadable cache gives an empty list. Datasets and spaces are left out.
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if not cache.is_dir():
        return []
    from huggingface_hub import scan_cache_dir

    try:
        info = scan_cache_dir(cache)
    except Exception:  # CacheNotFound, a file where the folder should be, permissions
        return []
    models: list[CachedModel] = []
    for repo in info.repos:
        if repo.repo_type == "model" and not repo.revisions:
            # Refs or blobs without a snapshot: a download that never got a file in.
            models.append(
                CachedModel(
                    repo_id=repo.repo_id,
                    size_bytes=int(repo.size_on_disk),
                    problem=_incomplete(repo.repo_id, "it has no snapshot yet"),
                )
            )
            continue
        if repo.repo_type != "model" or not repo.revisions:
            continue
        revisions = sorted(repo.revisions, key=lambda r: r.last_modified, reverse=True)
        main = next((r for r in revisions if "main" in r.refs), revisions[0])
        models.append(
            CachedModel(
                repo_id=repo.repo_id,
                size_bytes=int(repo.size_on_disk),
                revisions=[r.commit_hash for r in revisions],
                snapshot_dir=Path(main.snapshot_path),
                has_safetensors=any(f.file_name.endswith(".safetensors") for f in main.files),
                architecture=_architecture(Path(main.snapshot_path)),
                problem=snapshot_problem(Path(main.snapshot_path), repo.repo_id),
            )
        )
    models.sort(key=lambda m: m.repo_id.lower())
    return models


def _incomplete(repo_id: str, what: str) -> str:
    return (
        f"The cached {repo_id} is incomplete: {what}. A download was cut short, or the "
        f"model is gated and its files were refused: accept its licence on the Hub, log in "
        f"(`hf auth login`) and run `hf download {repo_id}` again."
    )


def _architecture(folder: Path) -> str | None:
    import json

    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    names = config.get("architectures") if isinstance(config, dict) else None
    if isinstance(names, list) and names and isinstance(names[0], str):
        return names[0]
    kind = config.get("model_type") if isinstance(config, dict) else None
    return kind if isinstance(kind, str) else None


def snapshot_problem(folder: Path, repo_id: str | None = None) -> str | None:
    """Why a snapshot folder of the Hugging Face cache cannot load whole, or None: no
    config.json, no weights, a shard its index names that is missing, a file whose blob
    is gone, or a blob still being downloaded (``.incomplete``)."""
    import json

    name = repo_id or folder.name
    if not (folder / "config.json").is_file():
        return _incomplete(name, "it has no config.json")
    broken = sorted(p.name for p in folder.iterdir() if p.is_symlink() and not p.exists())
    if broken:
        return _incomplete(name, f"{', '.join(broken[:3])} point(s) to missing data")
    blobs = folder.parent.parent / "blobs"
    if blobs.is_dir() and any(blobs.glob("*.incomplete")):
        return _incomplete(name, "a file is still being downloaded")
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        try:
            shards = set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values())
        except (OSError, ValueError, KeyError, AttributeError):
            return _incomplete(name, "its model.safetensors.index.json is unreadable")
        missing = sorted(s for s in shards if not (folder / s).is_file())
        if missing:
            return _incomplete(name, f"{len(missing)} weight shard(s) are missing ({missing[0]})")
        return None
    weights = [p for p in folder.iterdir() if p.suffix in (".safetensors", ".bin", ".pt", ".pth")]
    if not weights:
        return _incomplete(name, "it has no weight files")
    return None
