"""The run feed: one read per tick per watched run whatever the number of subscribers,
each row handed to each subscriber once, late and paused subscribers caught up, a run
resumed from an earlier checkpoint started over, and no reads once nobody watches.

The database calls run when the test says so (`SpyRunner.answer`), on a real project, and
the reads are counted where the feed makes them. A subscription is served at the feed's
next tick, which the tests call themselves."""

from __future__ import annotations

from collections import Counter

import pytest

from ui import run_feed_reads
from ui.background import TaskError
from ui.run_feed import RunFeed, RunUpdate
from workbench.project import Project
from workbench.training import runs


class SpyRunner:
    """DbRunner's `call`, with the call run by `answer()` on the test's thread."""

    def __init__(self, project: Project):
        self.project = project
        self.waiting: list[tuple] = []
        self.calls = 0

    def call(self, fn, *args, on_done=None, on_error=None):
        self.calls += 1
        self.waiting.append((fn, args, on_done, on_error))
        return self.calls

    def answer(self) -> int:
        """Run the calls made so far (and those their answers make); returns how many."""
        done = 0
        while self.waiting:
            fn, args, on_done, on_error = self.waiting.pop(0)
            try:
                result = fn(self.project, *args)
            except Exception as exc:
                on_error(TaskError(exc))
            else:
                on_done(result)
            done += 1
        return done


class Receiver:
    def __init__(self):
        self.updates: list[RunUpdate] = []
        self.errors: list[TaskError] = []

    def __call__(self, update: RunUpdate) -> None:
        self.updates.append(update)

    def failed(self, error: TaskError) -> None:
        self.errors.append(error)

    def metrics(self, run_id: int) -> list[tuple]:
        return [row for u in self.updates if u.run_id == run_id for row in u.metrics]

    def logs(self, run_id: int) -> list[tuple]:
        return [row for u in self.updates if u.run_id == run_id for row in u.logs]


@pytest.fixture
def project(tmp_path):
    project = Project.create(tmp_path / "p")
    yield project
    project.close()


@pytest.fixture
def runner(project):
    return SpyRunner(project)


@pytest.fixture
def feed(runner, qtbot):
    feed = RunFeed(runner)
    yield feed
    feed.close()


@pytest.fixture
def reads(monkeypatch):
    """Run ids of the reads of new rows (Counter) and of the catch-ups (list)."""
    live: Counter = Counter()
    catch_ups: list[int] = []
    run_update, run_metric_rows = run_feed_reads.run_update, run_feed_reads.run_metric_rows

    def counted_update(project, run_id, *args):
        live[run_id] += 1
        return run_update(project, run_id, *args)

    def counted_rows(project, run_id, *args):
        catch_ups.append(run_id)
        return run_metric_rows(project, run_id, *args)

    monkeypatch.setattr(run_feed_reads, "run_update", counted_update)
    monkeypatch.setattr(run_feed_reads, "run_metric_rows", counted_rows)
    return live, catch_ups


def new_run(project: Project, name: str = "r") -> int:
    return runs.create_run(
        project,
        algorithm="dpo",
        config={},
        dataset={},
        dataset_hash="h",
        model_id=None,
        parent_checkpoint_id=None,
        job_id=None,
        name=name,
        max_steps=100,
    )


def train(project: Project, run_id: int, steps: range) -> None:
    for step in steps:
        runs.record_metrics(project, run_id, step, {"loss": 1.0 / step, "grad_norm": 0.5})
        runs.log(project, run_id, f"step {step}")


def stored(project: Project, run_id: int) -> list[tuple]:
    rows = project.db.execute(
        "SELECT step, time, name, value FROM metrics WHERE run_id = ? ORDER BY id", [run_id]
    ).fetchall()
    return [tuple(r) for r in rows]


def test_two_subscribers_of_one_run_get_each_row_once(project, runner, feed):
    run_id = new_run(project)
    train(project, run_id, range(1, 4))
    a, b = Receiver(), Receiver()
    feed.subscribe(run_id, a)
    feed.subscribe(run_id, b)
    feed.tick()
    runner.answer()
    train(project, run_id, range(4, 6))
    feed.tick()
    runner.answer()
    feed.tick()  # nothing new
    runner.answer()
    for receiver in (a, b):
        assert receiver.metrics(run_id) == stored(project, run_id)
        assert [m for _, m in receiver.logs(run_id)] == [f"step {s}" for s in range(1, 6)]
        assert [u.first for u in receiver.updates] == [True, False, False]
        assert receiver.updates[-1].progress["step"] == 5


def test_the_database_is_read_once_per_tick_per_run(project, runner, feed, reads):
    live, catch_ups = reads
    one, two = new_run(project, "one"), new_run(project, "two")
    train(project, one, range(1, 3))
    receivers = [Receiver() for _ in range(3)]
    for receiver in receivers:
        feed.subscribe(one, receiver)
    feed.subscribe(two, receivers[0])
    feed.tick()
    assert runner.answer() == 1
    assert live == {one: 1, two: 1}
    for ticks in range(2, 5):
        train(project, one, range(ticks * 10, ticks * 10 + 2))
        feed.tick()
        assert runner.answer() == 1
        assert live == {one: ticks, two: ticks}
    assert catch_ups == []  # nobody joined late
    for receiver in receivers:
        assert receiver.metrics(one) == stored(project, one)


