"""Labelling by rules (or a judge) from the Label view: the dialog's options become the same
job parameters as `workbench label`, and the job runs through the worker with progress."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer

from tests.ui.test_label_view import open_label_view, rows
from workbench.labels.auto_label import AutoLabelRequest


def test_requests_build_the_command_lines_parameters():
    rules = AutoLabelRequest(by="rules", split="train", limit=5, generate=4, temperature=1.2)
    assert rules.job_kind == "label_rules"
    assert rules.params() == {
        "max_pairs_per_prompt": 4,
        "generate": 4,
        "split": "train",
        "limit": 5,
        "sampling": {"temperature": 1.2},
    }
    judge = AutoLabelRequest(by="judge", judge="demo judge", tie_margin=0.25, seed=3)
    assert judge.job_kind == "label_judge"
    assert judge.params()["judge"] == "demo judge" and judge.params()["tie_margin"] == 0.25
    with pytest.raises(ValueError, match="generated candidates"):
        AutoLabelRequest(by="rules", temperature=1.0)
    with pytest.raises(ValueError, match="judge only"):
        AutoLabelRequest(by="rules", judge="x")
    with pytest.raises(ValueError, match="rules only"):
        AutoLabelRequest(by="judge", rule_ids=(1,))


def test_label_with_rules_from_the_view_through_the_worker(open_window, tmp_path, qtbot):
    from ui.views.label.auto_label_dialog import AutoLabelDialog
    from workbench.demo_project import build_demo_project

    build_demo_project(tmp_path / "demo").close()
    window, view = open_label_view(open_window, qtbot, tmp_path / "demo")
    seen: dict = {}

    def fill_dialog() -> None:
        dialog = view.findChild(AutoLabelDialog)
        if dialog is None:
            QTimer.singleShot(20, fill_dialog)
            return
        assert dialog.by.currentData() == "rules"
        assert not dialog.form.isRowVisible(dialog.judge)  # judge options hidden for rules
        seen["rules"] = dialog.rules.count()
        dialog.split.setCurrentIndex(dialog.split.findData("train"))
        dialog.limit.setValue(4)
        dialog.generate.setValue(4)
        dialog.temperature.setValue(1.5)
        dialog.by.setCurrentIndex(dialog.by.findData("judge"))
        seen["judges"] = dialog.judge.count()  # the demo ships its judge
        seen["judge rows"] = dialog.form.isRowVisible(dialog.judge)
        dialog.by.setCurrentIndex(dialog.by.findData("rules"))
        items = [dialog.rules.item(i) for i in range(dialog.rules.count())]
        ticked = [item for item in items if item.checkState() == Qt.CheckState.Checked]
        for item in ticked:
            item.setCheckState(Qt.CheckState.Unchecked)
        seen["none ticked"] = (dialog.problem.text(), dialog.start_button.isEnabled())
        for item in ticked:
            item.setCheckState(Qt.CheckState.Checked)
        dialog.start_button.click()

    QTimer.singleShot(0, fill_dialog)
    qtbot.mouseClick(view.toolbar.auto_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.auto_job.running or "Added" in view.auto_job.status.text())
    assert seen["rules"] >= 1
    assert seen["judges"] >= 1 and seen["judge rows"]
    assert seen["none ticked"] == ("Tick at least one rule (the Rules view adds rules).", False)
    qtbot.waitUntil(lambda: not view.auto_job.running, timeout=120000)
    status = view.auto_job.status.text()
    assert status.startswith("Added"), f"{status}\n{window.session.link.log_text()[-2000:]}"
    stored = rows(tmp_path / "demo", "SELECT COUNT(*) FROM comparisons WHERE source = 'rule'")
    added = int(status.split()[1].replace(",", ""))
    assert stored[0][0] == added > 0
    job = rows(tmp_path / "demo", "SELECT kind, params FROM jobs WHERE kind = 'label_rules'")
    assert '"limit": 4' in job[0][1] and '"split": "train"' in job[0][1]
