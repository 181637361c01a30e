"""bench/driver_cpu.py: the row is bare ÷ harness CPU per request (not the other way round), each
pair taken over the stretch both loads ran together, with the ratios as its samples; and the one
measurement both sides rely on, the locustfile's test_start/test_stop listeners, is written by
bare ``locust --headless`` and by the harness's single-process load child alike (a real child
and a real ``locust`` against a local target, 1-3 s each)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from bench import driver_cpu
from bench.common import locust_binary
from harness.load import LoadDriver, LoadSpec

from ..load.slow_server import SlowServer


def window(t0: float, cost_ms: float, rate: float, seconds: float = 12.0, every: float = 0.25) -> dict:
    """A process's snapshots from epoch ``t0``: ``rate`` requests/s at ``cost_ms`` CPU ms each."""
    snaps = [[t0 + i * every, i * every * rate * cost_ms / 1000, int(i * every * rate), 0]
             for i in range(int(seconds / every) + 1)]
    return {"snapshots": snaps, "requests": snaps[-1][2], "cpu_s": snaps[-1][1]}


def test_a_pair_is_taken_over_the_common_stretch_and_is_bare_over_harness():
    # bare costs 0.30 ms per request, the harness 0.30 / 0.9: bare ÷ harness = 0.9
    bare, harness = window(101.0, 0.30, 1600), window(100.0, 0.30 / 0.9, 1500)
    figures = driver_cpu.pair_figures(bare, harness, lambda t0, t1: 0.01 * (t1 - t0))
    # the later start (101) + LEAD_S to the earlier end (112) - TAIL_S
    assert figures["stretch_s"] == 112.0 - driver_cpu.TAIL_S - (101.0 + driver_cpu.LEAD_S)
    assert figures["ratio"] == pytest.approx(0.9, abs=0.002)
    assert figures["bare"]["cpu_s_per_1000"] == pytest.approx(0.30, abs=0.001)
    assert figures["bare"]["requests_per_cpu_s"] == pytest.approx(1000 / 0.30, rel=0.01)
    assert figures["bare"]["core_share"] == pytest.approx(0.48, abs=0.01)
    # the orchestrator's CPU counted in on the harness's side: a lower whole-harness ratio
    assert figures["whole_harness_ratio"] < figures["ratio"]


def test_loads_that_barely_overlap_are_refused():
    with pytest.raises(RuntimeError, match="together"):
        driver_cpu.pair_figures(window(100.0, 0.3, 1000), window(108.0, 0.3, 1000))


def test_the_row_is_the_median_of_the_pairs_and_holds_on_its_bound():
    costs = [1.0, 0.99, 1.01, 0.98, 1.02, 1.0, 0.995, 1.005, 0.985, 1.015]  # bare ÷ harness
    pairs = [driver_cpu.pair_figures(window(100.0, 0.30, 1500), window(100.5, 0.30 / c, 1500)) for c in costs]
    row = driver_cpu.summarise(pairs)
    assert row.name == "driver_cpu_per_request_ratio" and row.op == ">=" and row.goal == 0.97
    assert row.value == pytest.approx(1.0, abs=0.002) and len(row.samples) == 10
    assert row.holds and row.sureness.bound == pytest.approx(0.99, abs=0.002)  # the 3rd smallest of 10
    assert row.detail["whole_harness_ratios"] is None  # no orchestrator figures
    # the same pairs with the harness 10 % dearer: the bound misses the goal
    dear = [driver_cpu.pair_figures(window(100.0, 0.30, 1500), window(100.5, 0.30 / (c * 0.9), 1500)) for c in costs]
    assert not driver_cpu.summarise(dear).holds


def test_a_missing_or_empty_measurement_is_an_error(tmp_path):
    with pytest.raises(RuntimeError, match="did not fire"):
        driver_cpu.read_window(tmp_path / "none.json")
    (tmp_path / "empty.json").write_text(json.dumps({"cpu_s": 0.5, "requests": 0}))
    with pytest.raises(RuntimeError, match="no request"):
        driver_cpu.read_window(tmp_path / "empty.json")


def test_bare_locust_and_the_harness_child_both_write_the_window(tmp_path, monkeypatch):
    with SlowServer() as server:
        bare_out = tmp_path / "bare.json"
        done = subprocess.run([locust_binary(), "-f", str(driver_cpu.LOCUSTFILE), "--headless", "-u", "2", "-r", "10",
                               "-t", "3s", "--host", server.url, "--only-summary", "--loglevel", "WARNING"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=60,
                              env={**os.environ, driver_cpu.CPU_OUT_ENV: str(bare_out)})
        assert done.returncode == 0, done.stderr
        bare = driver_cpu.read_window(bare_out)

        child_out = tmp_path / "child.json"
        monkeypatch.setenv(driver_cpu.CPU_OUT_ENV, str(child_out))
        spec = LoadSpec(host=server.url, users=2, spawn_rate=10, duration_s=1, think_time_s=(0, 0),
                        request_timeout_s=2, seed=1, locustfile=str(driver_cpu.LOCUSTFILE))
        run_dir = tmp_path / "run"
        run_dir.mkdir()
        driver = LoadDriver(spec, run_dir)
        try:
            driver.start()
            driver.wait(timeout_s=30)
        finally:
            driver.stop()
        child = driver_cpu.read_window(child_out)
    assert bare["pid"] != child["pid"] and child["argv0"].endswith("worker.py")
    for w in (bare, child):
        assert w["failures"] == 0 and 0 < w["cpu_s"] and 0.2 <= w["wall_s"] <= 5  # bare -t 3s loads 1-2.5 s
        snaps = w["snapshots"]  # [t, CPU s, requests, failures], every 0.25 s and at both events
        assert len(snaps) >= 3 and snaps == sorted(snaps) and snaps[-1][2] == w["requests"]
    # the child's window counts the very requests it recorded (the same users, hook and all)
    assert child["requests"] == driver.stopped["locust_requests"] == driver.stopped["records"]
