"""Fixtures for the GUI tests: an isolated settings file, small projects, a main window
that is closed (worker stopped, threads joined) after each test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from workbench.data.models import add_model
from workbench.data.prompts import PromptRecord, add_prompts
from workbench.project import Project


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory):
    """Recent projects and other QSettings go to a temporary folder, never the user's."""
    folder = tmp_path_factory.mktemp("settings")
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    yield folder


def tiny_model_dir(folder: Path) -> Path:
    """A model folder with only a config: enough for the fit estimate, never loaded."""
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "model_type": "llama",
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 128,
        "vocab_size": 1000,
    }
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def make_project(path: Path, train: int = 300, eval_: int = 150) -> Path:
    project = Project.create(path, name=path.name)
    records = [
        PromptRecord(text=f"What is {i} + {i}?", split="train", reference=str(2 * i))
        for i in range(train)
    ] + [
        PromptRecord(
            text=f"Eval question {i}", split="eval", reference=f"answer {i}", tags=["eval"]
        )
        for i in range(eval_)
    ]
    records.append(PromptRecord(text="Find the needle here", split="eval", reference="haystack"))
    add_prompts(project, records)
    model_id = add_model(
        project, "tiny", "local", tiny_model_dir(path.parent / f"{path.name}-model")
    )
    project.set_setting("default_model_id", model_id)
    project.close()
    return path


@pytest.fixture
def project_path(tmp_path) -> Path:
    return make_project(tmp_path / "proj")


@pytest.fixture
def open_window(qtbot):
    """`open_window(path)` -> a shown MainWindow whose project has finished opening."""
    from ui.main_window import MainWindow
    from ui.style import apply_style

    windows = []

    def _open(path: Path) -> MainWindow:
        from PySide6.QtWidgets import QApplication

        apply_style(QApplication.instance())
        window = MainWindow()
        # Closing with jobs running stops them, as it did before the close dialog: a test
        # never blocks on the dialog (pytest-qt closes the window before this fixture does).
        window.close_choice = "stop"
        qtbot.addWidget(window)
        window.show()
        with qtbot.waitSignal(window.projectOpened, timeout=15000):
            window.open_project(path)
        windows.append(window)
        return window

    yield _open
    for window in windows:
        window.close()