def test_a_late_subscriber_gets_the_history_once_then_the_live_rows(project, runner, feed, reads):
    _, catch_ups = reads
    run_id = new_run(project)
    train(project, run_id, range(1, 6))
    early, late = Receiver(), Receiver()
    feed.subscribe(run_id, early)
    feed.tick()
    runner.answer()
    train(project, run_id, range(6, 8))  # written before the late one joins, not yet read
    feed.subscribe(run_id, late)
    feed.tick()
    runner.answer()
    assert catch_ups == [run_id]  # the history the early one had, read for the late one
    train(project, run_id, range(8, 10))
    feed.tick()
    runner.answer()
    for receiver in (early, late):
        assert receiver.metrics(run_id) == stored(project, run_id)
        assert [m for _, m in receiver.logs(run_id)] == [f"step {s}" for s in range(1, 10)]
    assert late.updates[0].first and not early.updates[1].first


def test_a_subscriber_joining_while_a_read_is_in_flight_gets_its_history_once(
    project, runner, feed
):
    run_id = new_run(project)
    train(project, run_id, range(1, 3))
    early, late = Receiver(), Receiver()
    feed.subscribe(run_id, early)
    feed.tick()
    runner.answer()
    train(project, run_id, range(3, 5))
    feed.tick()
    feed.subscribe(run_id, late)  # after the call was made: its rows start after early's
    assert runner.answer() == 2  # the late one's history is read as soon as that returns
    for receiver in (early, late):
        assert receiver.metrics(run_id) == stored(project, run_id)
    assert len(late.updates) == 1 and late.updates[0].first


def test_unsubscribing_stops_the_reads(project, runner, feed, reads):
    live, _ = reads
    run_id = new_run(project)
    a, b = Receiver(), Receiver()
    feed.subscribe(run_id, a)
    feed.subscribe(run_id, b)
    feed.tick()
    runner.answer()
    assert feed.timer.isActive()
    feed.unsubscribe(run_id, a)
    feed.tick()
    runner.answer()
    assert live[run_id] == 2 and len(a.updates) == 1 and len(b.updates) == 2
    feed.unsubscribe(run_id, b)
    assert not feed.timer.isActive()
    feed.tick()
    assert runner.answer() == 0 and live[run_id] == 2


def test_a_paused_receiver_costs_no_read_and_catches_up(project, runner, feed, reads):
    live, _ = reads
    run_id = new_run(project)
    train(project, run_id, range(1, 3))
    shown, hidden = Receiver(), Receiver()
    feed.subscribe(run_id, hidden)
    feed.tick()
    runner.answer()
    feed.pause(hidden)
    feed.tick()
    assert runner.answer() == 0  # nobody else watches: nothing read
    feed.subscribe(run_id, shown)
    feed.tick()
    runner.answer()
    train(project, run_id, range(3, 5))
    feed.tick()
    runner.answer()
    assert len(hidden.updates) == 1 and shown.metrics(run_id) == stored(project, run_id)
    feed.resume(hidden)
    feed.tick()
    runner.answer()
    assert hidden.metrics(run_id) == stored(project, run_id)
    assert not hidden.updates[-1].first
    assert live[run_id] == 4  # one a tick, the pause's three included


def test_a_run_resumed_from_an_earlier_checkpoint_starts_over(project, runner, feed):
    run_id = new_run(project)
    train(project, run_id, range(1, 7))
    receiver = Receiver()
    feed.subscribe(run_id, receiver)
    feed.tick()
    runner.answer()
    runs.forget_after(project, run_id, 3)  # resumed from step 3: steps 4-6 are gone
    train(project, run_id, range(4, 5))
    feed.tick()
    runner.answer()
    last = receiver.updates[-1]
    assert last.first and last.metrics == stored(project, run_id)
    assert [step for step, *_ in last.metrics] == [1, 1, 2, 2, 3, 3, 4, 4]


def test_the_newest_run_is_told_when_it_changes(project, runner, feed):
    seen: list[int | None] = []
    feed.watch_newest(seen.append)
    feed.tick()
    runner.answer()
    first = new_run(project)
    feed.tick()
    runner.answer()
    feed.tick()
    runner.answer()
    runs.end_run(project, first, "done")
    second = new_run(project)
    feed.tick()
    runner.answer()
    assert seen == [None, first, second]
    feed.unwatch_newest(seen.append)
    feed.tick()
    assert runner.answer() == 0


def test_a_run_that_cannot_be_read_is_reported_to_its_subscriber(project, runner, feed):
    receiver, other = Receiver(), Receiver()
    run_id = new_run(project)
    feed.subscribe(404, receiver, receiver.failed)
    feed.subscribe(run_id, other, other.failed)
    feed.tick()
    runner.answer()
    assert receiver.updates == [] and "404" in str(receiver.errors[0])
    assert other.errors == [] and len(other.updates) == 1
