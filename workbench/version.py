"""The app's version, from the installed package's metadata (pyproject.toml's version)."""

from __future__ import annotations

from importlib import metadata

DISTRIBUTION = "alignment-workbench"


def package_version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown (not installed as a package)"
