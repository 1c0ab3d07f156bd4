"""Add a model to the project: a local folder, a model already in the Hugging Face cache,
or a Hub id (downloaded by the worker when the machine is online)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.fit import format_bytes
from ui.background import run_in_background
from ui.style import BAD, WARN, set_muted, set_primary
from workbench.data.model_folders import folder_problem

LOCAL, CACHE, HUB = range(3)


def _cached_models(_control):
    from engine.model_source import list_cached_models

    return list_cached_models()


class AddModelDialog(QDialog):
    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setWindowTitle("Add model")
        self.setMinimumSize(600, 420)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._local_tab(), "Local folder")
        self.tabs.addTab(self._cache_tab(), "Hugging Face cache")
        self.tabs.addTab(self._hub_tab(), "Hub id")
        self.name = QLineEdit(placeholderText="A short name shown in the app")
        self.trust = QCheckBox("Allow custom code (trust_remote_code)")
        self.pickle = QCheckBox("Allow pickle weights (.bin, .pt)")
        warning = QLabel(
            "Both run Python from the model's files with your permissions; leave them off "
            "unless you trust the model's authors.",
            wordWrap=True,
        )
        warning.setStyleSheet(f"color: {WARN};")
        self.problem = QLabel(wordWrap=True)
        self.problem.setStyleSheet(f"color: {BAD};")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        add = buttons.addButton("Add model", QDialogButtonBox.ButtonRole.AcceptRole)
        set_primary(add)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Name", self.name)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(form)
        layout.addWidget(self.trust)
        layout.addWidget(self.pickle)
        layout.addWidget(warning)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    def _local_tab(self) -> QWidget:
        tab = QWidget()
        self.folder = QLineEdit(placeholderText="Folder with config.json and *.safetensors")
        self.folder.textChanged.connect(lambda t: self._suggest_name(Path(t.strip()).name))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        note = QLabel(
            "The folder a model was saved to with save_pretrained, or downloaded into: it "
            "holds config.json, the tokenizer files and the weights (*.safetensors). An "
            "exported LoRA adapter folder (adapter_config.json) also works: it loads on "
            "the base model it names.",
            wordWrap=True,
        )
        set_muted(note)
        layout = QVBoxLayout(tab)
        layout.addLayout(row)
        layout.addWidget(note)
        layout.addStretch(1)
        return tab

    def _cache_tab(self) -> QWidget:
        tab = QWidget()
        self.cache_list = QListWidget()
        self.cache_list.currentItemChanged.connect(self._cache_picked)
        self.cache_status = QLabel("Reading the Hugging Face cache…")
        set_muted(self.cache_status)
        layout = QVBoxLayout(tab)
        layout.addWidget(self.cache_status)
        layout.addWidget(self.cache_list, 1)
        task = run_in_background(_cached_models)
        task.succeeded.connect(self._show_cache)
        task.failed.connect(self._cache_failed)
        return tab

    def _hub_tab(self) -> QWidget:
        tab = QWidget()
        self.hub_id = QLineEdit(placeholderText="org/name, e.g. Qwen/Qwen2.5-0.5B-Instruct")
        self.hub_id.textChanged.connect(lambda t: self._suggest_name(t.strip().split("/")[-1]))
        self.revision = QLineEdit(placeholderText="main")
        form = QFormLayout(tab)
        form.addRow("Repository", self.hub_id)
        form.addRow("Revision", self.revision)
        note = QLabel(
            "The worker downloads it when it first loads the model; that needs a network."
        )
        note.setWordWrap(True)
        set_muted(note)
        form.addRow(note)
        return tab

    def _suggest_name(self, name: str) -> None:
        if not self.name.isModified():
            self.name.setText(name)

    @Slot()
    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Model folder")
        if folder:
            self.folder.setText(folder)

    @Slot(object)
    def _show_cache(self, models) -> None:
        self.cache_status.setText(
            f"{len(models)} model(s) in the cache."
            if models
            else "No models in the Hugging Face cache (HF_HUB_CACHE). "
            "Use a local folder or a Hub id."
        )
        for model in models:
            flag = "" if model.has_safetensors else "  · no safetensors"
            if model.problem:
                flag = "  · incomplete"
            elif model.architecture:
                flag += f"  · {model.architecture}"
            item = QListWidgetItem(f"{model.repo_id}   ({format_bytes(model.size_bytes)}{flag})")
            item.setData(Qt.ItemDataRole.UserRole, model)
            self.cache_list.addItem(item)

    @Slot(object)
    def _cache_failed(self, error) -> None:
        self.cache_status.setText(f"Could not read the Hugging Face cache: {error}")

    def _cache_picked(self, item: QListWidgetItem | None, _old=None) -> None:
        if item is not None:
            self._suggest_name(item.data(Qt.ItemDataRole.UserRole).repo_id.split("/")[-1])

    def choice(self) -> dict:
        """The fields of the new `models` row; ValueError says what is missing."""
        tab = self.tabs.currentIndex()
        common = {
            "trust_remote_code": self.trust.isChecked(),
            "allow_pickle": self.pickle.isChecked(),
        }
        if tab == LOCAL:
            folder = Path(self.folder.text().strip()).expanduser()
            problem = (
                folder_problem(folder, self.pickle.isChecked())
                if str(folder) != "."
                else "Choose a folder."
            )
            if problem:
                raise ValueError(problem)
            fields = {"source": "local", "path": str(folder.resolve())}
        elif tab == CACHE:
            item = self.cache_list.currentItem()
            if item is None:
                raise ValueError("Pick a model from the list.")
            model = item.data(Qt.ItemDataRole.UserRole)
            if model.problem:  # never a record of half a model
                raise ValueError(model.problem)
            fields = {"source": "cache", "path": model.repo_id}
        else:
            from engine.model_source import looks_like_repo_id

            repo = self.hub_id.text().strip()
            if not looks_like_repo_id(repo):
                raise ValueError("Type a Hub repository id such as org/name.")
            fields = {
                "source": "hub",
                "path": repo,
                "revision": self.revision.text().strip() or None,
            }
        name = self.name.text().strip() or Path(fields["path"]).name
        return {"name": name, **fields, **common}

    def accept(self) -> None:
        try:
            self.choice()
        except ValueError as exc:
            self.problem.setText(str(exc))
            return
        super().accept()
