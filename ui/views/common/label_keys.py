"""Labelling keys, shared by the Label view and the Judge view's review queue: buttons
that say their keys, and the keys as shortcuts.

The shortcuts live in the window but fire only while their panel is shown (Qt ignores a
shortcut whose widget is hidden), so a panel's single keys never reach another view. A focused text field takes printable keys, arrows and Ctrl+Z for itself before any
shortcut sees them, so typing a note never labels.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QPushButton, QWidget

# Qt key names, and how a button shows them.
KEY_NAMES = {
    "Left": "←",
    "Right": "→",
    "Up": "↑",
    "Down": "↓",
    "Alt+Up": "Alt+↑",
    "Alt+Down": "Alt+↓",
    "Return": "Enter",
    "Space": "Space",
}


def key_label(keys: tuple[str, ...]) -> str:
    return " or ".join(KEY_NAMES.get(k, k) for k in keys)


def add_shortcuts(
    owner: QWidget, keys: tuple[str, ...], slot: Callable[[], None], description: str = ""
) -> None:
    """`description` is what Help › Keyboard shortcuts lists the keys as."""
    for key in keys:
        shortcut = QShortcut(QKeySequence(key), owner)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.setWhatsThis(description)
        shortcut.activated.connect(slot)


def key_button(
    owner: QWidget,
    text: str,
    keys: tuple[str, ...],
    slot: Callable[[], None],
    shown_keys: tuple[str, ...] | None = None,
) -> QPushButton:
    """`Text (1 or ←)`: a click or any of the keys calls `slot`. The button never takes
    the focus, so Space and Enter keep their labelling meaning."""
    button = QPushButton(f"{text}  ({key_label(shown_keys or keys)})")
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    button.clicked.connect(lambda _checked=False: slot())
    add_shortcuts(owner, keys, slot, text)
    return button
