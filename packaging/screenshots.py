"""Render every main view of the demo project to PNG, offscreen, at 1280x800.

    python packaging/screenshots.py OUT_DIR [--project DIR] [--size 1280x720] [--views-only]

--size renders at another window size (check 1280x720 and 1920x1080 as well as the
default); --views-only renders every view as it opens, without the states that need the
worker (sampling, training), which is enough to check layouts at several sizes quickly
(with --project, on that project's runs, labels and comparisons).

Without --project a fresh demo project is built in a temporary folder, with rule-style
labels added. The Model view is also rendered with a playground result, the Label view
with candidates sampled by the demo model (pairs and ranking), the Rules view
with a dry-run result, the Train view in the middle of a short DPO run and of a GRPO
run, the Compare view (the base model against a checkpoint of those runs) and the Arena
(votes by a scripted person and by the demo judge, the ladder and a matrix), when a
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

from PySide6.QtCore import QEventLoop, QSettings, QTimer

SIZE = (1280, 800)
PLAYGROUND_PROMPT = "What is 17 - 9?"
RULES_ADHOC = ("The answer is 68.", "68")
TRAIN_SHOT = {
    "max_steps": 120,
    "batch_size": 4,
    "eval_every": 20,
    "samples_per_eval": 4,
    "checkpoint_every": 0,
}


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


def charts_built(charts, timeout_s: float = 20) -> None:
    """Wait until every chart of a RunCharts is made, placed and drawn (a first batch is
    made a few per tick: a shot taken sooner shows empty chart frames)."""
    if not wait_for(charts.settled, timeout_s):
        print(f"charts still being built after {timeout_s:g} s: {charts.chart_names()}")


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

    train = window.show_view("Train")
    wait_for(lambda: train.counts.counts is not None, 10)
    charts_built(train.monitor.charts)
    save(window, out, "train-configure")


# The views that --views-only shows as they open too (their worker states are skipped).
OTHER_VIEWS = ("Label", "Judge", "Runs", "Compare", "Arena")


def shoot_other_views(window, out: Path) -> None:
    """Each remaining view as it opens, once its database reads are done."""
    for name in OTHER_VIEWS:
        view = window.show_view(name)
        wait_for(lambda: window.session.runner.pending() == 0, 10)
        if name == "Runs":  # the newest run's charts, drawn a few per tick
            wait_for(lambda v=view: v.loaded, 10)
            wait_for(lambda v=view: not v.rows or v.charts.point_count(v.rows[0]["id"], "loss"), 10)
            charts_built(view.charts)
        save(window, out, name.lower())
        if name == "Judge":  # its review queue too, on the project's AI labels
            view.tabs.setCurrentWidget(view.review)
            wait_for(lambda: window.session.runner.pending() == 0, 10)
            save(window, out, "judge-review")
            view.tabs.setCurrentIndex(0)
    train = window.show_view("Train")
    train.tabs.setCurrentIndex(1)  # Data: the counts of each split, the reward
    save(window, out, "train-data")
    train.tabs.setCurrentIndex(0)


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


LABEL_NOTE = "Checked against the reference answer."
RANK_SHOT_SKIPS = 8


def shoot_label(window, out: Path) -> None:
    """The Label view on candidates the demo model samples through the worker: a pair with
    a note being written, then the same prompts in ranking mode."""
    from workbench.labels.candidates import CandidateRequest

    view = window.show_view("Label")
    wait_for(lambda: view.choices is not None, 10)
    model_id = view.choices["default_model"]
    view.generate(
        CandidateRequest(
            model_id=model_id,
            checkpoint_id=None,
            n=4,
            split="train",
            limit=8,
            sampling={"do_sample": True, "temperature": 1.5, "max_new_tokens": 24, "seed": 3},
        )
    )
    wait_for(lambda: view.job.running, 20)
    finished = wait_for(lambda: not view.job.running, 180)
    source = view.toolbar.source
    source.setCurrentIndex(source.findData(f"model:{model_id}"))  # the sampled ones only
    wait_for(lambda: view.task is not None and not view.busy, 20)
    if view.task is None:
        reason = view.job.status.text() if finished else "no candidates within 180 s"
        print(f"skipped the Label view: {reason}")
        return
    view.pair.note.setText(LABEL_NOTE)
    save(window, out, "label")
    view.pair.note.clear()
    modes = view.toolbar.mode_combo
    modes.setCurrentIndex(modes.findData("rank"))
    for _ in range(RANK_SHOT_SKIPS):  # a prompt with three or more different candidates
        wait_for(lambda: view.task is not None and view.task.mode == "rank" and not view.busy, 20)
        if view.task is None or len(view.task.completions) >= 3:
            break
        view.skip()
    if view.task is not None:
        view.status.clear()  # not "Skipped…" from the search above
        save(window, out, "label-rank")
    view.unskip()
    modes.setCurrentIndex(modes.findData("pair"))


JUDGE_TEMPLATE = "{prompt}\nA: {first}\nB: {second}\nBetter:"  # fits the demo model's context


def shoot_judge(window, out: Path) -> None:
    """The Judge view after a run of the demo judge (its tie margin from its judge.json)
    on the sampled and rule-labelled pairs, then its review queue with the labels the
    rules contradict first. A project without a judge gets one on its default model,
    asked with a short template."""
    view = window.show_view("Judge")
    wait_for(lambda: view.choices is not None and window.session.runner.pending() == 0, 10)
    if view.picker.name() is None:
        view.new_judge("local")
        wait_for(lambda: window.session.runner.pending() == 0, 10)
        view.template.template.setPlainText(JUDGE_TEMPLATE)
        view.template.criteria.setPlainText("")
        view.save()
        wait_for(lambda: view.picker.name() is not None, 10)
    panel = view.run_panel
    panel.limit.setValue(16)
    wait_for(lambda: panel.blocker is None, 10)
    panel.run()
    wait_for(lambda: not panel.running, 240)
    if "labels added" not in panel.summary.text():
        print(f"skipped the Judge view: {panel.status.text() or 'no result within 240 s'}")
        print(window.session.link.log_text()[-1500:])
        return
    wait_for(lambda: bool(view.review.table.rows) and window.session.runner.pending() == 0, 20)
    view.tabs.setCurrentIndex(1)  # the template and its preview on a real pair
    save(window, out, "judge")
    review = view.review
    view.tabs.setCurrentWidget(review)
    review.order.setCurrentIndex(review.order.findData("disagreement"))
    wait_for(lambda: window.session.runner.pending() == 0, 10)
    save(window, out, "judge-review")
    view.tabs.setCurrentIndex(0)


def add_demo_labels(path: Path, prompts: int = 32) -> None:
    """Rule-style preference labels on a fresh demo project (the right answer over the
    answer plus one), so the Train view has a dataset without a labelling session."""
    from workbench.data.completions import CompletionRecord, add_completions
    from workbench.labels.comparisons import add_comparison
    from workbench.project import Project

    project = Project.open(path)
    rows = project.db.execute(
        "SELECT id, reference FROM prompts WHERE split = 'train' ORDER BY id LIMIT ?", [prompts]
    ).fetchall()
    for i, (prompt_id, reference) in enumerate(rows):
        texts = [f"The answer is {reference}.", f"The answer is {int(reference) + 1}."]
        # Stored in either order, as sampling would, so the right answer is not always
        # the older completion (the agreement figures compare by completion id).
        order = texts if i % 2 == 0 else texts[::-1]
        ids = add_completions(project, [CompletionRecord(prompt_id, t) for t in order])
        good, bad = ids if i % 2 == 0 else ids[::-1]
        add_comparison(project, prompt_id, [good, bad], "a", "rule", judge="demo", confidence=1.0)
    project.close()


def shoot_live_run(window, view, out: Path, name: str, chart: str) -> None:
    """Save the Train view while its run streams (if ``chart`` has points), then stop the
    run so the next shot starts from an idle worker."""
    monitor = view.monitor
    if monitor.progress is None or not monitor.charts.point_count(monitor.run_id, chart):
        print(f"skipped the {name} shot: {view.problem.text()}")
        print(window.session.link.log_text()[-1500:])
        return
    charts_built(monitor.charts)
    save(window, out, name)
    monitor.controls.request("stop")
    wait_for(lambda: monitor.progress["status"] != "running", 60)


def shoot_train(window, out: Path) -> None:
    """The Train view mid-run: a short DPO run on the labels, shot while it trains."""
    view = window.show_view("Train")
    wait_for(lambda: view.counts.counts is not None, 10)
    for name, value in TRAIN_SHOT.items():
        view.form.editors[name].set_value(value)
    view.data.name.setText("demo dpo")
    view.launch()
    monitor = view.monitor

    def mid_run() -> bool:
        p = monitor.progress
        return bool(p and (p["step"] >= TRAIN_SHOT["max_steps"] // 2 or p["status"] != "running"))

    wait_for(mid_run, 240)
    wait_for(lambda: bool(monitor.samples.samples), 20)
    shoot_live_run(window, view, out, "train", "loss")


# The demo's GRPO defaults, shorter, one update per batch and evaluated more often on
# fewer prompts, so that the shot comes in minutes. The batch is set because the DPO shot's
# edit of it would carry over (the form keeps edited values across algorithms).
GRPO_SHOT = {
    "max_steps": 45,
    "batch_size": 8,
    "num_generations": 8,
    "num_iterations": 1,
    "eval_every": 10,
    "eval_prompts": 48,
    "samples_per_eval": 2,
    "checkpoint_every": 0,
}
GRPO_SHOT_AT = 30  # the step shot at: the reward has a trend, the run is still going


def shoot_train_grpo(window, out: Path) -> None:
    """The Train view two thirds into a GRPO run rewarded by the demo's rules: the reward
    and its parts rising, eval answers as markers, sampled groups with their advantages."""
    view = window.show_view("Train")
    # The model is read after the project's defaults: once it is there, they are shown.
    wait_for(lambda: view.reward.choices is not None and view.fit.model is not None, 10)
    view.form.algorithm.setCurrentIndex(view.form.algorithm.findData("grpo"))
    for name, value in GRPO_SHOT.items():
        view.form.editors[name].set_value(value)
    view.data.name.setText("demo grpo")
    view.tabs.setCurrentIndex(1)  # Data: the prompts and the reward, instead of labels
    view.launch()
    monitor = view.monitor

    def grpo_at(step: int) -> bool:
        p = monitor.progress
        return bool(
            p and p["algorithm"] == "grpo" and (p["step"] >= step or p["status"] != "running")
        )

    wait_for(lambda: grpo_at(GRPO_SHOT_AT), 900)
    if grpo_at(GRPO_SHOT_AT):
        shoot_live_run(window, view, out, "train-grpo", "reward")


RUNS_SHOT = [
    "batch_size=4",
    "eval_every=20",
    "checkpoint_every=30",
    "samples_per_eval=0",
    "max_steps=60",
    "beta=0.5",
]
RUNS_VARIANTS = (
    ["learning_rate=5e-4", "name=terminal dpo lr 5e-4"],
    ["learning_rate=2e-4", "lora.r=4", "name=terminal dpo lr 2e-4"],
)


def train_in_terminal(project: Path, settings: list[str]) -> bool:
    """A run as `workbench train` in a terminal would make it (another process)."""
    import subprocess

    command = [sys.executable, "-m", "workbench.cli", "train", str(project), "--json"]
    for item in settings:
        command += ["--set", item]
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    process = subprocess.Popen(
        command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    wait_for(lambda: process.poll() is not None, 300)  # the window keeps painting meanwhile
    if process.poll() is None:
        process.kill()
    _, err = process.communicate()
    if process.returncode != 0:
        print(f"the terminal run failed: {err[-800:]}")
    return process.returncode == 0


def shoot_runs(window, out: Path, may_train: bool) -> None:
    """The Runs view with the two newest runs' charts overlaid, then its config diff and
    lineage tabs. Runs are trained from the command line first when the project has fewer
    than two (only on the scratch demo project)."""
    from ui.views.runs.view import RunsView

    if "Runs" in window.views:
        view, target = window.show_view("Runs"), window
    else:  # not in the window's list yet: shown on its own at the window's size
        view = target = RunsView(window.session)
        view.resize(*SIZE)
        view.show()
    wait_for(lambda: view.loaded, 10)
    for variant in RUNS_VARIANTS[len(view.rows) :] if may_train else ():
        train_in_terminal(window.session.path, RUNS_SHOT + variant)
    wait_for(lambda: len(view.rows) >= 2 and view.rows[0]["status"] != "running", 20)
    if len(view.rows) < 2:
        print(f"skipped the Runs view: the project has {len(view.rows)} run(s)")
        return
    ids = [view.rows[1]["id"], view.rows[0]["id"]]
    view.select_runs(ids)
    wait_for(lambda: all(view.charts.point_count(i, "loss") for i in ids), 20)
    charts_built(view.charts)
    save(target, out, "runs")
    for name, panel, ready in (
        ("runs-config-diff", view.diff, lambda: view.diff.diff),
        ("runs-lineage", view.lineage, lambda: view.lineage.result),
    ):
        view.tabs.setCurrentWidget(panel)
        wait_for(lambda ready=ready: ready() is not None, 10)
        save(target, out, name)
    view.tabs.setCurrentIndex(0)
    if target is view:
        view.close()


COMPARE_PROMPTS = 40


def shoot_compare(window, out: Path) -> None:
    """The Compare view: the base model against the newest checkpoint of the runs trained
    above on the first eval prompts, generated by the worker, with the regressed filter on
    and a cell selected for its diff against the baseline."""
    view = window.show_view("Compare")
    setup = view.setup
    wait_for(lambda: bool(setup.options), 10)
    checkpoints = [i for i, o in enumerate(setup.options) if o.choice.checkpoint_id is not None]
    if not checkpoints:
        print("skipped the Compare view: the project has no checkpoint")
        return
    setup.pick(0, [checkpoints[0]])
    setup.split.setCurrentIndex(max(setup.split.findData("eval"), 0))
    setup.limit.setValue(COMPARE_PROMPTS)
    setup.compare()
    wait_for(lambda: setup.running, 10)
    wait_for(lambda: not setup.running, 300)
    wait_for(lambda: view.model.rowCount() > 0, 20)
    if view.model.rowCount() == 0:
        print(f"skipped the Compare view: {setup.status.text()}")
        return
    view.filters.set_verdict("regressed")
    if view.proxy.rowCount() == 0:
        view.filters.set_verdict("all")
    view.grid.setCurrentIndex(view.proxy.index(0, 2))
    save(window, out, "compare")


ARENA_PROMPTS = 24
ARENA_CHECKPOINTS = 3
ARENA_VOTES = 40
ARENA_JUDGE_BATTLES = 40


def rule_vote(task) -> str:
    """A scripted person: the answer that holds the reference wins; both: a tie."""
    right = [task.reference is not None and task.reference in c.text for c in task.completions]
    if all(right):
        return "tie"
    if not any(right):
        return "both_bad"
    return "a" if right[0] else "b"


def shoot_arena(window, out: Path) -> None:
    """The Arena on the base model and up to three checkpoints answering eval prompts
    greedily: a blind pair with the ladder of the votes a scripted person cast (the answer
    holding the reference wins), then, after the demo judge played, the win-fraction
    matrix of all votes with the judge's agreement."""
    view = window.show_view("Compare")
    setup = view.setup
    wait_for(lambda: bool(setup.options), 10)
    checkpoints = [i for i, o in enumerate(setup.options) if o.choice.checkpoint_id is not None]
    if not checkpoints:
        print("skipped the Arena: the project has no checkpoint")
        return
    setup.pick(0, checkpoints[:ARENA_CHECKPOINTS])
    setup.split.setCurrentIndex(max(setup.split.findData("eval"), 0))
    setup.limit.setValue(ARENA_PROMPTS)
    setup.compare()
    wait_for(lambda: setup.running, 10)
    wait_for(lambda: not setup.running, 300)
    arena = window.show_view("Arena")
    wait_for(lambda: arena.comparison.count() > 0, 10)
    arena.comparison.setCurrentIndex(0)  # the newest: the one just made
    for _ in range(ARENA_VOTES):
        if not wait_for(lambda: arena.arena is not None and not arena.busy, 20):
            break
        arena.vote(rule_vote(arena.arena.task))
    wait_for(lambda: arena.arena is not None and not arena.busy, 20)
    if arena.arena is None:
        print(f"skipped the Arena: nothing to vote on ({arena.status.text()})")
        return
    wait_for(lambda: arena.ratings.table.rowCount() > 1, 20)
    arena.ratings.tabs.setCurrentWidget(arena.ratings.ladder)
    save(window, out, "arena")
    judge = arena.judge
    if judge.judge.count():
        judge.battles.setValue(ARENA_JUDGE_BATTLES)
        judge.play()
        wait_for(lambda: judge.job_id is not None, 20)
        wait_for(lambda: judge.job_id is None, 600)
    arena.ratings.source.setCurrentIndex(arena.ratings.source.findData("all"))
    wait_for(lambda: "agreed" in arena.ratings.agreement.text(), 20)
    arena.ratings.tabs.setCurrentWidget(arena.ratings.wins)
    save(window, out, "arena-ratings")


