"""Which errors mean a full disk, and the one message that names it."""

from __future__ import annotations

import errno
import sqlite3

import pytest

import engine.disk_space as disk_space
from engine.disk_space import DiskFullError, as_disk_full, is_disk_full, require_free


def _raised_from(cause: BaseException) -> RuntimeError:
    try:
        try:
            raise cause
        except BaseException as inner:
            raise RuntimeError("saving failed") from inner
    except RuntimeError as outer:
        return outer


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        sqlite3.OperationalError("database or disk is full"),
        _raised_from(OSError(errno.ENOSPC, "No space left on device")),
    ],
)
def test_errors_that_say_the_disk_is_full_are_taken_at_their_word(error, tmp_path):
    assert is_disk_full(error) and is_disk_full(error, tmp_path)


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.OperationalError("disk I/O error"),
        RuntimeError("[enforce fail at inline_container.cc:672] . file write failed"),
        RuntimeError("basic_ios::clear: iostream error"),
        OSError(errno.EIO, "Input/output error"),
    ],
)
def test_a_vague_io_error_is_a_full_disk_only_when_space_is_low(error, tmp_path, monkeypatch):
    monkeypatch.setattr(disk_space, "free_mb", lambda path: 10_000)
    assert not is_disk_full(error, tmp_path) and not is_disk_full(error)
    monkeypatch.setattr(disk_space, "free_mb", lambda path: 3)
    assert is_disk_full(error, tmp_path)
    assert as_disk_full(error, tmp_path).message == (
        f"only 3 MB free on {tmp_path}; free space and resume"
    )


def test_other_errors_are_not_a_full_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(disk_space, "free_mb", lambda path: 3)
    for error in (PermissionError(errno.EACCES, "denied"), ValueError("bad"), KeyError("x")):
        assert as_disk_full(error, tmp_path) is None


def test_require_free_names_the_place(tmp_path):
    require_free(tmp_path, 0)
    with pytest.raises(DiskFullError, match=r"^only \d+ MB free on .*; free space and resume$"):
        require_free(tmp_path / "not" / "yet", 10**12)
