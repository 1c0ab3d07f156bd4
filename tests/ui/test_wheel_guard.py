"""The mouse wheel over a field of a form scrolls the form and never changes the field,
unless the user clicked or tabbed into it first."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QWidget

from ui.wheel_guard import GUARDED, install_wheel_guard
from workbench.demo_project import build_demo_project


def _wheel(widget: QWidget, clicks: int) -> None:
    """Turn the wheel ``clicks`` notches (negative: down) over the middle of ``widget``."""
    centre = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(
        centre,
        QPointF(widget.mapToGlobal(centre.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120 * clicks),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def _fields(form: QWidget) -> list[QWidget]:
    return [w for w in form.findChildren(QWidget) if isinstance(w, GUARDED) and w.isEnabled()]


def _scroll_area(widget: QWidget) -> QAbstractScrollArea:
    parent = widget.parent()
    while not isinstance(parent, QAbstractScrollArea):
        parent = parent.parent()
    return parent


def test_scrolling_the_train_form_over_every_field_changes_no_setting(open_window, tmp_path, qtbot):
    build_demo_project(tmp_path / "demo").close()
    window = open_window(tmp_path / "demo")
    form = window.show_view("Train").form
    for algorithm in ("dpo", "grpo"):  # offline and online forms, each with every field
        form.algorithm.setCurrentIndex(form.algorithm.findData(algorithm))
        before = form.config()
        fields = _fields(form)
        assert len(fields) > 15
        for field in fields:
            for clicks in (1, -1, -3):
                _wheel(field, clicks)
        assert form.config() == before
        assert form.current_algorithm() == algorithm  # the algorithm box itself held too


def test_the_wheel_scrolls_the_form_instead(open_window, tmp_path, qtbot):
    build_demo_project(tmp_path / "demo").close()
    window = open_window(tmp_path / "demo")
    form = window.show_view("Train").form
    editor = form.editors["learning_rate"]
    field = next(w for w in editor.findChildren(QWidget) if isinstance(w, GUARDED))
    bar = _scroll_area(field).verticalScrollBar()
    assert bar.maximum() > 0, "the form must be taller than its view for this test"
    bar.setValue(0)
    _wheel(field, -3)
    assert bar.value() > 0


def test_a_focused_field_takes_the_wheel(qtbot):
    from PySide6.QtWidgets import QSpinBox

    install_wheel_guard(QApplication.instance())
    box = QSpinBox()
    qtbot.addWidget(box)
    box.setValue(5)
    box.show()
    qtbot.waitExposed(box)
    _wheel(box, 1)
    assert box.value() == 5  # not focused: ignored
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    _wheel(box, 1)
    assert box.value() == 6
