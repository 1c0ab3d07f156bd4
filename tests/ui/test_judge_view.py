"""The Judge view: template checking and preview, an endpoint judge saved without its key,
the demo model judging through a real worker, Cancel, the agreement figures, and the
review queue answered by keys."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from tests.engine.judge.fake_openai import FakeEndpoint, chat_reply
from tests.ui.conftest import make_project
from workbench.data.completions import CompletionRecord, add_completions
from workbench.data.prompts import PromptRecord, add_prompts, list_prompts
from workbench.judging.store import JudgeConfig, get_judge, save_judge
from workbench.labels.comparisons import active_comparisons, add_comparison, get_comparison
from workbench.project import Project

Key = Qt.Key
CLICK = Qt.MouseButton.LeftButton
DEMO_TEMPLATE = "{prompt}\nA: {first}\nB: {second}\nBetter:"  # fits the demo model's context
SECRET = "sk-test-5f1d0c9e8b7a"
REPO = Path(__file__).resolve().parents[2]


def open_judge(open_window, qtbot, path: Path):
    window = open_window(path)
    window.activateWindow()
    view = window.show_view("Judge")
    qtbot.waitUntil(
        lambda: (
            view.choices is not None
            and view.picker.name() is not None
            or view.choices is not None
            and not view.choices["judges"]
        )
    )
    return window, view


def answers(project: Project, prompts: int, offsets=(0, 1, -10)) -> None:
    """Per train prompt, completions off its answer by ``offsets`` (one pair per two)."""
    for prompt in list_prompts(project, split="train", limit=prompts):
        answer = int(prompt.reference)
        add_completions(
            project, [CompletionRecord(prompt.id, f"The answer is {answer + o}.") for o in offsets]
        )


def judge_project(path: Path) -> Path:
    """The GUI tests' project with a local judge (its model is never loaded) and a pair."""
    make_project(path, train=4, eval_=1)
    project = Project.open(path)
    save_judge(project, JudgeConfig(name="tiny judge", model_id=1), make_default=True)
    answers(project, 1, (0, 1))
    project.close()
    return path


def test_an_invalid_template_disables_run_and_says_why(open_window, tmp_path, qtbot):
    path = judge_project(tmp_path / "p")
    window, view = open_judge(open_window, qtbot, path)
    panel, editor = view.run_panel, view.template
    qtbot.waitUntil(lambda: panel.run_button.isEnabled())
    view.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: "The answer is 0." in view.preview.orders[0].toPlainText())
    stored = view.preview.orders[0].toPlainText()
    assert stored.index("is 0.") < stored.index("is 1.")  # as stored, then swapped
    swapped = view.preview.orders[1].toPlainText()
    assert swapped.index("is 1.") < swapped.index("is 0.")

    editor.template.setPlainText("Q: {prompt}\nA: {first}\nWhich?")
    qtbot.waitUntil(lambda: not panel.run_button.isEnabled())
    reason = panel.run_button.toolTip()
    assert "lacks the placeholder {second}" in reason and panel.status.text() == reason
    assert "lacks the placeholder {second}" in editor.check.text()
    assert "fix the template" in view.preview.orders[0].toPlainText()
    editor.template.setPlainText("{prompt} {first} {second} {answer}")
    qtbot.waitUntil(lambda: "unknown placeholder {answer}" in panel.run_button.toolTip())

    qtbot.mouseClick(editor.reset_button, CLICK)
    qtbot.waitUntil(lambda: panel.run_button.isEnabled())
    assert editor.stored_values() == (None, None) and panel.status.text() == ""
    editor.template.setPlainText("Q: {prompt}\n1) {first}\n2) {second}\n{criteria}")
    qtbot.waitUntil(lambda: "1) The answer is 0." in view.preview.orders[0].toPlainText())
    qtbot.mouseClick(view.picker.save_button, CLICK)
    qtbot.waitUntil(lambda: "Saved judge tiny judge" in view.status.text())
    project = Project.open(path)
    judge = get_judge(project, "tiny judge")
    project.close()
    assert judge.template.startswith("Q: {prompt}") and judge.criteria is None


