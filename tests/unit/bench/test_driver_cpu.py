"""bench/driver_cpu.py: the row is bare ÷ harness CPU per request (not the other way round), each
harness run against its two bare neighbours, with the ratios as its samples; and the one
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


def run_of(kind: str, requests: int, cpu_s: float, orchestrator: float | None = None) -> dict:
    extra = {"orchestrator_cpu_s_during_load": orchestrator} if kind == "harness" else {}
    return driver_cpu.per_request(kind, {"requests": requests, "cpu_s": cpu_s, "wall_s": cpu_s}, **extra)


def test_per_request_figures():
    run = run_of("bare", 40_000, 10.0)
    assert run["cpu_s_per_1000"] == 0.25 and run["requests_per_cpu_s"] == 4000.0 and run["core_busy"] == 1.0


def test_a_harness_that_costs_more_cpu_per_request_gives_a_ratio_below_one():
    # bare runs cost 250 us per request; harness runs 250 / 0.9 us: bare ÷ harness = 0.9
    runs = []
    for i in range(17):
        runs.append(run_of("bare", 40_000, 10.0) if i % 2 == 0 else run_of("harness", 36_000, 10.0, orchestrator=0.1))
    row = driver_cpu.summarise(runs)
    assert row.value == 0.9 and row.samples == [0.9] * 8
    assert row.name == "driver_cpu_per_request_ratio" and row.op == ">=" and row.goal == 0.97
    assert not row.holds  # the bound (0.9) is below 0.97
    assert row.detail["pooled_ratio"] == 0.9
    assert row.detail["harness_extra_cpu_us_per_request"] == pytest.approx(27.8, abs=0.1)
    # the orchestrator's 0.1 CPU-s per 36,000 requests counted in as well: 36,000 / 10.1 ÷ 4,000
    assert row.detail["whole_harness_ratio_median"] == round(36_000 / 10.1 / 4000, 3)


def test_the_neighbours_mean_cancels_a_steady_drift_and_the_row_holds_on_its_bound():
    # the machine slows by 1 % per run; the harness costs what bare Locust costs
    runs = [run_of("bare" if i % 2 == 0 else "harness", 40_000, 10.0 * (1.01 ** i)) for i in range(17)]
    row = driver_cpu.summarise(runs)
    assert all(0.999 <= s <= 1.001 for s in row.samples)
    assert row.holds and row.sureness.bound >= 0.97
    assert row.detail["whole_harness_ratios"] is None  # no orchestrator figures: no whole-harness ratio


def test_runs_that_do_not_alternate_are_refused():
    with pytest.raises(ValueError):
        driver_cpu.summarise([run_of("bare", 1000, 1.0), run_of("harness", 1000, 1.0), run_of("harness", 1000, 1.0)])


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
    for window in (bare, child):
        assert window["failures"] == 0 and 0 < window["cpu_s"] and 0.2 <= window["wall_s"] <= 5  # bare -t 3s loads 1-2.5 s: its timer is armed on a stale gevent clock
    # the child's window counts the very requests it recorded (the same users, hook and all)
    assert child["requests"] == driver.stopped["locust_requests"] == driver.stopped["records"]
