"""The questions the Rules view asks: which kind to add, whether to delete, and what to do
with unsaved edits. Module functions, so tests can answer them without a dialog."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from ui.views.rules.kind_dialog import RuleKindDialog


def choose_kind(parent: QWidget) -> str | None:
    dialog = RuleKindDialog(parent)
    return dialog.kind() if dialog.exec() else None


def confirm_delete(parent: QWidget, name: str, unsaved: bool) -> bool:
    text = (
        f"Discard the new rule '{name}'? It was never saved."
        if unsaved
        else f"Delete the rule '{name}'? Scores it gave earlier stay in the project; it will "
        "no longer score anything."
    )
    answer = QMessageBox.question(parent, "Delete rule?", text)
    return answer == QMessageBox.StandardButton.Yes


def ask_unsaved(parent: QWidget, name: str, can_save: bool) -> str:
    """'save', 'discard' or 'cancel'."""
    buttons = QMessageBox.StandardButton
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Unsaved changes",
        f"The rule '{name}' has changes that are not saved.",
        parent=parent,
    )
    if can_save:
        box.setStandardButtons(buttons.Save | buttons.Discard | buttons.Cancel)
        box.setDefaultButton(buttons.Save)
    else:
        box.setInformativeText("It has an error, so it cannot be saved as it is.")
        box.setStandardButtons(buttons.Discard | buttons.Cancel)
        box.setDefaultButton(buttons.Cancel)
    box.exec()
    clicked = box.standardButton(box.clickedButton())
    return {buttons.Save: "save", buttons.Discard: "discard"}.get(clicked, "cancel")
