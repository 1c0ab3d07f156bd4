"""The ETA's step time: a steady rate, a slow first step, an evaluation pause, the user's
pause, and the countdown between writes (workbench/training/step_timer.py)."""

from __future__ import annotations

import pytest

from workbench.training.step_timer import StepTimer, counted_down


def run_steps(timer: StepTimer, seconds: list[float], start: float = 0.0, first: int = 1):
    """Steps of the given lengths, back to back; returns the time the last one began."""
    now = start
    for i, length in enumerate(seconds):
        timer.step_begins(first + i, now)
        now += length
    timer.step_begins(first + len(seconds), now)
    return now


def test_nothing_is_known_before_a_step_has_ended():
    timer = StepTimer()
    assert timer.seconds_per_step is None and timer.eta(100) is None
    timer.step_begins(1, 0.0)
    assert timer.seconds_per_step is None and timer.eta(100) is None


def test_a_steady_rate_gives_the_remaining_steps_times_the_step():
    timer = StepTimer()
    run_steps(timer, [2.0] * 10)  # step 11 has begun
    assert timer.seconds_per_step == pytest.approx(2.0)
    assert timer.eta(100) == pytest.approx(90 * 2.0)  # steps 11..100


def test_a_slow_first_step_is_warm_up_and_is_forgotten_at_the_second():
    timer = StepTimer()
    run_steps(timer, [30.0])
    assert timer.seconds_per_step == pytest.approx(30.0)  # all there is to go by
    timer.step_begins(3, 31.0)
    assert timer.seconds_per_step == pytest.approx(1.0)
    run_steps(timer, [1.0] * 5, start=31.0, first=3)
    assert timer.seconds_per_step == pytest.approx(1.0)


def test_an_evaluation_or_a_checkpoint_between_steps_is_left_out():
    timer = StepTimer()
    now = run_steps(timer, [1.0] * 5)  # step 6 begins at 5 s
    now += 1.0  # step 6 trains for 1 s, then a 20 s evaluation and a 4 s checkpoint
    timer.pause_begins(now)
    now += 24.0
    timer.step_begins(7, now)
    assert timer.seconds_per_step == pytest.approx(1.0)
    assert timer.eta(10) == pytest.approx(4.0)


def test_the_users_pause_is_left_out_too():
    timer = StepTimer()
    run_steps(timer, [1.0, 1.0])  # step 3 begins at 2 s
    timer.pause_begins(2.5)
    timer.pause_ends(602.5)  # ten minutes paused
    timer.step_begins(4, 603.0)
    assert timer.seconds_per_step == pytest.approx(1.0)


def test_a_noisy_step_moves_the_estimate_by_a_fraction_only():
    timer = StepTimer()
    now = run_steps(timer, [2.0] * 30)
    etas = []
    for length in (1.0, 3.0, 1.0):  # what made the old ETA swing 11 -> 6 -> 9 min
        now += length
        timer.step_begins(timer._step + 1, now)
        etas.append(timer.eta(300))
    assert max(etas) / min(etas) < 1.2


def test_a_step_announced_again_in_another_phase_is_the_same_step():
    timer = StepTimer()
    timer.step_begins(1, 0.0)  # sampling
    timer.step_begins(1, 0.5)  # training
    timer.step_begins(2, 1.0)
    timer.step_begins(3, 2.0)
    assert timer.seconds_per_step == pytest.approx(1.0)


def test_a_resumed_run_measures_from_its_first_step():
    timer = StepTimer()
    run_steps(timer, [3.0, 1.0, 1.0], first=41)
    assert timer.seconds_per_step == pytest.approx(1.0)
    assert timer.eta(50) == pytest.approx(7.0)  # step 44 has begun: 44..50


def test_the_countdown_between_writes_stops_at_zero():
    assert counted_down(60.0, 100.0, 130.0) == pytest.approx(30.0)
    assert counted_down(60.0, 100.0, 500.0) == 0.0
    assert counted_down(None, 100.0, 130.0) is None
