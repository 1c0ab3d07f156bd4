"""A preference expressed in the Compare grid becomes a preference label: the baseline's
answer first, the selected model's second, each linked to the checkpoint that wrote it."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from tests.ui.test_compare_view import demo, open_compare, scripted_comparison  # noqa: F401
from workbench.comparing.preferences import record_grid_preference

CLICK = Qt.MouseButton.LeftButton


def test_a_preference_in_the_grid_is_a_label_linked_to_both_writers(open_window, qtbot, demo):  # noqa: F811
    checkpoint = scripted_comparison(demo)
    window, view, _ = open_compare(open_window, qtbot, demo)
    qtbot.waitUntil(lambda: len(view.stored.ids()) == 1)
    view.open_comparison(view.stored.ids()[0])
    qtbot.waitUntil(lambda: view.model.rowCount() == 4)
    bar = view.preference
    view.grid.setCurrentIndex(view.proxy.index(1, 1))  # the baseline's own column
    assert not bar.buttons["other"].isEnabled()
    view.grid.setCurrentIndex(view.proxy.index(1, 2))
    assert bar.buttons["other"].isEnabled()
    qtbot.mouseClick(bar.buttons["other"], CLICK)
    qtbot.waitUntil(lambda: "Stored label" in view.status.text())
    rows = demo.db.execute("SELECT completion_ids, outcome, source FROM comparisons").fetchall()
    assert len(rows) == 1 and rows[0][1:] == ("b", "human")
    ids = json.loads(rows[0][0])
    writers = dict(
        demo.db.execute(
            "SELECT id, checkpoint_id FROM completions WHERE id IN (?, ?)", ids
        ).fetchall()
    )
    assert [writers[i] for i in ids] == [None, checkpoint]
    assert ids == [
        a["completion_id"]
        for a in (
            view.model.rows[1]["entrants"][0]["answers"][0],
            view.model.rows[1]["entrants"][1]["answers"][0],
        )
    ]


def test_a_preference_between_answers_to_different_prompts_is_refused(demo):  # noqa: F811
    scripted_comparison(demo)
    first, other = demo.db.execute(
        "SELECT min(id), max(id) FROM completions WHERE checkpoint_id IS NULL"
    ).fetchone()
    with pytest.raises(ValueError, match="different prompts"):
        record_grid_preference(demo, first, other, "other")
    with pytest.raises(ValueError, match="no completion 99999"):
        record_grid_preference(demo, first, 99999, "other")
    assert demo.db.execute("SELECT count(*) FROM comparisons").fetchone() == (0,)


def test_the_pass_rate_by_step_chart_follows_stored_evaluations_and_exports_png(
    open_window,
    qtbot,
    demo,  # noqa: F811
    tmp_path,
):
    from workbench.comparing.fill import store_summaries
    from workbench.comparing.learning_curve import pass_rate_by_step
    from workbench.comparing.store import load

    scripted_comparison(demo)
    comparison = load(demo, 1)
    store_summaries(demo, comparison, None)
    curve = pass_rate_by_step(demo, "eval", 4)
    assert curve["rules"] == ["format", "answer"]
    (run,) = curve["runs"]
    # Step 0 is the base model the run started from; step 4 its checkpoint: the scripted
    # answers are right on prompts 1 and 2 for the base, 1 and 3 for the checkpoint.
    assert [p["step"] for p in run["points"]] == [0, 4]
    assert [p["pass_rate"]["answer"] for p in run["points"]] == [0.5, 0.5]
    assert pass_rate_by_step(demo, "eval", 5)["runs"] == []  # other prompts: not mixed in

    window, view, _ = open_compare(open_window, qtbot, demo)
    qtbot.waitUntil(lambda: len(view.stored.ids()) == 1)
    view.open_comparison(1)
    qtbot.waitUntil(lambda: view.curves.curve_count() == 1)
    view.below.setCurrentWidget(view.curves)
    target = tmp_path / "curve.png"
    view.export_chart_to(target)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Exported the chart" in view.status.text()


def test_a_checkpoint_column_offers_export_model(open_window, qtbot, demo):  # noqa: F811
    checkpoint = scripted_comparison(demo)
    window, view, _ = open_compare(open_window, qtbot, demo)
    qtbot.waitUntil(lambda: len(view.stored.ids()) == 1)
    view.open_comparison(view.stored.ids()[0])
    qtbot.waitUntil(lambda: view.model.rowCount() == 4)
    assert view.column_checkpoint(1) is None  # the base model: nothing to export
    assert view.column_checkpoint(2) == checkpoint
    dialog = view.export_model(checkpoint)
    assert dialog.checkpoint_id == checkpoint and str(checkpoint) in dialog.windowTitle()
    dialog.close()
