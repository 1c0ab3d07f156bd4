"""The project's views by name, each built (and its module imported) the first time it is
asked for: the window shows its first view without paying for the other nine, whose
modules pull in pyqtgraph, the charts and most of `workbench` (docs/architecture.md,
"Views and charts").

The stack holds an empty placeholder at each view's place until the view replaces it, so
a view's index in the stack stays its row in the sidebar.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QStackedWidget, QWidget

ViewFactory = Callable[[type], QWidget]
ViewBuilt = Callable[[str, QWidget], None]


def load_class(path: str) -> type:
    """``"package.module:Class"`` -> the class, importing its module."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


class LazyViews(Mapping[str, QWidget]):
    """``views[name]`` builds the view on first access and returns the same widget after;
    ``name in views`` and iteration build nothing."""

    def __init__(
        self,
        stack: QStackedWidget,
        classes: Sequence[tuple[str, str]],
        make: ViewFactory,
        on_built: ViewBuilt,
    ):
        self._stack = stack
        self._names = [name for name, _ in classes]
        self._paths = dict(classes)
        self._make = make
        self._on_built = on_built
        self._built: dict[str, QWidget] = {}
        self._placeholders = {name: QWidget() for name in self._names}
        for name in self._names:
            stack.addWidget(self._placeholders[name])

    def __getitem__(self, name: str) -> QWidget:
        view = self._built.get(name)
        if view is None:
            if name not in self._paths:
                raise KeyError(name)
            view = self._build(name)
        return view

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._paths

    def at(self, row: int) -> QWidget:
        """The view in sidebar row ``row``, built if need be."""
        return self[self._names[row]]

    def is_built(self, name: str) -> bool:
        return name in self._built

    def built(self) -> dict[str, QWidget]:
        """The views built so far, by name (nothing is built by asking)."""
        return dict(self._built)

    def _build(self, name: str) -> QWidget:
        # A first visit costs a view's imports and widgets (up to a few hundred ms).
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            view = self._make(load_class(self._paths[name]))
        finally:
            QApplication.restoreOverrideCursor()
        self._built[name] = view
        placeholder = self._placeholders.pop(name)
        # Insert before the placeholder, then take it out: the view lands at its row.
        self._stack.insertWidget(self._stack.indexOf(placeholder), view)
        self._stack.removeWidget(placeholder)
        placeholder.deleteLater()
        self._on_built(name, view)
        return view
