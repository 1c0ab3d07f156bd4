"""The views at 1280x720 (issue 21): the Train view's samples table keeps several rows
beside its charts, the Judge view's agreement figures stay whole in view, and the Arena's
answers keep a few lines above its ratings."""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontMetrics

from tests.ui.test_arena_view import arena_demo, open_arena  # noqa: F401 (a fixture)
from ui.views.label.completion_pane import MIN_LINES, TEXT_POINTS

SIZE = (1280, 720)


def whole_in_view(widget) -> bool:
    """Shown, and no part of it clipped by the widgets it sits in."""
    return widget.isVisible() and widget.visibleRegion().boundingRect() == widget.rect()


def test_the_train_views_samples_table_shows_several_rows(open_window, project_path, qtbot):
    window = open_window(project_path)
    window.resize(*SIZE)
    monitor = window.show_view("Train").monitor
    table = monitor.samples.table
    row = table.verticalHeader().defaultSectionSize()
    qtbot.waitUntil(lambda: table.viewport().height() >= 3 * row, timeout=5000)
    assert whole_in_view(table)
    assert monitor.charts.height() >= 200  # the charts keep their share


def test_the_judge_views_agreement_figures_stay_whole(open_window, project_path, qtbot):
    window = open_window(project_path)
    window.resize(*SIZE)
    view = window.show_view("Judge")
    qtbot.waitUntil(lambda: whole_in_view(view.agreement), timeout=5000)
    # A run's summary makes the settings above taller: they scroll, the figures stay.
    view.run_panel.summary.setText("\n".join(f"summary line {i}" for i in range(8)))
    qtbot.waitUntil(lambda: view.run_panel.summary.height() > 100, timeout=5000)
    qtbot.waitUntil(lambda: whole_in_view(view.agreement), timeout=5000)


def test_the_arenas_answers_keep_a_few_lines(open_window, qtbot, arena_demo):  # noqa: F811
    window, view = open_arena(open_window, qtbot, arena_demo[0])
    window.resize(*SIZE)
    font = QFont(view.font())
    font.setPointSize(TEXT_POINTS)
    lines = MIN_LINES * QFontMetrics(font).lineSpacing()
    for pane in (view.pair.left, view.pair.right):
        qtbot.waitUntil(lambda p=pane: p.text.viewport().height() >= lines, timeout=5000)
        assert whole_in_view(pane.text) and whole_in_view(pane.meta)


def test_the_models_table_shows_several_rows(open_window, project_path, qtbot):
    window = open_window(project_path)
    window.resize(*SIZE)
    table = window.show_view("Model").models.table
    row = table.verticalHeader().defaultSectionSize()
    qtbot.waitUntil(lambda: table.viewport().height() >= 3 * row, timeout=5000)
    assert whole_in_view(table)
