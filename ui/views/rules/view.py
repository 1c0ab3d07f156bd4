"""The Rules view: the project's verifiable rules, a form for the selected one, a live
preview of the draft's scores on real completions, and a dry run over fresh samples.

The form edits a DRAFT: the preview and the dry run score the stored rules with the
draft in place of the rule it edits, so an edit shows its effect before it is saved.
Saving, deleting and toggling go through `workbench.rules.store` on the database thread.
Unsaved edits are never dropped silently: switching rule or view asks first."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, QTimer, Slot
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.rules import RuleSpec, rule_class
from ui.messages import explain, show_error
from ui.session import ProjectSession
from ui.style import ACCENT, BAD, MUTED, OK, say, set_muted, set_primary
from ui.views.rules.dry_run import DryRunPanel
from ui.views.rules.form import RuleForm, caption
from ui.views.rules.preview import RulePreview
from ui.views.rules.questions import ask_unsaved, choose_kind, confirm_delete
from ui.views.rules.rule_list import GATE_NOTE, NEW, RuleList
from ui.widgets import view_header
from workbench.rules.store import add_rule, delete_rule, list_rules, update_rule

TABS_STYLE = f"""
QTabWidget#rulesTabs::pane {{
    background: white; border: 1px solid #dfe2e8; border-radius: 8px; top: -1px;
}}
QTabWidget#rulesTabs QTabBar::tab {{
    background: transparent; border: none; border-bottom: 2px solid transparent;
    padding: 6px 16px; margin-right: 4px; color: {MUTED};
}}
QTabWidget#rulesTabs QTabBar::tab:selected {{
    color: #1d2127; border-bottom: 2px solid {ACCENT}; font-weight: 600;
}}
QTabWidget#rulesTabs QTabBar::tab:hover:!selected {{ color: #1d2127; }}
"""


def unique_name(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    i = 2
    while f"{base}_{i}" in taken:
        i += 1
    return f"{base}_{i}"


class RulesView(QWidget):
    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.rules: list[tuple[int, RuleSpec]] = []
        self.loaded = False
        self.current: int | None = None  # the rule in the form: an id, NEW, or None
        self.new_spec: RuleSpec | None = None  # the new rule's spec until it is saved
        self.saving = False
        self.just_saved: int | None = None  # the rule to say "Saved." about

        self.list = RuleList()
        self.list.currentChanged.connect(self._on_list_current)
        self.list.enabledToggled.connect(self._on_enabled_toggled)
        self.list.addRequested.connect(self.add_rule)
        self.list.duplicateRequested.connect(self.duplicate_rule)
        self.list.deleteRequested.connect(self.delete_rule)
        self.form = RuleForm()
        self.form.checked.connect(self._on_checked)
        self.form.edited.connect(self._update_footer)
        self.preview = RulePreview(session)
        self.dry_run = DryRunPanel(session)

        header, _, _ = view_header(
            "Rules",
            "Verifiable rewards: each rule scores a completion from 0 to 1; their "
            "weighted sum is the reward in online RL, a metric in evaluations and a labeller.",
        )
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._left())
        splitter.addWidget(self._tabs())
        splitter.setStretchFactor(0, 0)  # the form needs no more; the tables grow
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([450, 610])
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.addWidget(header)
        layout.addWidget(splitter, 1)
        self.reload()

    # Layout --------------------------------------------------------------------------
    def _left(self) -> QWidget:
        rules_box = QGroupBox("Rules")
        note = QLabel(GATE_NOTE, wordWrap=True)
        note.setTextFormat(Qt.TextFormat.RichText)
        note.setFont(caption("").font())
        rules_layout = QVBoxLayout(rules_box)
        rules_layout.addWidget(self.list)
        rules_layout.addWidget(note)
        self.edit_box = QGroupBox("Rule")
        edit_layout = QVBoxLayout(self.edit_box)
        edit_layout.addWidget(self._form_stack(), 1)
        edit_layout.addLayout(self._footer())
        # A splitter: the form gets the height (a short window left it a small scroll box),
        # and the user can give the list more when a project has many rules.
        left = QSplitter(Qt.Orientation.Vertical, childrenCollapsible=False)
        left.addWidget(rules_box)
        left.addWidget(self.edit_box)
        left.setStretchFactor(0, 0)
        left.setStretchFactor(1, 1)
        left.setSizes([rules_box.minimumSizeHint().height(), 10_000])
        left.setContentsMargins(0, 0, 6, 0)
        left.setMinimumWidth(440)
        return left

    def _form_stack(self) -> QStackedWidget:
        self.form_scroll = scroll = QScrollArea(objectName="ruleFormScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.form)
        scroll.viewport().setAutoFillBackground(False)
        self.form.setAutoFillBackground(False)
        self.empty = QLabel(
            "No rule selected.\nAdd one with Add rule… (Ctrl+N).",
            alignment=Qt.AlignmentFlag.AlignCenter,
        )
        set_muted(self.empty)
        self.form_stack = QStackedWidget()
        self.form_stack.addWidget(self.empty)
        self.form_stack.addWidget(scroll)
        return self.form_stack

    def _footer(self) -> QHBoxLayout:
        self.save_button = QPushButton("Save")
        set_primary(self.save_button)
        self.save_button.setToolTip("Ctrl+S")
        self.save_button.setShortcut(QKeySequence.StandardKey.Save)
        self.save_button.clicked.connect(self._save_clicked)
        self.revert_button = QPushButton("Revert")
        self.revert_button.setToolTip("Discard the edits since the last save")
        self.revert_button.clicked.connect(self.revert)
        self.form_status = QLabel("", wordWrap=True)
        row = QHBoxLayout()
        row.addWidget(self.save_button)
        row.addWidget(self.revert_button)
        row.addWidget(self.form_status, 1)
        return row

    def _tabs(self) -> QTabWidget:
        self.tabs = QTabWidget(objectName="rulesTabs")
        self.tabs.setStyleSheet(TABS_STYLE)
        self.tabs.setDocumentMode(False)
        self.tabs.addTab(self.preview, "Live preview")
        self.tabs.addTab(self.dry_run, "Dry run")
        return self.tabs

    # Loading -------------------------------------------------------------------------
    def reload(self, select: int | None = None) -> None:
        self.session.runner.call(list_rules, on_done=functools.partial(self._show_rules, select))

    def _show_rules(self, select: int | None, rules: list[tuple[int, RuleSpec]]) -> None:
        self.rules, self.loaded = rules, True
        ids = [rule_id for rule_id, _ in rules]
        if select in ids:
            target = select
        elif self.current == NEW or self.current in ids:
            target = self.current
        else:
            target = ids[0] if ids else None
        if target != self.current or not self.has_unsaved():
            self._load(target)  # also refreshes a clean form from the database
        else:
            self.form.taken_names = {s.name for i, s in rules if i != self.current}
            self._refresh_list()
            self._push_draft()

    def stored(self, rule_id: int) -> RuleSpec | None:
        return next((copy.deepcopy(s) for i, s in self.rules if i == rule_id), None)

    def _load(self, key: int | None) -> None:
        """Show rule `key` (an id, or NEW for the new rule) in the form."""
        spec = self.new_spec if key == NEW else self.stored(key) if key is not None else None
        if key != self.current:
            self.form_scroll.verticalScrollBar().setValue(0)
        self.current = key if spec is not None else None
        if spec is None:
            self.form_stack.setCurrentWidget(self.empty)
            self.form.kind = ""
        else:
            taken = {s.name for i, s in self.rules if i != key}
            self.form.load(spec, taken)
            self.form_stack.setCurrentIndex(1)
        self._refresh_list()
        self._push_draft()

    def _refresh_list(self) -> None:
        rows = [(i, s, False) for i, s in self.rules]
        if self.new_spec is not None:
            rows.append((NEW, self.new_spec, True))
        self.list.set_rows(rows, self.current)
        if self.current is not None:
            self._show_draft_in_list()
        self._update_footer()

    # The draft -----------------------------------------------------------------------
    def has_unsaved(self) -> bool:
        return self.current == NEW or (self.current is not None and self.form.dirty())

    def draft_rules(self) -> list[RuleSpec] | None:
        """The rules as the editor has them (the draft in place of the rule it edits);
        None while the draft has an error."""
        if self.current is None:
            return [copy.deepcopy(s) for _, s in self.rules]
        if not self.form.valid or self.form.spec is None:
            return None
        draft = self.form.spec
        specs = [draft if i == self.current else copy.deepcopy(s) for i, s in self.rules]
        return [*specs, draft] if self.current == NEW else specs

    @Slot(bool, object)
    def _on_checked(self, _valid: bool, _spec: object) -> None:
        self._show_draft_in_list()
        self._update_footer()
        self._push_draft()

    def _push_draft(self) -> None:
        specs = self.draft_rules()
        self.preview.set_rules(specs)
        self.dry_run.set_rules(specs)

    def _show_draft_in_list(self) -> None:
        try:
            spec = self.form.collect()
        except ValueError:
            spec = self.form.spec
        if spec is not None and self.current is not None:
            if self.current == NEW:
                self.new_spec = spec
            self.list.update_row(self.current, spec, self.has_unsaved())

    @Slot()
    def reveal_error(self) -> None:
        """Scroll the form to the field in error and put the cursor there."""
        label = self.form.error_widget()
        if label is not None:
            self.form_scroll.ensureWidgetVisible(label, 0, 40)
            self.form.focus_error()

    @Slot()
    def _update_footer(self) -> None:
        editing = self.current is not None
        unsaved = self.has_unsaved()
        self.save_button.setEnabled(editing and unsaved and self.form.valid and not self.saving)
        self.revert_button.setEnabled(editing and unsaved and not self.saving)
        self.edit_box.setTitle(
            f"Rule: {self.form.name.text().strip() or '(no name)'}" if editing else "Rule"
        )
        if unsaved:
            self.just_saved = None
        if self.saving:
            self._say("Saving…", MUTED)
        elif editing and not self.form.valid and self.form.error_text():
            self._say(self.form.error_text(), BAD)
        elif unsaved:
            self._say(
                "New rule, not saved yet."
                if self.current == NEW
                else "Unsaved changes: the preview already uses them.",
                MUTED,
            )
        elif editing and self.current == self.just_saved:
            self._say("✓ Saved.", OK)
        else:
            self._say("", MUTED)

    def _say(self, text: str, color: str) -> None:
        say(self.form_status, text, color)

    # Unsaved edits -------------------------------------------------------------------
    def _resolved(self, action: Callable[[], None]) -> None:
        """Run `action` once unsaved edits are saved or discarded, as the user says."""
        if not self.has_unsaved():
            action()
            return
        answer = ask_unsaved(self, self.form.name.text().strip() or "new rule", self.form.valid)
        if answer == "save":
            self.save(then=action)
        elif answer == "discard":
            self._discard()
            action()

    def may_leave(self) -> bool:
        """Asked by the window before another view or project replaces this one."""
        if not self.has_unsaved():
            return True
        answer = ask_unsaved(self, self.form.name.text().strip() or "new rule", self.form.valid)
        if answer == "save":
            return self.save() or self.saving  # a save under way writes it too
        if answer == "discard":
            self._discard()
            return True
        return False

    def _discard(self) -> None:
        if self.current == NEW:
            self.new_spec = None
            self._load(self.rules[0][0] if self.rules else None)
        else:
            self._load(self.current)

    @Slot(object)
    def _on_list_current(self, key: int | None) -> None:
        if key == self.current:
            return
        self.list.select(self.current)  # until the switch is allowed
        if key is not None:
            self._resolved(functools.partial(self._load, key))

    # Actions -------------------------------------------------------------------------
    @Slot()
    def add_rule(self) -> None:
        kind = choose_kind(self)
        if kind:
            self._resolved(functools.partial(self.new_rule, kind))

    def new_rule(self, kind: str, spec: RuleSpec | None = None) -> None:
        """Start a new, unsaved rule of `kind` (or a copy of `spec`) in the form."""
        taken = {s.name for _, s in self.rules}
        if spec is None:
            spec = RuleSpec(unique_name(kind, taken), kind, rule_class(kind).defaults())
        else:
            spec = copy.deepcopy(spec)
            spec.name = unique_name(f"{spec.name}_copy", taken)
        self.new_spec = spec
        self._load(NEW)
        self.form.name.setFocus()
        self.form.name.selectAll()

    @Slot()
    def duplicate_rule(self) -> None:
        if self.current is not None:
            self._resolved(self._duplicate_now)

    def _duplicate_now(self) -> None:
        spec = self.new_spec if self.current == NEW else self.stored(self.current)
        if spec is not None:
            self.new_rule(spec.kind, spec)

    @Slot()
    def delete_rule(self) -> None:
        key = self.current
        if key is None:
            return
        name = self.form.name.text().strip() or "new rule"
        if not confirm_delete(self, name, key == NEW):
            return
        if key == NEW:
            self.new_spec = None
            self._load(self.rules[0][0] if self.rules else None)
            return
        ids = [i for i, _ in self.rules]
        index = ids.index(key)
        rest = ids[:index] + ids[index + 1 :]
        neighbour = rest[min(index, len(rest) - 1)] if rest else None
        self.rules = [(i, s) for i, s in self.rules if i != key]
        self._load(neighbour)
        self.session.runner.call(
            delete_rule, key, on_done=functools.partial(self._after_write, neighbour)
        )

    def _after_write(self, select: int | None, _result: object) -> None:
        self.reload(select)

    @Slot(int, bool)
    def _on_enabled_toggled(self, key: int, enabled: bool) -> None:
        if key == NEW or key == self.current:
            if key == NEW:
                self.form.enabled.setChecked(enabled)
                return
            self.form.set_saved_enabled(enabled)
        spec = self.stored(key)
        if spec is None:
            return
        spec.enabled = enabled
        self.rules = [(i, spec if i == key else s) for i, s in self.rules]
        self.session.runner.call(
            update_rule, key, spec, on_done=functools.partial(self._after_write, None)
        )

    # Saving --------------------------------------------------------------------------
    @Slot()
    def _save_clicked(self) -> None:
        self.save()

    def save(self, then: Callable[[], None] | None = None) -> bool:
        """Write the draft; `then` runs once it is stored. False if it cannot be saved."""
        if self.current is None or self.saving:
            return False
        if not self.form.validate():
            self.reveal_error()
            return False
        key, spec, raw = self.current, self.form.spec, self.form.raw()
        self.saving = True
        self._update_footer()
        done = functools.partial(self._saved, key, spec, raw, then)
        failed = functools.partial(self._save_failed, spec.name)
        if key == NEW:
            self.session.runner.call(add_rule, spec, on_done=done, on_error=failed)
        else:
            self.session.runner.call(update_rule, key, spec, on_done=done, on_error=failed)
        return True

    def _saved(
        self, key: int, spec: RuleSpec, raw: dict, then: Callable[[], None] | None, result
    ) -> None:
        self.saving = False
        rule_id = result if key == NEW else key
        others = [(i, s) for i, s in self.rules if i != rule_id]
        self.rules = sorted([*others, (rule_id, spec)], key=lambda row: row[0])
        if self.current == key:
            self.current = rule_id
            self.form.mark_saved(raw)
        if key == NEW:
            self.new_spec = None
        self.just_saved = rule_id
        self._refresh_list()
        self.reload(rule_id if then is None else None)
        if then is not None:
            then()

    def _save_failed(self, name: str, error) -> None:
        self.saving = False
        self._update_footer()
        problem = explain(error)
        self._say(f"Not saved: {problem.what}", BAD)
        if not self.isVisible():
            show_error(self, "Cannot save the rule", error, f"Saving rule '{name}'")

    @Slot()
    def revert(self) -> None:
        if self.has_unsaved():
            self._discard()

    # Qt ------------------------------------------------------------------------------
    def event(self, event) -> bool:
        # Ctrl+N means "new rule" here, not the window's "New project" (a ShortcutOverride
        # accepted by a widget turns the shortcut into a key press for it).
        if event.type() == QEvent.Type.ShortcutOverride and event.matches(
            QKeySequence.StandardKey.New
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        if event.matches(QKeySequence.StandardKey.New):
            self.add_rule()
            return
        super().keyPressEvent(event)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.reload()  # rules may have been changed from the command line
        self.preview.reload_rows()
        self.dry_run.reload_choices()
        focus = QApplication.focusWidget()
        if focus is None or not self.isAncestorOf(focus):
            QTimer.singleShot(0, self.list.table.setFocus)
