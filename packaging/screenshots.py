"""Render every main view of the demo project to PNG, offscreen, at 1280x800.

    python packaging/screenshots.py OUT_DIR [--project DIR]

Without --project a fresh demo project is built in a temporary folder. The Model view is
also rendered with a playground result, and the Rules view with a dry-run result, when a
worker can run (the demo model and torch are installed); otherwise those states are
skipped and the reason printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402

SIZE = (1280, 800)
PLAYGROUND_PROMPT = "What is 17 - 9?"
RULES_ADHOC = ("The answer is 68.", "68")


def wait_for(condition: Callable[[], bool], timeout_s: float) -> bool:
    """Run the event loop until `condition()` holds or the time is up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        loop = QEventLoop()
        QTimer.singleShot(50, loop.quit)
        loop.exec()
    return condition()


def settle(ms: int = 300) -> None:
    wait_for(lambda: False, ms / 1000)


def save(window, out: Path, name: str) -> Path:
    settle()
    path = out / f"{name}.png"
    window.grab().save(str(path))
    print(f"wrote {path}")
    return path


def shoot_views(window, out: Path) -> None:
    project = window.show_view("Project")
    wait_for(lambda: project.overview is not None, 10)
    save(window, out, "project")

    data = window.show_view("Data")
    wait_for(lambda: data.model.ready and bool(data.splits), 10)
    data.table.selectRow(2)
    save(window, out, "data")

    model = window.show_view("Model")
    wait_for(
        lambda: model.fit.estimate is not None or model.fit.verdict.text().startswith("The"), 10
    )
    model.playground.prompt.setPlainText(PLAYGROUND_PROMPT)
    save(window, out, "model")

    rules = window.show_view("Rules")
    wait_for(lambda: rules.loaded and rules.preview.rows_loaded, 10)
    rules.preview.adhoc_text.setPlainText(RULES_ADHOC[0])
    rules.preview.adhoc_reference.setText(RULES_ADHOC[1])
    wait_for(lambda: rules.preview.batch is not None and not rules.preview.scorer.busy, 15)
    save(window, out, "rules")


def shoot_dry_run(window, out: Path) -> None:
    rules = window.show_view("Rules")
    panel = rules.dry_run
    rules.tabs.setCurrentWidget(panel)
    wait_for(lambda: panel.run_button.isEnabled(), 10)
    panel.limit.setValue(12)
    panel.run()
    finished = wait_for(lambda: not panel.running, 240)
    if panel.result_view is not None and panel.result_view.result is not None:
        save(window, out, "rules-dry-run")
        return
    reason = panel.status.text() if finished else "no result within 240 s"
    print(f"skipped the dry-run result: {reason}")


def shoot_playground(window, out: Path) -> None:
    window.show_view("Model")
    playground = window.views["Model"].playground
    playground.n.setValue(3)
    playground.greedy.setChecked(False)
    playground.generate()
    finished = wait_for(
        lambda: (
            bool(playground.completions)
            or (playground.job_id is None and "fail" in playground.status.text().lower())
        ),
        180,
    )
    if playground.completions:
        save(window, out, "model-playground")
        return
    reason = playground.status.text() if finished else "no result within 180 s"
    print(f"skipped the playground result: {reason}")
    print(window.session.link.log_text()[-1500:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--project", type=Path, help="a project folder (default: a fresh demo)")
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="workbench-shots-"))
    # The user's own recent-projects list is neither read nor changed.
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch))

    from ui.app import make_app
    from ui.main_window import MainWindow
    from workbench.demo_project import build_demo_project

    project = args.project
    if project is None:
        project = scratch / "demo-project"
        build_demo_project(project).close()
    app = make_app([sys.argv[0]])
    window = MainWindow()
    window.resize(*SIZE)
    window.show()
    window.open_project(project)
    if not wait_for(lambda: window.session is not None, 20):
        print(f"could not open {project}", file=sys.stderr)
        return 1
    shoot_views(window, args.out_dir)
    from engine.demo import DEMO_MODEL_DIR

    if DEMO_MODEL_DIR.is_dir() or args.project is not None:
        shoot_playground(window, args.out_dir)
        shoot_dry_run(window, args.out_dir)
    else:
        print(
            f"skipped the playground and dry-run results: the demo model is not built "
            f"({DEMO_MODEL_DIR})"
        )
    window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
