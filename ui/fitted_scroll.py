"""A scroll area as tall as its content while there is room, shorter (and scrolling) when
there is not, so that what a layout puts below it stays in view on a short window
(the Judge view's agreement figures under its settings at 1280x720)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtWidgets import QFrame, QScrollArea, QSizePolicy, QWidget


class FittedScrollArea(QScrollArea):
    contentResized = Signal()  # the content asks for another height

    def __init__(self, content: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Maximum: never taller than the content asks, free to shrink below it.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.setWidget(content)
        # As wide as the content needs, with room for the vertical scroll bar.
        bar = self.verticalScrollBar().sizeHint().width()
        self.setMinimumWidth(content.minimumSizeHint().width() + bar)

    def sizeHint(self) -> QSize:
        content = self.widget().sizeHint()
        bar = self.verticalScrollBar().sizeHint().width()
        return QSize(content.width() + bar, self.content_height())

    def content_height(self) -> int:
        """The height that shows all the content at the present width (wrapped text
        takes more lines when narrow)."""
        content = self.widget()
        width = self.viewport().width()
        if content.hasHeightForWidth() and width > 0:
            height = content.heightForWidth(width)
        else:
            height = content.sizeHint().height()
        return height + 2 * self.frameWidth()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # The content grew or shrank (a result's summary appeared): ask for its new height.
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()
            self.contentResized.emit()
        return super().eventFilter(watched, event)
