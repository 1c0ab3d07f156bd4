"""The Judge view (RLAIF): choose or make a judge (a local model or an OpenAI-compatible
endpoint), edit its template with a live preview on a real pair, run it on the project's
pairs as a `label_judge` job, see how its labels agree with human and rule labels, and
review its least sure or contradicted labels by key.

Database work runs on the session's database thread and judging in the worker, so the
window never imports torch and stays responsive while a judge runs.
"""

from __future__ import annotations

import functools

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.judge.templates import DEFAULT_CRITERIA, DEFAULT_PAIR_TEMPLATE
from ui.fitted_scroll import FittedScrollArea
from ui.messages import explain
from ui.poller import JobState
from ui.session import ProjectSession
from ui.style import BAD, MUTED, OK, say
from ui.views.judge.agreement import AgreementPanel
from ui.views.judge.form import JudgeForm
from ui.views.judge.picker import JudgePicker
from ui.views.judge.preview import JudgePreview
from ui.views.judge.review import ReviewPanel
from ui.views.judge.run import JudgeRunPanel
from ui.views.judge.template import TemplateEditor
from ui.widgets import view_header
from workbench.judging import review as judge_review
from workbench.judging import setup as judge_setup
from workbench.judging import store as judges
from workbench.judging.store import JudgeConfig

REVIEWED = {
    "confirm": "confirmed the judge",
    "a": "A better",
    "b": "B better",
    "tie": "tie",
    "both_bad": "both bad",
}


