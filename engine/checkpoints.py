"""Checkpoints written atomically, with a manifest of hashes.

A checkpoint is a folder. It is written into a temporary sibling folder
(``.tmp-<name>-<random>`` next to the destination), given a ``manifest.json`` that lists
every file's sha256 and size, flushed to disk, and only then renamed to its final
name: a crash or an error leaves either the complete checkpoint or nothing (a
``.tmp-*`` folder at worst after a hard crash, never a half-written checkpoint under the
real name). No torch at module level.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.disk_space import LOW_SPACE_MB, disk_full_error, is_disk_full, require_free
from engine.errors import CheckpointError

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
_CHUNK = 1024 * 1024
_CPP_LOCATION = re.compile(r"\[enforce fail at [^\]]*\]\s*\.?\s*")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    if os.name == "nt":  # Windows cannot open a folder to fsync it
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_checkpoint(
    dest: Path, write: Callable[[Path], None], metadata: dict, need_mb: float = 0
) -> dict:
    """Write a checkpoint folder at ``dest`` atomically and return its manifest.

    ``write(tmp)`` fills a temporary folder; then ``manifest.json`` is written with
    ``{"format_version", "created" (UTC ISO 8601), "metadata", "files": {relative posix
    path: {"sha256", "size"}}}``, every file and folder is fsynced, and the folder is
    renamed to ``dest``. An existing ``dest`` is refused; on any failure the temporary
    folder is removed and CheckpointError raised (the original error chained), or
    DiskFullError when the disk is full. With ``need_mb``, DiskFullError before writing
    anything unless that much (plus a margin for the database) is free.
    """
    dest = Path(dest)
    if dest.exists():
        raise CheckpointError(
            f"The checkpoint {dest} already exists.",
            "Choose another name; an existing checkpoint is never overwritten.",
        )
    if need_mb:
        require_free(dest.parent, need_mb + LOW_SPACE_MB)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{dest.name}-", dir=dest.parent))
        tmp.chmod(0o755)  # mkdtemp makes it private (0700); a checkpoint is an ordinary folder
    except OSError as exc:
        raise CheckpointError(
            f"Could not create a folder next to {dest}: {exc}.",
            "Check the folder's permissions and the free disk space.",
        ) from exc
    try:
        write(tmp)
        if (tmp / MANIFEST).exists():
            raise CheckpointError(
                f"The checkpoint writer created its own {MANIFEST}, a reserved name."
            )
        files: dict[str, dict[str, Any]] = {}
        for path in _files(tmp):
            _fsync_file(path)
            files[path.relative_to(tmp).as_posix()] = {
                "sha256": sha256_file(path),
                "size": path.stat().st_size,
            }
        manifest = {
            "format_version": FORMAT_VERSION,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "metadata": metadata,
            "files": files,
        }
        try:
            text = json.dumps(manifest, indent=2, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise CheckpointError(
                f"The checkpoint metadata cannot be stored as JSON: {exc}."
            ) from exc
        with open(tmp / MANIFEST, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        for folder in sorted(
            {p.parent for p in _files(tmp)}, key=lambda p: len(p.parts), reverse=True
        ):
            _fsync_dir(folder)
        if dest.exists():
            raise CheckpointError(
                f"The checkpoint {dest} appeared while it was being written.",
                "Choose another name.",
            )
        os.replace(tmp, dest)
        _fsync_dir(dest.parent)
        return manifest
    except BaseException as exc:
        # Judged before the temporary folder goes: removing it frees the space it took.
        full = isinstance(exc, Exception) and is_disk_full(exc, dest.parent)
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, CheckpointError) or not isinstance(exc, Exception):
            raise
        if full:
            raise disk_full_error(dest.parent) from exc
        raise CheckpointError(
            f"Writing the checkpoint {dest} failed: {_plain(exc)}",
            "Nothing was saved; check the free disk space and try again.",
        ) from exc


def _plain(exc: BaseException) -> str:
    """The error without torch's C++ location ("[enforce fail at inline_container.cc:672] .")."""
    return _CPP_LOCATION.sub("", str(exc)).strip() or type(exc).__name__


def read_manifest(checkpoint_dir: Path) -> dict:
    """The checkpoint's manifest; CheckpointError when it is missing or unreadable."""
    path = Path(checkpoint_dir) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CheckpointError(
            f"{checkpoint_dir} has no {MANIFEST}, so it is not a complete checkpoint.",
            "Pick another checkpoint.",
        ) from exc
    except (OSError, ValueError) as exc:
        raise CheckpointError(
            f"The manifest of {checkpoint_dir} is unreadable: {exc}.",
            "The checkpoint is damaged; pick another one.",
        ) from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise CheckpointError(
            f"The manifest of {checkpoint_dir} has no file list.",
            "The checkpoint is damaged; pick another one.",
        )
    return manifest


def verify_checkpoint(checkpoint_dir: Path) -> list[str]:
    """Problems found, one sentence each; an empty list means the checkpoint is intact.

    Checks the manifest, that every listed file exists with its size and sha256, and
    reports files that are not in the manifest.
    """
    checkpoint_dir = Path(checkpoint_dir)
    if not checkpoint_dir.is_dir():
        return [f"The checkpoint folder {checkpoint_dir} does not exist."]
    try:
        manifest = read_manifest(checkpoint_dir)
    except CheckpointError as exc:
        return [exc.message]
    problems: list[str] = []
    listed = manifest["files"]
    for name, info in sorted(listed.items()):
        path = checkpoint_dir / name
        if not path.is_file():
            problems.append(f"Missing file: {name}.")
            continue
        size = path.stat().st_size
        if size != info.get("size"):
            problems.append(
                f"Size mismatch: {name} is {size} bytes, the manifest says {info.get('size')}."
            )
        elif sha256_file(path) != info.get("sha256"):
            problems.append(f"Hash mismatch: {name} has changed since the checkpoint was written.")
    for path in _files(checkpoint_dir):
        name = path.relative_to(checkpoint_dir).as_posix()
        if name != MANIFEST and name not in listed:
            problems.append(f"Unexpected file not in the manifest: {name}.")
    return problems


def save_adapter_checkpoint(peft_model: Any, dest: Path, metadata: dict) -> dict:
    """Write ``peft_model``'s adapter (PEFT format, safetensors) as an atomic checkpoint;
    returns the manifest."""
    from engine.lora import save_adapter

    return write_checkpoint(dest, lambda tmp: save_adapter(peft_model, tmp), metadata)
