"""Forms cannot be changed by accident: a number box, combo box or slider that does not have
the keyboard focus ignores the mouse wheel, which scrolls the form around it instead.

Without this, scrolling a long form (the Train settings) over a field changed its value: a
learning rate or top-p moved while the user only meant to scroll, and a change that stays
valid goes unnoticed. One event filter on the application covers every view, present and
future. A field takes the wheel once clicked or tabbed into (strong focus: the wheel no
longer gives focus)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QScrollBar,
)

# Scroll bars are sliders too, and must keep the wheel: the guard leaves them alone.
GUARDED = (QAbstractSpinBox, QComboBox, QAbstractSlider)


class WheelGuard(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not isinstance(watched, GUARDED) or isinstance(watched, QScrollBar):
            return False
        if event.type() == QEvent.Type.Polish:
            watched.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        elif event.type() == QEvent.Type.Wheel and not watched.hasFocus():
            area = _scroll_area(watched)
            if area is not None:  # hand the turn of the wheel to the form's scroll bar
                QCoreApplication.sendEvent(area.verticalScrollBar(), event)
            return True
        return False


def install_wheel_guard(app: QCoreApplication) -> WheelGuard:
    """Install the guard on ``app`` once; the same guard is returned on later calls."""
    guard = app.findChild(WheelGuard)
    if guard is None:
        guard = WheelGuard(app)
        app.installEventFilter(guard)
    return guard


def _scroll_area(widget: QObject) -> QAbstractScrollArea | None:
    parent = widget.parent()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parent()
    return parent
