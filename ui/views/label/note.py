"""The note field under a labelling task: text typed here is a note, never a label key.
Enter or Escape hands the keys back to labelling; N comes back to the note."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QLineEdit, QWidget

from ui.views.common.label_keys import add_shortcuts


class NoteField(QLineEdit):
    def __init__(self, panel: QWidget):
        super().__init__(panel, objectName="labelNote")
        self.setPlaceholderText(
            "Note (optional, stored with the label): press N to write, "
            "Enter to go back to labelling"
        )
        self.setClearButtonEnabled(True)
        self.returnPressed.connect(panel.setFocus)
        escape = QShortcut(QKeySequence("Escape"), self, panel.setFocus)
        escape.setContext(Qt.ShortcutContext.WidgetShortcut)
        escape.setWhatsThis("Leave the note field")
        add_shortcuts(panel, ("N",), self.setFocus, "Write a note on the label")

    def take(self) -> str:
        """The note for the label being stored; the field is emptied for the next one."""
        text = self.text().strip()
        self.clear()
        return text