@pytest.fixture
def memory_keyring():
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1

        def __init__(self):
            super().__init__()
            self.passwords = {}

        def get_password(self, service, username):
            return self.passwords.get((service, username))

        def set_password(self, service, username, password):
            self.passwords[(service, username)] = password

        def delete_password(self, service, username):
            self.passwords.pop((service, username))

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_saving_an_endpoint_judge_stores_no_key(open_window, tmp_path, qtbot, memory_keyring):
    path = make_project(tmp_path / "p", train=3, eval_=1)
    window, view = open_judge(open_window, qtbot, path)
    assert "Add a judge first" in view.run_panel.status.text()
    qtbot.mouseClick(view.picker.new_endpoint, CLICK)
    form = view.form
    form.base_url.setText("https://judge.example.com/v1/")
    form.model.setText("judge-large")
    form.key_env.setText(SECRET)  # the key pasted where its variable's name belongs
    qtbot.waitUntil(lambda: "NAME of the environment variable" in view.run_panel.status.text())
    qtbot.mouseClick(view.picker.save_button, CLICK)
    assert view.status.text().startswith("Not saved: api_key_env is the NAME")

    form.key_env.setText("JUDGE_KEY")
    form.key_store.key.setText(SECRET)
    qtbot.mouseClick(form.key_store.button, CLICK)
    qtbot.waitUntil(lambda: "Stored in the OS keyring" in form.key_store.status.text())
    assert form.key_store.key.text() == ""
    assert memory_keyring.passwords == {
        ("alignment-workbench", "https://judge.example.com/v1"): SECRET
    }
    form.max_requests.setValue(50)
    assert view.run_panel.run_button.isEnabled()
    qtbot.mouseClick(view.picker.save_button, CLICK)
    qtbot.waitUntil(lambda: "Saved judge endpoint judge 1" in view.status.text())
    qtbot.waitUntil(lambda: view.picker.name() == "endpoint judge 1")
    qtbot.mouseClick(view.picker.default_button, CLICK)
    qtbot.waitUntil(lambda: "(default)" in view.picker.combo.currentText())
    assert not view.picker.default_button.isEnabled()
    window.close()
    for file in path.rglob("*"):
        assert not file.is_file() or SECRET.encode() not in file.read_bytes(), file
    project = Project.open(path)
    judge = get_judge(project, "endpoint judge 1")
    project.close()
    assert (judge.kind, judge.base_url, judge.model) == (
        "endpoint",
        "https://judge.example.com/v1/",
        "judge-large",
    )
    assert (judge.api_key_env, judge.max_requests, judge.template) == ("JUDGE_KEY", 50, None)


