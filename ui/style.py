"""One light, quiet look for the whole app: a stylesheet plus the few colours code needs.

Kept in one place so every view agrees on spacing, colours and the fonts available even
on a bare machine (offscreen rendering has only DejaVu, so the stack falls back to it).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

ACCENT = "#2f6fde"
OK = "#1c7c3c"
BAD = "#b3261e"
WARN = "#8a5a00"
MUTED = "#5f6670"

STYLESHEET = f"""
QMainWindow, QDialog {{ background: #f6f7f9; }}
QWidget {{ color: #1d2127; }}
QWidget#sidebar {{ background: #eceef2; border-right: 1px solid #d9dce2; }}
QLabel#brand {{
    color: {MUTED}; font-weight: 600; padding: 16px 16px 10px 20px; letter-spacing: 0.5px;
}}
QListWidget#nav {{ background: transparent; border: none; outline: 0; }}
QListWidget#nav::item {{
    padding-left: 14px; margin: 2px 8px; border-radius: 6px; color: #2b3038;
}}
QListWidget#nav::item:selected {{ background: {ACCENT}; color: white; }}
QListWidget#nav::item:hover:!selected {{ background: #dfe3ea; }}
QLabel#viewTitle {{ font-size: 17pt; font-weight: 600; }}
QLabel#viewSubtitle, QLabel[muted="true"] {{ color: {MUTED}; }}
QLabel#statValue {{ font-size: 15pt; font-weight: 600; }}
QLabel#statName {{ color: {MUTED}; }}
QFrame#card {{ background: white; border: 1px solid #dfe2e8; border-radius: 8px; }}
QGroupBox {{
    background: white; border: 1px solid #dfe2e8; border-radius: 8px;
    margin-top: 14px; padding: 12px 10px 10px 10px; font-weight: 600;
}}
QGroupBox::title {{
    subcontrol-origin: margin; subcontrol-position: top left; left: 10px; padding: 0 4px;
    color: #2b3038;
}}
QGroupBox QLabel, QGroupBox QCheckBox {{ font-weight: normal; }}
QPushButton {{
    background: white; border: 1px solid #c9ced6; border-radius: 6px; padding: 5px 14px;
    min-height: 20px;
}}
QPushButton:hover {{ background: #f0f3f8; border-color: #aab2bf; }}
QPushButton:pressed {{ background: #e3e8f0; }}
QPushButton:disabled {{ color: #9aa1ab; background: #f3f4f6; border-color: #dde0e5; }}
QPushButton[primary="true"] {{ background: {ACCENT}; color: white; border-color: {ACCENT}; }}
QPushButton[primary="true"]:hover {{ background: #2a63c8; }}
QPushButton[primary="true"]:disabled {{ background: #a9c1ee; border-color: #a9c1ee; }}
QLineEdit, QPlainTextEdit, QTextEdit, QTextBrowser {{
    background: white; border: 1px solid #c9ced6; border-radius: 5px; padding: 3px 6px;
    selection-background-color: {ACCENT};
}}
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus {{ border-color: {ACCENT}; }}
QTableView, QTreeView, QListWidget {{
    background: white; border: 1px solid #dfe2e8; border-radius: 6px;
    gridline-color: #eef0f3; selection-background-color: #d6e4fb; selection-color: #1d2127;
    alternate-background-color: #f8f9fb;
}}
QListWidget::item {{ padding-left: 6px; }}
QHeaderView::section {{
    background: #f1f3f6; border: none; border-bottom: 1px solid #dfe2e8;
    border-right: 1px solid #e6e8ec; padding: 5px 8px; font-weight: 600; color: #3a404a;
}}
QProgressBar {{
    border: 1px solid #c9ced6; border-radius: 4px; background: white; text-align: center;
    max-height: 14px;
}}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 3px; }}
QStatusBar {{ background: #eceef2; border-top: 1px solid #d9dce2; }}
QStatusBar QLabel {{ padding: 0 8px; }}
QFrame#banner {{ background: #fdecea; border: 1px solid #f1b8b3; border-radius: 6px; }}
QFrame#banner QLabel {{ color: {BAD}; }}
QSplitter::handle {{ background: transparent; }}
"""


def apply_style(app: QApplication) -> None:
    app.setStyle("Fusion")  # the same widgets on every platform; native styles ignore parts of QSS
    font = QFont()
    font.setFamilies(["Inter", "Segoe UI", "Helvetica Neue", "Cantarell", "DejaVu Sans"])
    font.setPointSize(10)
    app.setFont(font)
    app.setStyleSheet(STYLESHEET)


def set_primary(button) -> None:
    """Mark the one button a user most likely wants next (blue)."""
    button.setProperty("primary", True)
    button.style().unpolish(button)
    button.style().polish(button)


def say(label, text: str, color: str) -> None:
    """A status line's text in a colour (MUTED, OK, WARN, BAD), selectable so that a reason
    can be copied; cut off by its width, it shows the whole text as its tooltip
    (ui/text_overflow.py)."""
    label.setText(text)
    label.setStyleSheet(f"color: {color};")
    label.setTextInteractionFlags(
        label.textInteractionFlags() | Qt.TextInteractionFlag.TextSelectableByMouse
    )


def set_muted(label) -> None:
    """Grey secondary text (paths, hints)."""
    label.setProperty("muted", True)
