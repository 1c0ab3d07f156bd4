"""The Model view: models table, adding models, permissions, the memory-fit estimate."""

from __future__ import annotations

import pytest

from tests.model_shapes import QWEN25_05B
from tests.ui.conftest import tiny_model_dir
from ui.views.model.add_model_dialog import AddModelDialog
from workbench.data.models import list_models
from workbench.project import Project


def model_view(open_window, path, qtbot):
    window = open_window(path)
    view = window.show_view("Model")
    qtbot.waitUntil(lambda: view.models.selected() is not None)
    return view


def models_in(path):
    project = Project.open(path)
    try:
        return list_models(project)
    finally:
        project.close()


def test_fit_estimate_for_the_selected_model(open_window, project_path, qtbot):
    view = model_view(open_window, project_path, qtbot)
    fit = view.fit
    qtbot.waitUntil(lambda: fit.estimate is not None)
    inference = fit.estimate
    assert inference.weights_bytes > 0 and inference.optimizer_bytes == 0
    assert fit.verdict.text().startswith("✓ Fits")
    assert fit.table.item(fit.table.rowCount() - 1, 0).text() == "Total"
    fit.training.setChecked(True)
    qtbot.waitUntil(lambda: fit.estimate is not inference and fit.estimate.optimizer_bytes > 0)
    assert fit.estimate.total_bytes > inference.total_bytes


def test_fit_estimate_explains_a_missing_model(open_window, project_path, tmp_path, qtbot):
    view = model_view(open_window, project_path, qtbot)
    view.models.add(name="gone", source="local", path=str(tmp_path / "nowhere"))
    qtbot.waitUntil(
        lambda: view.models.selected() is not None and view.models.selected().name == "gone"
    )
    qtbot.waitUntil(lambda: "does not exist" in view.fit.verdict.text())
    assert view.fit.estimate is None


def test_add_model_and_set_permissions(open_window, project_path, tmp_path, qtbot):
    view = model_view(open_window, project_path, qtbot)
    folder = tiny_model_dir(tmp_path / "second-model")
    view.models.add(name="second", source="local", path=str(folder))
    qtbot.waitUntil(lambda: view.models.table.rowCount() == 2)
    assert view.models.selected().name == "second"
    assert view.playground.model.name == "second"
    assert not view.models.risk.isVisible()
    view.models.trust.click()
    qtbot.waitUntil(lambda: models_in(project_path)[1].trust_remote_code)
    assert view.models.risk.isVisible()
    assert not models_in(project_path)[1].allow_pickle


def test_add_model_dialog_checks_the_folder(project_path, tmp_path, qtbot):
    from PySide6.QtWidgets import QWidget

    parent = QWidget()
    qtbot.addWidget(parent)
    dialog = AddModelDialog(parent)
    dialog.folder.setText(str(tmp_path))
    with pytest.raises(ValueError, match="config.json"):
        dialog.choice()
    folder = tiny_model_dir(tmp_path / "m")
    dialog.folder.setText(str(folder))
    with pytest.raises(ValueError, match="safetensors"):
        dialog.choice()  # only config.json: weights would be pickle files
    dialog.pickle.setChecked(True)
    choice = dialog.choice()
    assert choice == {
        "name": "m",
        "source": "local",
        "path": str(folder.resolve()),
        "trust_remote_code": False,
        "allow_pickle": True,
    }
    dialog.tabs.setCurrentIndex(2)
    dialog.hub_id.setText("not a repo id!")
    with pytest.raises(ValueError, match="Hub repository id"):
        dialog.choice()
    dialog.hub_id.setText("org/name")
    assert dialog.choice()["source"] == "hub"


@pytest.mark.parametrize("large", [True, False])
def test_the_fit_counts_checkpointing_as_the_run_resolves_it(tmp_path, monkeypatch, large):
    import json

    from ui.views.common import fit_panel

    folder = tmp_path / "model"
    if large:
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps(QWEN25_05B))
    else:
        folder = tiny_model_dir(tmp_path)
    monkeypatch.setattr(fit_panel, "model_dir", lambda _model: folder)
    shape = {"dtype": "float32", "lora_rank": 8, "batch_size": 2, "seq_len": 512}

    def activations(choice: str, training: bool = True) -> int:
        settings = {**shape, "training": training, "gradient_checkpointing": choice}
        return fit_panel.compute_fit(None, None, settings, "cpu")[0].activations_bytes

    assert activations("on") < activations("off")
    # auto: on from 100 M parameters, as a run resolves it; generation never checkpoints.
    assert activations("auto") == activations("on" if large else "off")
    assert activations("on", training=False) == activations("off", training=False)


def test_the_train_form_gives_the_fit_its_checkpointing(open_window, project_path, qtbot):
    window = open_window(project_path)
    view = window.show_view("Train")
    assert view.fit.checkpointing.currentText() == "auto"
    view.form.editors["gradient_checkpointing"].set_value("off")
    qtbot.waitUntil(lambda: view.fit.checkpointing.currentText() == "off")
    assert view.fit.settings()["gradient_checkpointing"] == "off"
    view.form.editors["base_dtype"].set_value("bfloat16")  # the weights' dtype, not autocast's
    qtbot.waitUntil(lambda: view.fit.settings()["dtype"] == "bfloat16")
