"""The app as a Linux desktop application: a freedesktop .desktop entry, an SVG icon and
an AppStream metainfo file, installed per user (no root) by `workbench install-desktop`.
The window uses the same icon (``ICON_PATH``)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from xml.sax.saxutils import escape

from workbench.atomic_write import write_atomically
from workbench.version import package_version

APP_ID = "io.github.alignment_workbench.Workbench"
ICON_PATH = Path(__file__).with_name("icon.svg")
SUMMARY = "Align a language model on your own machine"
DESCRIPTION = (
    "Sample, rank, judge and verify a model's answers, train LoRA adapters with DPO, "
    "GRPO, PPO and more, compare checkpoints and export the aligned model."
)


def data_home(prefix: str | Path | None = None) -> Path:
    if prefix is not None:
        return Path(prefix).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    return Path(xdg) if xdg else Path.home() / ".local" / "share"


def launch_command() -> str:
    """The Exec line: this interpreter running the app, so the entry works from a virtual
    environment that is not on PATH."""
    return " ".join(shlex.quote(part) for part in (sys.executable, "-m", "workbench.cli"))


def desktop_entry() -> str:
    return "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            "Name=Alignment Workbench",
            f"Comment={SUMMARY}",
            f"Exec={launch_command()}",
            f"Icon={APP_ID}",
            "Terminal=false",
            "Categories=Development;Science;ArtificialIntelligence;",
            "Keywords=LLM;alignment;DPO;GRPO;LoRA;fine-tuning;",
            f"StartupWMClass={APP_ID}",
            "",
        ]
    )


def metainfo() -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<component type="desktop-application">
  <id>{APP_ID}</id>
  <name>Alignment Workbench</name>
  <summary>{escape(SUMMARY)}</summary>
  <metadata_license>CC0-1.0</metadata_license>
  <project_license>Apache-2.0</project_license>
  <description>
    <p>{escape(DESCRIPTION)}</p>
  </description>
  <launchable type="desktop-id">{APP_ID}.desktop</launchable>
  <provides>
    <binary>workbench</binary>
  </provides>
  <releases>
    <release version="{escape(package_version())}"/>
  </releases>
  <content_rating type="oars-1.1"/>
</component>
"""


def _write_text(path: Path, text: str) -> Path:
    write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path


def install_desktop_entry(prefix: str | Path | None = None) -> list[Path]:
    """Write the entry, icon and metainfo under the user's data folder; the paths."""
    root = data_home(prefix)
    icon = root / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    write_atomically(icon, lambda tmp: shutil.copyfile(ICON_PATH, tmp))
    written = [
        _write_text(root / "applications" / f"{APP_ID}.desktop", desktop_entry()),
        icon,
        _write_text(root / "metainfo" / f"{APP_ID}.metainfo.xml", metainfo()),
    ]
    # Menus refresh on their own on most desktops; this makes it immediate where it exists.
    if shutil.which("update-desktop-database"):
        subprocess.run(
            ["update-desktop-database", str(root / "applications")],
            check=False,
            capture_output=True,
        )
    return written
