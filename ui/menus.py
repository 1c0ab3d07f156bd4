"""The window's menus: File, View (one entry per view, Ctrl+1…), Worker, Help."""

from __future__ import annotations

import functools
from collections.abc import Callable

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from ui.help_docs import fill_docs_menu
from ui.help_shortcuts import add_shortcuts_action
from ui.recent import recent_projects
from ui.worker_settings import ask_idle_timeout


def add_action(menu: QMenu, text: str, slot: Callable[[], object], shortcut=None) -> QAction:
    action = menu.addAction(text)
    action.triggered.connect(lambda _checked=False: slot())
    if shortcut is not None:
        action.setShortcut(shortcut)
    return action


def _fill_recent(menu: QMenu, open_project: Callable[[str], None]) -> None:
    menu.clear()
    for path in recent_projects():
        add_action(menu, path, functools.partial(open_project, path))
    if menu.isEmpty():
        menu.addAction("No recent projects").setEnabled(False)


def build_menus(
    window: QMainWindow, view_names: list[str], shortcuts: dict[str, str] | None = None
) -> tuple[list[QAction], QMenu]:
    """Returns the view actions (checked as views change) and the Open recent menu. Views
    get the keys in `shortcuts` (none if not listed), or without it Ctrl+ their position."""
    menu = window.menuBar().addMenu("&File")
    add_action(menu, "&New project…", window.new_project, QKeySequence.StandardKey.New)
    add_action(menu, "&Open project…", window.ask_open_project, QKeySequence.StandardKey.Open)
    recent = menu.addMenu("Open &recent")
    recent.aboutToShow.connect(lambda: _fill_recent(recent, window.open_project))
    add_action(menu, "Open &demo project", window.open_demo_project)
    menu.addSeparator()
    add_action(menu, "&Quit", window.close, QKeySequence.StandardKey.Quit)

    menu = window.menuBar().addMenu("&View")
    group = QActionGroup(window)
    view_actions = []
    for i, name in enumerate(view_names):
        key = f"Ctrl+{i + 1}" if shortcuts is None else shortcuts.get(name)
        action = add_action(
            menu,
            name,
            functools.partial(window.show_view, name),
            QKeySequence(key) if key else None,
        )
        action.setCheckable(True)
        group.addAction(action)
        view_actions.append(action)

    menu = window.menuBar().addMenu("&Worker")
    add_action(menu, "Show &log…", window.show_worker_log)
    add_action(menu, "&Start worker", lambda: window.session and window.session.ensure_worker())
    add_action(menu, "&Restart worker", window.restart_worker)
    add_action(menu, "S&top worker", lambda: window.session and window.session.link.stop())
    add_action(menu, "Idle &timeout…", lambda: ask_idle_timeout(window, window.session))

    menu = window.menuBar().addMenu("&Help")
    add_shortcuts_action(menu, window)
    docs = menu.addMenu("&Documentation")
    docs.aboutToShow.connect(lambda: fill_docs_menu(docs, window))
    menu.addSeparator()
    add_action(menu, "&About Alignment Workbench", window.show_about)
    return view_actions, recent