def test_deleting_a_judge_asks_first_and_keeps_its_labels(
    open_window, tmp_path, qtbot, monkeypatch
):
    path = judge_project(tmp_path / "p")
    label(path, [((2, 1), "a", "ai", {"judge": "local:tiny#1", "confidence": 0.9})])
    window, view = open_judge(open_window, qtbot, path)
    asked = []
    monkeypatch.setattr(
        QMessageBox,
        "question",
        lambda *args: asked.append(args[2]) or QMessageBox.StandardButton.No,
    )
    qtbot.mouseClick(view.picker.delete_button, CLICK)
    assert "tiny judge" in asked[0] and view.picker.name() == "tiny judge"
    monkeypatch.setattr(QMessageBox, "question", lambda *args: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(view.picker.delete_button, CLICK)
    qtbot.waitUntil(lambda: view.picker.name() is None)
    assert "Add a judge first" in view.run_panel.status.text()
    assert "labels it made stay" in view.status.text()
    assert len(view.review.table.rows) == 1


def test_a_keyring_that_cannot_store_says_what_to_do(qtbot):
    import keyring
    from keyring.backends import fail

    from ui.views.judge.key_store import KeyStore

    url = [""]
    store = KeyStore(lambda: url[0])
    qtbot.addWidget(store)
    store.key.setText(SECRET)
    store.store()
    assert "Enter the endpoint's base URL first" in store.status.text()
    url[0] = "https://judge.example.com/v1"
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        qtbot.mouseClick(store.button, CLICK)
        qtbot.waitUntil(lambda: store.button.isEnabled() and "Storing" not in store.status.text())
    finally:
        keyring.set_keyring(previous)
    assert "could not store the API key" in store.status.text()
    assert "environment variable" in store.status.text()
    assert store.key.text() == SECRET  # kept, so it can be stored once the keyring works


def demo_path(tmp_path: Path, prompts: int) -> Path:
    """The demo project, its model saved as a judge, and 3 candidates for ``prompts``."""
    from workbench.demo_project import build_demo_project

    project = build_demo_project(tmp_path / "demo")
    save_judge(
        project,
        JudgeConfig(name="arith", model_id=1, template=DEMO_TEMPLATE, criteria=""),
        make_default=True,
    )
    answers(project, prompts)
    project.close()
    return tmp_path / "demo"


def test_the_demo_model_judges_through_a_real_worker(open_window, tmp_path, qtbot):
    path = demo_path(tmp_path, prompts=3)
    window, view = open_judge(open_window, qtbot, path)
    assert view.picker.name() == "arith"
    totals = []
    window.session.jobsChanged.connect(
        lambda jobs: totals.extend(
            j.progress_total for j in jobs.values() if j.message == "judging"
        )
    )
    panel = view.run_panel
    panel.limit.setValue(3)
    qtbot.waitUntil(lambda: panel.run_button.isEnabled())
    qtbot.mouseClick(panel.run_button, CLICK)
    qtbot.waitUntil(lambda: panel.running and panel.cancel_button.isEnabled())
    assert panel.progress.isVisible() and panel.cancel_button.isVisible()
    qtbot.waitUntil(lambda: not panel.running, timeout=90000)
    log = window.session.link.log_text()[-2000:]
    assert "Judged 9 pairs of 3 prompts: 9 labels added" in panel.summary.text(), (
        f"{panel.status.text()}\n{log}"
    )
    assert 9 in totals  # the bar followed the job over its 9 pairs
    assert "Mean confidence" in panel.summary.text()
    project = Project.open(path)
    labels = active_comparisons(project, "ai")
    project.close()
    assert len(labels) == 9
    identity = labels[0].judge
    assert identity.startswith("local:workbench-demo-arith#")
    assert all(c.judge == identity and 0.5 <= c.confidence <= 1.0 for c in labels)
    assert identity in panel.summary.text()
    qtbot.waitUntil(lambda: view.agreement.identity() == identity)
    qtbot.waitUntil(lambda: len(view.review.table.rows) == 9)
    shown = [row.confidence for row in view.review.table.rows]
    assert shown == sorted(shown)  # least confident first
    assert "9 active AI labels" in view.agreement.count.text()


def slow_endpoint(_request):
    reply = chat_reply("A", {"A": 0.7, "B": 0.3})
    reply.delay_s = 0.2
    return reply


def test_cancel_stops_a_judge_run(open_window, tmp_path, qtbot):
    path = tmp_path / "p"
    project = Project.create(path)
    ids = add_prompts(project, [PromptRecord(text=f"Q{i}", split="train") for i in range(3)])
    for prompt_id in ids:  # 4 candidates: 6 pairs a prompt, 18 in all, 36 requests
        add_completions(project, [CompletionRecord(prompt_id, f"c{k}") for k in range(4)])
    with FakeEndpoint(slow_endpoint) as server:
        save_judge(
            project,
            JudgeConfig(
                name="slow", kind="endpoint", base_url=server.url, model="fake", concurrency=1
            ),
        )
        project.close()
        window, view = open_judge(open_window, qtbot, path)
        panel = view.run_panel
        panel.pairs.setValue(6)
        qtbot.waitUntil(lambda: panel.run_button.isEnabled())
        qtbot.mouseClick(panel.run_button, CLICK)
        qtbot.waitUntil(
            lambda: panel.progress.maximum() == 18 and panel.progress.value() >= 2, timeout=30000
        )
        qtbot.mouseClick(panel.cancel_button, CLICK)
        qtbot.waitUntil(lambda: not panel.running, timeout=20000)
        sent = len(server.requests)
    assert panel.status.text().startswith("Cancelled"), panel.status.text()
    assert "Stopped before" in panel.summary.text()
    assert sent < 36
    project = Project.open(path)
    stored = len(active_comparisons(project, "ai"))
    project.close()
    assert 2 <= stored < 18
    assert f"{stored} labels added" in panel.summary.text()


def six_pairs(path: Path) -> tuple[Path, list[int]]:
    """Six pairs of one prompt; returns the path and the completion ids."""
    project = Project.create(path)
    prompt = add_prompts(project, [PromptRecord(text="What is best?", split="train")])[0]
    ids = add_completions(project, [CompletionRecord(prompt, f"answer {i}") for i in range(12)])
    project.close()
    return path, ids


def label(path: Path, rows: list[tuple]) -> list[int]:
    project = Project.open(path)
    made = [
        add_comparison(project, 1, list(ids), outcome, source, **extra)
        for ids, outcome, source, extra in rows
    ]
    project.close()
    return made


def test_agreement_shows_percent_and_kappa(open_window, tmp_path, qtbot):
    path, ids = six_pairs(tmp_path / "p")
    pairs = [(ids[i], ids[i + 1]) for i in range(0, 12, 2)]
    ai, human = ["a", "a", "b", "b", "tie", "a"], ["a", "b", "b", "b", "tie", "a"]
    rows = []
    for pair, said_ai, said_human in zip(pairs, ai, human, strict=True):
        rows.append((pair, said_ai, "ai", {"judge": "j", "confidence": 0.8}))
        rows.append((pair, said_human, "human", {}))
    rows.append((pairs[0], "b", "ai", {"judge": "k", "confidence": 0.6}))  # against the human
    label(path, rows)
    window, view = open_judge(open_window, qtbot, path)
    values = view.agreement.values
    # p_o = 5/6, p_e = 13/36: kappa = 17/23 (see tests/workbench/test_agreement.py)
    # All AI labels: the latest one of a pair counts, so k's verdict replaces j's on pair 0.
    qtbot.waitUntil(lambda: values["human"].text().startswith("66.7% agree"))
    combo = view.agreement.judge
    combo.setCurrentIndex(combo.findData("j"))
    qtbot.waitUntil(lambda: values["human"].text() == "83.3% agree · kappa 0.74 · 6 pairs compared")
    assert values["rule"].text() == "no pairs labelled by both yet"
    assert values["review"].text() == "none reviewed yet"
    combo.setCurrentIndex(combo.findData("k"))
    qtbot.waitUntil(lambda: values["human"].text() == "0.0% agree · kappa 0.00 · 1 pair compared")


def press(qtbot, view, key) -> None:
    qtbot.keyClick(QApplication.focusWidget() or view, key)
    qtbot.waitUntil(lambda: not view.review.busy, timeout=10000)


def test_the_review_queue_orders_and_takes_confirm_and_overrides(open_window, tmp_path, qtbot):
    path, ids = six_pairs(tmp_path / "p")
    pairs = [[ids[i], ids[i + 1]] for i in range(0, 12, 2)]
    wrong, unsure, middling, other, spare = label(
        path,
        [
            (pairs[0], "a", "ai", {"judge": "j", "confidence": 0.95}),
            (pairs[1], "a", "ai", {"judge": "j", "confidence": 0.55}),
            (pairs[2], "b", "ai", {"judge": "j", "confidence": 0.7}),
            (pairs[3], "b", "ai", {"judge": "k", "confidence": 0.6}),
            (pairs[4], "a", "ai", {"judge": "j", "confidence": 0.9}),
            (pairs[0], "b", "human", {}),
            (pairs[2], "b", "rule", {"judge": "rules"}),
        ],
    )[:5]
    window, view = open_judge(open_window, qtbot, path)
    view.tabs.setCurrentWidget(view.review)
    review = view.review
    qtbot.waitUntil(lambda: len(review.table.rows) == 5)
    assert [r.comparison_id for r in review.table.rows] == [unsure, other, middling, spare, wrong]
    assert review.table.current().comparison_id == unsure
    review.order.setCurrentIndex(review.order.findData("disagreement"))
    qtbot.waitUntil(lambda: review.table.rows[0].comparison_id == wrong)
    assert review.table.current().comparison_id == wrong
    assert "contradicted by the human label" in review.verdict.text()
    assert review.panes[0].text.toPlainText() == "answer 0"
    assert "judge's pick, 95% sure" in review.panes[0].picks.text()
    assert review.panes[1].picks.text() == "the person's pick"

    press(qtbot, view, Key.Key_C)  # confirm the judge, against the person's earlier label
    qtbot.waitUntil(lambda: len(review.table.rows) == 4)
    press(qtbot, view, Key.Key_Down)
    second = review.table.current().comparison_id
    press(qtbot, view, Key.Key_Up)
    first = review.table.current().comparison_id
    assert "Right better  (2 or →)" in review.answer_buttons[1].text()  # as in the Label view
    press(qtbot, view, Key.Key_Right)  # right (shown second) better
    qtbot.waitUntil(lambda: len(review.table.rows) == 3)
    assert review.table.current().comparison_id == second  # the next one moved up
    press(qtbot, view, Key.Key_T)
    qtbot.waitUntil(lambda: len(review.table.rows) == 2)
    press(qtbot, view, Key.Key_B)
    qtbot.waitUntil(lambda: len(review.table.rows) == 1)
    qtbot.waitUntil(
        lambda: view.agreement.values["review"].text() == "25.0% confirmed · 1 of 4 reviewed"
    )

    project = Project.open(path)
    try:
        said = {}
        for ai_id in (wrong, first, second):
            ai_label = get_comparison(project, ai_id)
            human = get_comparison(project, ai_label.superseded_by)
            assert human.source == "human" and human.completion_ids == ai_label.completion_ids
            said[ai_id] = human.outcome
        assert said == {wrong: "a", first: "b", second: "tie"}
        assert len(active_comparisons(project, "ai")) == 1
    finally:
        project.close()


def test_the_review_pane_shows_the_reference_and_says_left_and_right(open_window, tmp_path, qtbot):
    project = Project.create(tmp_path / "p")
    prompt = add_prompts(project, [PromptRecord("What is 6 * 7?", split="train", reference="42")])
    first, second = add_completions(
        project, [CompletionRecord(prompt[0], t) for t in ("It is 42.", "It is 41.")]
    )
    add_comparison(project, prompt[0], [first, second], "a", "ai", judge="j", confidence=0.7)
    project.close()
    window, view = open_judge(open_window, qtbot, tmp_path / "p")
    view.tabs.setCurrentWidget(view.review)
    review = view.review
    qtbot.waitUntil(lambda: review.table.current() is not None)
    assert review.reference.text() == "Reference answer: 42" and review.reference.isVisible()
    assert [pane.title.text().split(":")[0] for pane in review.panes] == ["Left", "Right"]
    assert "Left better" in review.answer_buttons[0].text()


def test_the_judge_view_at_work_does_not_import_torch(tmp_path):
    """Templates, previews, judge.json and the figures are read without torch; a fresh
    interpreter, since other tests in this process may have imported it."""
    path = judge_project(tmp_path / "p")
    script = textwrap.dedent(f"""
        import os, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from PySide6.QtCore import QSettings
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, {str(tmp_path)!r})
        from ui.app import make_app
        from ui.main_window import MainWindow
        app = make_app([])
        window = MainWindow({str(path)!r})
        window.show()
        while window.session is None:
            app.processEvents()
        view = window.show_view("Judge")
        while "The answer is 0." not in view.preview.orders[0].toPlainText():
            app.processEvents()
        for tab in range(view.tabs.count()):
            view.tabs.setCurrentIndex(tab)
            app.processEvents()
        view.new_judge("endpoint")
        app.processEvents()
        print("torch" in sys.modules, "transformers" in sys.modules)
        window.close()
        """)
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["False", "False"]


def test_the_tie_margin_starts_at_the_judge_models_suggestion(open_window, tmp_path, qtbot):
    import json

    from workbench.data.models import get_model

    path = judge_project(tmp_path / "p")
    project = Project.open(path)
    folder = Path(get_model(project, 1).load_spec()["path"])
    project.close()
    (folder / "judge.json").write_text(json.dumps({"mode": "pairwise", "tie_margin": 0.3}))
    window, view = open_judge(open_window, qtbot, path)
    qtbot.waitUntil(lambda: abs(view.run_panel.tie_margin.value() - 0.3) < 1e-9)
    assert view.run_panel.params()["tie_margin"] == pytest.approx(0.3)


def test_the_demo_judge_runs_on_its_own_model_after_the_view_reloads(open_window, tmp_path, qtbot):
    """The model list is refilled each time the view is shown; the judge's model must stay
    selected (it once fell back to the first model, the demo arithmetic model)."""
    from workbench.demo_project import build_demo_project

    project = build_demo_project(tmp_path / "demo")
    answers(project, 2)
    project.close()
    window, view = open_judge(open_window, qtbot, tmp_path / "demo")
    assert view.picker.name() == "demo-judge" and view.form.config().model_id == 2
    window.show_view("Data")
    view = window.show_view("Judge")  # shown again: the lists reload
    qtbot.waitUntil(lambda: window.session.runner.pending() == 0)
    assert view.form.config().model_id == 2
    qtbot.waitUntil(lambda: abs(view.run_panel.tie_margin.value() - 0.25) < 1e-9)
    panel = view.run_panel
    panel.limit.setValue(2)
    qtbot.waitUntil(lambda: panel.run_button.isEnabled())
    qtbot.mouseClick(panel.run_button, CLICK)
    qtbot.waitUntil(lambda: panel.running)
    qtbot.waitUntil(lambda: not panel.running, timeout=90000)
    assert "labels added" in panel.summary.text(), panel.status.text()
    project = Project.open(tmp_path / "demo")
    labels = active_comparisons(project, "ai")
    project.close()
    assert labels and all(c.judge.startswith("local:workbench-demo-judge#") for c in labels)