def group(title: str, widget: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.addWidget(widget)
    return box


def unique_name(stem: str, taken: set[str]) -> str:
    return next(f"{stem} {n}" for n in range(1, len(taken) + 2) if f"{stem} {n}" not in taken)


class JudgeView(QWidget):
    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.choices: dict | None = None
        self.judge: JudgeConfig | None = None  # what the form shows, saved or new
        self.picker = JudgePicker()
        self.form = JudgeForm()
        self.template = TemplateEditor()
        self.preview = JudgePreview()
        self.run_panel = JudgeRunPanel(session, self.judge_params)
        self.agreement = AgreementPanel()
        self.review = ReviewPanel()
        self.status = QLabel("", wordWrap=True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self._layout()
        self._connect()
        self.reload_choices()
        self.refresh_results()

    def _layout(self) -> None:
        settings = QWidget()
        settings_layout = QVBoxLayout(settings)
        settings_layout.setContentsMargins(0, 0, 6, 0)
        settings_layout.addWidget(group("Judge", self.picker))
        settings_layout.addWidget(group("Run on pairs", self.run_panel))
        # The agreement figures stay in view below the settings, which scroll when the
        # window is short (at 1280x720 the figures were cut off at the bottom).
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(FittedScrollArea(settings))
        agreement = QHBoxLayout()
        agreement.setContentsMargins(0, 0, 6, 0)  # aligned with the settings above
        agreement.addWidget(group("Agreement", self.agreement))
        left_layout.addLayout(agreement)
        left_layout.addStretch(1)
        left.setMinimumWidth(left.minimumSizeHint().width())
        template_split = QSplitter(Qt.Orientation.Vertical, childrenCollapsible=False)
        template_split.addWidget(self.template)
        template_split.addWidget(self.preview)
        template_page = QWidget()
        QVBoxLayout(template_page).addWidget(template_split)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.form, "Settings")
        self.tabs.addTab(template_page, "Template")
        self.tabs.addTab(self.review, "Review queue")
        splitter = QSplitter(Qt.Orientation.Horizontal, childrenCollapsible=False)
        splitter.addWidget(left)
        splitter.addWidget(self.tabs)
        splitter.setSizes([430, 730])
        splitter.setStretchFactor(1, 1)
        header, _, _ = view_header(
            "Judge",
            "Let an AI judge label pairs, in both orders to cancel position bias; "
            "check it against your labels and review what it was least sure of.",
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.addWidget(header)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)

    def _connect(self) -> None:
        self.picker.selected.connect(self._show_judge)
        self.picker.newRequested.connect(self.new_judge)
        self.picker.saveRequested.connect(self.save)
        self.picker.defaultRequested.connect(self.make_default)
        self.picker.deleteRequested.connect(self.delete)
        self.form.changed.connect(self._update_run)
        self.form.modelChanged.connect(self._model_changed)
        self.template.changed.connect(self._template_changed)
        self.run_panel.finished.connect(self._run_finished)
        self.agreement.judgeChanged.connect(self._identity_changed)
        self.review.orderChanged.connect(self._identity_changed)
        self.review.answered.connect(self._answered)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.choices is not None:  # labels and candidates may have come from elsewhere
            self.reload_choices()
            self.refresh_results()

    # Judges --------------------------------------------------------------------------
    def reload_choices(self, select: str | None = None, identity: str | None = None) -> None:
        self._call(
            judge_setup.judge_choices,
            on_done=functools.partial(self._fill_choices, select, identity),
        )
        self._call(judge_setup.preview_pair, on_done=self._preview_pair)

    def _fill_choices(self, select: str | None, identity: str | None, choices: dict) -> None:
        first = self.choices is None
        self.choices = choices
        self.form.set_models(choices["models"], choices["default_model_id"])
        self.run_panel.set_splits(choices["splits"])
        self.agreement.set_identities(choices["identities"], identity)
        if first or select is not None or not self.picker.is_new():
            self.picker.set_judges(choices["judges"], choices["default"], select)

    @Slot(object)
    def _show_judge(self, config: JudgeConfig | None) -> None:
        if config is not None and config == self.judge:
            return  # the same judge listed again: keep the edits in the form and template
        self.judge = config
        self.form.setEnabled(config is not None)
        if config is not None:
            self.form.show_config(config, saved=True)
            self._load_template(config, keep_text=False)
        self._update_run()

    @Slot(str)
    def new_judge(self, kind: str) -> None:
        if self.choices is None:
            return
        taken = {judge.name for judge in self.choices["judges"]}
        name = unique_name("local judge" if kind == "local" else "endpoint judge", taken)
        config = JudgeConfig(name=name, kind=kind)
        if kind == "local":
            config.model_id = self.choices["default_model_id"]
        self.judge = config
        self.picker.add_new(name)
        self.form.setEnabled(True)
        self.form.show_config(config, saved=False)
        self._load_template(config, keep_text=False)
        self.tabs.setCurrentWidget(self.form)
        self._say("Fill in the settings, then Save judge (Run also works before saving).", MUTED)

    def _load_template(self, config: JudgeConfig, keep_text: bool) -> None:
        self._call(
            judge_setup.own_template,
            config,
            on_done=functools.partial(self._template_loaded, config, keep_text),
            on_error=functools.partial(self._template_failed, config),
        )
        # The margin the judge model asks its verdicts to be read with (judge.json); a
        # broken judge.json is already reported by the template's load.
        self._call(
            judge_setup.suggested_tie_margin,
            config,
            on_done=self.run_panel.tie_margin.setValue,
            on_error=lambda _error: None,
        )

    def _template_failed(self, config: JudgeConfig, error) -> None:
        # e.g. a broken judge.json: never leave the previous judge's template on show
        self.template.set_texts(
            config.template, config.criteria, (DEFAULT_PAIR_TEMPLATE, DEFAULT_CRITERIA)
        )
        self._failed(error)

    def _template_loaded(self, config: JudgeConfig, keep_text: bool, base: tuple) -> None:
        if keep_text and self.template.values() != self.template.base:
            self.template.base = base  # the person's edits stay; only "default" moves
            return
        self.template.set_texts(
            None if keep_text else config.template, None if keep_text else config.criteria, base
        )

    @Slot()
    def _model_changed(self) -> None:
        self._load_template(self.form.config(), keep_text=True)

    def _edited_config(self) -> JudgeConfig:
        config = self.form.config()
        config.template, config.criteria = self.template.stored_values()
        return config

    @Slot()
    def save(self) -> None:
        problem = self.form.problem_text() or self.template.error
        if problem:
            self._say(f"Not saved: {problem}", BAD)
            return
        config = self._edited_config()
        self._call(judges.save_judge, config, on_done=functools.partial(self._saved, config))

    def _saved(self, config: JudgeConfig, _result=None) -> None:
        key = " Its API key stays out of the project." if config.kind == "endpoint" else ""
        self._say(f"Saved judge {config.name}.{key}", OK)
        self.reload_choices(select=config.name)

    @Slot(str)
    def make_default(self, name: str) -> None:
        self._call(
            judges.set_default_judge, name, on_done=functools.partial(self._made_default, name)
        )

    def _made_default(self, name: str, _result=None) -> None:
        self._say(f"{name} is now the project's default judge.", OK)
        self.reload_choices(select=name)

    @Slot(str)
    def delete(self, name: str) -> None:
        answer = QMessageBox.question(
            self,
            "Delete judge?",
            f"Delete the judge {name}? The labels it made stay, with its identity.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self._call(judges.delete_judge, name, on_done=functools.partial(self._deleted, name))

    def _deleted(self, name: str, _result=None) -> None:
        self._say(f"Deleted judge {name}; the labels it made stay.", MUTED)
        self.reload_choices()

    # Template and run ------------------------------------------------------------------
    def _preview_pair(self, pair) -> None:
        self.preview.set_pair(pair)
        self._template_changed()

    @Slot()
    def _template_changed(self) -> None:
        template, criteria = self.template.values()
        local = self.judge is not None and self.judge.kind == "local"
        self.preview.render(template, criteria, local)
        self._update_run()

    def judge_params(self) -> dict:
        """The judge as the form and template show it, saved or not."""
        template, criteria = self.template.values()
        return {
            "judge_config": {
                **self.form.config().to_dict(),
                "template": template,
                "criteria": criteria,
            }
        }

    @Slot()
    def _update_run(self) -> None:
        self.run_panel.set_blocker(self._run_blocker())

    def _run_blocker(self) -> str | None:
        if self.choices is None:
            return "Loading…"
        if self.judge is None:
            return "Add a judge first: New local judge or New endpoint judge."
        problem = self.form.problem_text()
        if problem:
            return f"Fix the judge settings first: {problem}"
        if self.template.error:
            return f"Fix the template first: {self.template.error}"
        if self.judge.mode == "pointwise":
            return (
                f"Judge {self.judge.name} scores single completions (pointwise); labelling "
                "pairs needs a pairwise judge."
            )
        return None

    def _run_finished(self, job: JobState) -> None:
        identity = (job.result or {}).get("identity")
        self.reload_choices(identity=identity)  # the new identity, candidates and figures
        self.refresh_results()

    # Agreement and review --------------------------------------------------------------
    @Slot()
    def _identity_changed(self, *_args) -> None:
        self.refresh_results()

    def refresh_results(self) -> None:
        identity = self.agreement.identity()
        self._call(judge_setup.agreement_figures, identity, on_done=self.agreement.show_figures)
        self._call(
            judge_review.review_rows,
            self.review.current_order(),
            identity,
            on_done=self.review.set_rows,
        )

    @Slot(int, str, float)
    def _answered(self, comparison_id: int, what: str, seconds: float) -> None:
        done = functools.partial(self._reviewed, what)
        if what == "confirm":
            self._call(
                judge_review.confirm,
                comparison_id,
                seconds,
                on_done=done,
                on_error=self._review_failed,
            )
        else:
            self._call(
                judge_review.correct,
                comparison_id,
                what,
                seconds,
                on_done=done,
                on_error=self._review_failed,
            )

    def _review_failed(self, error) -> None:
        self._failed(error)
        self.refresh_results()  # e.g. reviewed meanwhile from another window

    def _reviewed(self, what: str, label_id: int) -> None:
        self._say(
            f"Stored a human label ({REVIEWED[what]}); the AI label is kept, superseded by it.", OK
        )
        self.refresh_results()

    # Plumbing --------------------------------------------------------------------------
    def _call(self, fn, *args, on_done, on_error=None) -> None:
        self.session.runner.call(fn, *args, on_done=on_done, on_error=on_error or self._failed)

    def _failed(self, error) -> None:
        self.review.busy = False
        self._say(explain(error).what, BAD)

    def _say(self, text: str, color: str) -> None:
        say(self.status, text, color)
