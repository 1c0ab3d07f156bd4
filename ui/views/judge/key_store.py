"""Keeping an endpoint's API key in the OS keyring: the key is typed into a password field,
handed to the keyring on a background thread (a keyring may wait on D-Bus or an unlock
prompt), and cleared from the field. It never reaches the project or the judge settings.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from engine.judge.endpoint_key import store_api_key
from ui.background import run_in_background
from ui.messages import explain
from ui.style import BAD, MUTED, OK, say


class KeyStore(QWidget):
    def __init__(self, base_url: Callable[[], str], parent: QWidget | None = None):
        super().__init__(parent)
        self._base_url = base_url
        self.task = None
        self._url = ""
        self.key = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("API key (kept only in the OS keyring)")
        self.key.setToolTip(
            "The key is not saved with the judge. Either set the environment "
            "variable named above before starting the app, or store the key "
            "in the OS keyring for this base URL"
        )
        self.button = QPushButton("Store key in the OS keyring")
        self.button.clicked.connect(self.store)
        self.status = QLabel("", wordWrap=True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.key, 1)
        row.addWidget(self.button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.status)
        self.status.hide()

    @Slot()
    def store(self) -> None:
        url, key = self._base_url().strip(), self.key.text()
        if not url:
            self._say("Enter the endpoint's base URL first: the key is stored for it.", BAD)
            return
        self.button.setEnabled(False)
        self._say("Storing…", MUTED)
        self._url = url
        self.task = run_in_background(lambda _control: store_api_key(url, key))
        self.task.succeeded.connect(self._stored)
        self.task.failed.connect(self._failed)

    @Slot(object)
    def _stored(self, _result) -> None:
        self.button.setEnabled(True)
        self.key.clear()
        self._say(f"Stored in the OS keyring for {self._url}.", OK)

    @Slot(object)
    def _failed(self, error) -> None:
        self.button.setEnabled(True)
        problem = explain(error)
        self._say(f"{problem.what} {problem.todo}".strip(), BAD)

    def _say(self, text: str, color: str) -> None:
        say(self.status, text, color)
        self.status.setVisible(bool(text))
