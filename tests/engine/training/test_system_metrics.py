"""System figures logged with each step: CPU use over the interval, resident memory."""

import time

from engine.training.system_metrics import SystemMeter


def test_cpu_use_is_measured_over_the_interval_between_readings():
    meter = SystemMeter()
    first = meter.read("cpu")
    assert "system/cpu_percent" not in first  # no interval yet
    assert first["system/rss_gb"] > 0.01  # a Python process with numpy/torch loaded
    deadline = time.perf_counter() + 0.2
    while time.perf_counter() < deadline:  # keep one core busy
        pass
    busy = meter.read("cpu")["system/cpu_percent"]
    time.sleep(0.2)
    idle = meter.read("cpu")["system/cpu_percent"]
    # A busy loop gets at least its share of a loaded machine; a sleep uses next to nothing.
    assert busy > 10.0
    assert idle < 5.0 < busy


def test_no_gpu_figure_on_a_cpu_device():
    assert "system/gpu_percent" not in SystemMeter().read("cpu")
