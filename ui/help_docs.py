"""Help › Documentation: README's sections, read from the package's metadata (so an
installed wheel has them) or from the source tree, shown one section at a time."""

from __future__ import annotations

import functools
import re
from importlib import metadata
from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMenu, QTextBrowser, QVBoxLayout, QWidget

DIST = "alignment-workbench"
README = Path(__file__).resolve().parents[1] / "README.md"


def readme_text() -> str:
    """README.md as the package's long description, else the file beside the sources."""
    try:
        description = metadata.metadata(DIST).get_payload()  # type: ignore[attr-defined]
    except metadata.PackageNotFoundError:
        description = ""
    if description and description.strip():
        return str(description)
    try:
        return README.read_text(encoding="utf-8")
    except OSError:
        return ""


def sections(text: str) -> list[tuple[str, str]]:
    """(title, markdown) of each second-level section ("## Title")."""
    parts = re.split(r"(?m)^## (.+)$", text)
    return [(parts[i].strip(), f"## {parts[i]}{parts[i + 1]}") for i in range(1, len(parts), 2)]


class DocDialog(QDialog):
    def __init__(self, parent: QWidget, title: str, markdown: str):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(820, 640)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setMarkdown(markdown)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)


def fill_docs_menu(menu: QMenu, parent: QWidget) -> None:
    """One entry per README section (filled when the menu opens)."""
    menu.clear()
    found = sections(readme_text())
    for title, markdown in found:
        action = menu.addAction(title)
        action.triggered.connect(
            functools.partial(
                lambda t, m, _c=False: DocDialog(parent, t, m).exec(), title, markdown
            )
        )
    if not found:
        menu.addAction("README.md was not found with this installation").setEnabled(False)
