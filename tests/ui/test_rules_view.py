"""The Rules view: the list of stored rules, the generated form with validation as you
type, saving through the database thread, the live preview of the draft, unsaved-edit
questions, and the dry run (submitted to a stand-in worker, or rendered from a result)."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt

from engine.rules import RuleSpec
from tests.ui.conftest import make_project
from ui.views.rules import view as rules_view
from ui.views.rules.dry_run_result import length_reading
from ui.views.rules.rule_list import NEW
from ui.views.rules.scoring import LatestOnly
from workbench.jobs import queue as jobs
from workbench.jobs import worker_registry
from workbench.project import Project
from workbench.rules.store import add_rule, list_rules

RULES = [
    RuleSpec(
        name="format",
        kind="regex",
        weight=0.1,
        gate=True,
        params={"pattern": r"The answer is -?\d+\.", "mode": "fullmatch"},
    ),
    RuleSpec(name="answer", kind="numeric", weight=1.0, params={"extract": "last_number"}),
]


@pytest.fixture
def rules_path(tmp_path):
    path = make_project(tmp_path / "proj", train=6, eval_=2)
    project = Project.open(path)
    for spec in RULES:
        add_rule(project, spec)
    project.close()
    return path


@pytest.fixture
def view(open_window, rules_path, qtbot, monkeypatch):
    # Closing the window with unsaved edits asks; pytest-qt closes it before fixtures end.
    monkeypatch.setattr(rules_view, "ask_unsaved", lambda *_args: "discard")
    window = open_window(rules_path)
    view = window.show_view("Rules")
    qtbot.waitUntil(lambda: view.loaded and view.current is not None)
    return view


def stored(path) -> dict[str, RuleSpec]:
    """The rules as another connection sees them."""
    project = Project.open(path)
    try:
        return {spec.name: spec for _, spec in list_rules(project)}
    finally:
        project.close()


def test_the_view_lists_the_stored_rules(view):
    table = view.list.table
    rows = [[table.item(r, c).text() for c in range(4)] for r in range(table.rowCount())]
    assert rows == [
        ["format", "Regular expression", "0.1", "gate"],
        ["answer", "Numeric answer", "1", ""],
    ]
    assert all(table.item(r, 4).checkState() == Qt.CheckState.Checked for r in range(2))
    assert view.form.name.text() == "format" and view.form.title.text() == "Regular expression"
    pattern = view.form.editors["pattern"]
    assert pattern.edit.text() == r"The answer is -?\d+\." and pattern.toolTip()
    assert not view.save_button.isEnabled()  # nothing edited yet


def test_adding_a_contains_rule_with_ctrl_n_stores_it(view, rules_path, qtbot, monkeypatch):
    monkeypatch.setattr(rules_view, "choose_kind", lambda _parent: "contains")
    view.list.table.setFocus()
    qtbot.keyClick(view.list.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert view.current == NEW and view.form.kind == "contains"
    assert view.list.names()[-1].startswith("contains")  # the unsaved row
    qtbot.waitUntil(lambda: not view.form.errors["substrings"].isHidden())  # [] is not enough
    assert not view.save_button.isEnabled()

    view.form.name.setText("mentions_five")
    view.form.editors["substrings"].edit.setPlainText('["5", "five"]')
    view.form.editors["negate"].check.setChecked(False)
    qtbot.waitUntil(view.save_button.isEnabled)
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.current not in (NEW, None) and not view.saving)
    qtbot.waitUntil(lambda: "mentions_five" in view.list.names())

    rule = stored(rules_path)["mentions_five"]
    assert rule.kind == "contains" and rule.params["substrings"] == ["5", "five"]
    assert rule.params["mode"] == "any" and rule.weight == 1.0 and rule.enabled
    assert not view.has_unsaved() and not view.save_button.isEnabled()


def test_an_invalid_pattern_shows_its_error_and_blocks_saving(view, rules_path, qtbot):
    before = stored(rules_path)
    view.form.editors["pattern"].edit.setText("The answer is (")
    error = view.form.errors["pattern"]
    qtbot.waitUntil(lambda: not error.isHidden())
    assert "invalid regular expression" in error.text()
    assert not view.save_button.isEnabled() and view.revert_button.isEnabled()
    assert "Pattern" in view.form_status.text()
    assert view.save() is False  # even when asked directly (Ctrl+S)
    assert view.session.runner.pending() == 0
    assert stored(rules_path) == before


def test_the_preview_scores_a_typed_completion_with_the_draft(view, qtbot):
    preview = view.preview
    qtbot.waitUntil(lambda: preview.rows_loaded)
    assert not preview.notice.isHidden()  # no stored completions: how to get some
    assert "workbench generate" in preview.command.text()
    preview.adhoc_text.setPlainText("The answer is 5.")
    preview.adhoc_reference.setText("5")
    qtbot.waitUntil(lambda: preview.adhoc_rows == 1 and preview.items[0].reference == "5")
    batch = preview.batch
    assert batch.passed["answer"][0] and batch.passed["format"][0]
    assert batch.total[0] == pytest.approx(1.1)
    answer_column = 2 + list(batch.per_rule).index("answer")
    assert preview.table.item(0, answer_column).text().startswith("✓ 1")

    view.list.table.selectRow(1)  # the numeric rule; nothing unsaved, so no question
    assert view.form.name.text() == "answer"
    view.form.editors["expected"].edit.setText("6")  # a draft: the reference is now ignored
    qtbot.waitUntil(lambda: not preview.batch.passed["answer"][0])
    assert preview.batch.total[0] == pytest.approx(0.1)
    assert preview.table.item(0, answer_column).text().startswith("✗ 0")
    assert view.has_unsaved()


def test_a_result_for_an_older_draft_is_dropped(qtbot):
    runner = LatestOnly()
    release = threading.Event()
    received = []
    runner.finished.connect(lambda generation, result: received.append((generation, result)))
    runner.request(lambda: release.wait(5) and "old draft")
    runner.request(lambda: "dropped: replaced while waiting")
    runner.request(lambda: "new draft")
    release.set()
    qtbot.waitUntil(lambda: not runner.busy)
    assert received == [(3, "new draft")]


def test_switching_rule_with_unsaved_edits_asks(view, qtbot, monkeypatch):
    answers = ["cancel", "discard"]
    asked = []

    def ask(_parent, name, can_save):
        asked.append((name, can_save))
        return answers.pop(0) if answers else "discard"  # "discard" when the window closes

    monkeypatch.setattr(rules_view, "ask_unsaved", ask)
    view.form.weight.setValue(0.5)
    assert view.has_unsaved()
    view.list.table.selectRow(1)
    assert view.form.name.text() == "format" and view.form.weight.value() == 0.5  # stayed
    assert view.list.current() == view.current
    view.list.table.selectRow(1)
    assert view.form.name.text() == "answer" and not view.has_unsaved()  # discarded
    assert asked == [("format", True), ("format", True)]
    asked.clear()

    view.form.weight.setValue(2.0)
    answers.append("cancel")
    window = view.window()
    window.show_view("Data")
    assert asked == [("answer", True)]
    assert window.stack.currentWidget() is view and window.nav.currentItem().text() == "Rules"


def test_duplicate_then_edit_and_save_both(view, rules_path, qtbot):
    view.list.table.selectRow(1)
    view.duplicate_rule()
    assert view.current == NEW and view.form.name.text() == "answer_copy"
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "answer_copy" in stored(rules_path))
    qtbot.waitUntil(lambda: view.current not in (NEW, None) and not view.has_unsaved())
    assert "Saved" in view.form_status.text()

    view.form.weight.setValue(-0.5)  # a penalty
    qtbot.waitUntil(view.save_button.isEnabled)
    assert view.save()
    qtbot.waitUntil(lambda: stored(rules_path)["answer_copy"].weight == -0.5)
    assert stored(rules_path)["answer"].weight == 1.0
    qtbot.waitUntil(lambda: view.list.names() == ["format", "answer", "answer_copy"])


def test_delete_key_asks_then_deletes(view, rules_path, qtbot, monkeypatch):
    confirmed = []
    monkeypatch.setattr(
        rules_view, "confirm_delete", lambda _p, name, _unsaved: confirmed.append(name) or True
    )
    view.list.table.selectRow(1)
    view.list.table.setFocus()
    qtbot.keyClick(view.list.table, Qt.Key.Key_Delete)
    assert confirmed == ["answer"]
    assert view.list.names() == ["format"] and view.form.name.text() == "format"
    qtbot.waitUntil(lambda: set(stored(rules_path)) == {"format"})


def test_the_enabled_toggle_is_stored(view, rules_path, qtbot):
    view.list.table.item(1, 4).setCheckState(Qt.CheckState.Unchecked)
    qtbot.waitUntil(lambda: not stored(rules_path)["answer"].enabled)
    qtbot.waitUntil(lambda: view.preview.specs is not None and not view.preview.specs[1].enabled)


def test_the_dry_run_submits_the_draft_rules_and_shows_the_result(view, rules_path, qtbot):
    project = Project.open(rules_path)
    worker_id = worker_registry.register(project)  # a live worker: the window starts none
    qtbot.waitUntil(lambda: view.session.live_external_worker() is not None)
    panel = view.dry_run
    qtbot.waitUntil(panel.run_button.isEnabled)
    view.form.weight.setValue(0.25)  # unsaved: the dry run still uses it
    qtbot.waitUntil(lambda: bool(panel.specs) and panel.specs[0].weight == 0.25)
    panel.limit.setValue(3)
    panel.n.setValue(2)
    panel.run()
    qtbot.waitUntil(lambda: panel.job_id is not None)
    job = jobs.claim_next(project, worker_id)
    assert job.kind == "rules_dry_run" and job.params["split"] == "train"
    assert job.params["limit"] == 3 and job.params["n"] == 2 and "model_id" in job.params
    assert [r["name"] for r in job.params["rules"]] == ["format", "answer"]
    assert job.params["rules"][0]["weight"] == 0.25
    assert panel.cancel_button.isEnabled() and not panel.run_button.isEnabled()
    jobs.finish(project, job.id, dry_run_result())
    qtbot.waitUntil(lambda: panel.result_view is not None and bool(panel.result_view.result))
    assert panel.run_button.isEnabled() and "Nothing was stored" in panel.status.text()
    project.close()


def dry_run_result() -> dict:
    rewards = [1.1, 1.1, 0.1, 1.1, 0.0, 0.0, 1.1, 0.1]
    samples = [
        {
            "prompt": f"What is {i // 2} + 1?",
            "text": f"The answer is {i}.",
            "reference": "1",
            "num_tokens": 5 + i % 3,
            "total": total,
            "scores": {"format": [1.0, "matched"], "answer": [float(total > 1), "1 matches 1"]},
        }
        for i, total in enumerate(rewards)
    ]
    return {
        "count": 8,
        "prompts": 4,
        "rewards": rewards,
        "lengths": [5.0] * 8,
        "frac_all_equal": 0.5,
        "length_correlation": 0.05,
        "pass_rate": {"format": 0.75, "answer": 0.5},
        "samples": samples,
    }


def test_the_dry_run_panel_renders_a_result(view):
    panel = view.dry_run
    panel.show_result(dry_run_result())
    result = panel.result_view
    assert result.histogram.bars is not None
    assert list(result.histogram.counts) == [2, 2, 4]  # rewards 0, 0.1 and 1.1
    assert result.equal_card.value.text() == "50%"
    assert "group-relative RL" in result.equal_text.text()
    assert "no signal" in result.equal_text.text()
    assert result.length_text.text().startswith("Reward barely depends on length")
    assert "format" in result.pass_rate.text() and "75%" in result.pass_rate.text()
    assert result.samples.rowCount() == 8 and result.samples.columnCount() == 6
    assert "longer completions score higher" in length_reading(0.6)[0].lower()