def window_size(text: str) -> tuple[int, int]:
    """ "1280x720" -> (1280, 720), for --size."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a size is WIDTHxHEIGHT, e.g. 1280x720, not {text!r}"
        ) from None
    if width < 640 or height < 480:
        raise argparse.ArgumentTypeError(f"{text} is smaller than the 640x480 the window needs")
    return width, height


def main(argv: list[str] | None = None) -> int:
    global SIZE  # the shooting functions size their windows by it
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--project", type=Path, help="a project folder (default: a fresh demo)")
    parser.add_argument(
        "--size", type=window_size, default=SIZE, help="window size WxH (default 1280x800)"
    )
    parser.add_argument(
        "--views-only", action="store_true", help="only each view as it opens (no worker)"
    )
    args = parser.parse_args(argv)
    SIZE = args.size
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
        add_demo_labels(project)
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

    if args.views_only:
        shoot_other_views(window, args.out_dir)
        print("--views-only: the states that need the worker were not rendered")
    elif DEMO_MODEL_DIR.is_dir() or args.project is not None:
        shoot_playground(window, args.out_dir)
        shoot_label(window, args.out_dir)
        shoot_judge(window, args.out_dir)
        shoot_dry_run(window, args.out_dir)
        shoot_train(window, args.out_dir)
        shoot_runs(window, args.out_dir, may_train=args.project is None)
        shoot_compare(window, args.out_dir)
        shoot_arena(window, args.out_dir)
        shoot_train_grpo(window, args.out_dir)
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
