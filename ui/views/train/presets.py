"""Presets (named configs kept in the project) and TOML config files (the file
`workbench train --config` reads). The dialogs are small methods of their own, so tests
call `save_preset(name)`, `import_file(path)` and `export_file(path)` directly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QPushButton,
    QWidget,
)

from ui.messages import explain
from ui.session import ProjectSession
from workbench.training import config_files
from workbench.training import presets as run_presets

TOML_FILTER = "Run config (*.toml);;All files (*)"


def _save_file(_project, config: dict[str, Any], path: str) -> str:
    return str(config_files.save_config_file(config, path))


def _load_file(_project, path: str) -> dict[str, Any]:
    return config_files.load_config_file(path)


class PresetBar(QWidget):
    """`get_config()` gives the form's config; `set_config(dict)` shows one."""

    message = Signal(str, bool)  # text, is a problem

    def __init__(
        self,
        session: ProjectSession,
        get_config: Callable[[], dict[str, Any]],
        set_config: Callable[[dict[str, Any]], None],
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.session, self.get_config, self.set_config = session, get_config, set_config
        self.presets = QComboBox(minimumContentsLength=10, placeholderText="Presets")
        self.presets.setToolTip("Named configs saved in this project")
        self.presets.activated.connect(self._chosen)
        buttons = [
            ("Save as…", self.ask_save_preset, "Keep this config under a name"),
            ("Import…", self.ask_import, "Load a run config file (TOML)"),
            (
                "Export…",
                self.ask_export,
                "Write this config as the TOML file `workbench train PROJECT --config FILE` reads",
            ),
        ]
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.presets, 1)
        for text, slot, tip in buttons:
            button = QPushButton(text, toolTip=tip)
            button.clicked.connect(lambda _c=False, slot=slot: slot())
            layout.addWidget(button)
        self.reload()

    def reload(self) -> None:
        self.session.runner.call(run_presets.list_presets, on_done=self._show)

    def _show(self, names: list[str]) -> None:
        self.presets.clear()
        self.presets.addItems(names)
        self.presets.setCurrentIndex(-1)

    def _chosen(self, index: int) -> None:
        if index >= 0:
            self.load_preset(self.presets.itemText(index))

    def load_preset(self, name: str) -> None:
        self.session.runner.call(
            run_presets.load_preset, name, on_done=self._loaded, on_error=self._failed
        )

    def _loaded(self, config: dict[str, Any]) -> None:
        self.set_config(config)
        self.message.emit("Config loaded.", False)

    def save_preset(self, name: str) -> None:
        self.session.runner.call(
            run_presets.save_preset,
            name,
            self.get_config(),
            on_done=self._saved,
            on_error=self._failed,
        )

    def _saved(self, _result) -> None:
        self.message.emit("Preset saved.", False)
        self.reload()

    def import_file(self, path: str | Path) -> None:
        self.session.runner.call(_load_file, str(path), on_done=self._loaded, on_error=self._failed)

    def export_file(self, path: str | Path) -> None:
        self.session.runner.call(
            _save_file, self.get_config(), str(path), on_done=self._exported, on_error=self._failed
        )

    def _exported(self, path: str) -> None:
        self.message.emit(f"Wrote {path}", False)

    def _failed(self, error) -> None:
        problem = explain(error)
        self.message.emit(f"{problem.what} {problem.todo}".strip(), True)

    # Dialogs --------------------------------------------------------------------------
    def ask_save_preset(self) -> None:
        name, ok = QInputDialog.getText(
            self, "Save preset", "Preset name:", text=self.presets.currentText()
        )
        if ok and name.strip():
            self.save_preset(name.strip())

    def ask_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import run config", str(self.session.path), TOML_FILTER
        )
        if path:
            self.import_file(path)

    def ask_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export run config", str(self.session.path / "run.toml"), TOML_FILTER
        )
        if path:
            self.export_file(path)
