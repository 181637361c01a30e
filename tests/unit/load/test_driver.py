"""The driver with a fake child (tests/unit/load/fake_child.py): records land in requests.tsv
in full, counters and events are read, failures become EnvironmentFailure, and stopping leaves
no process of the child's group behind."""

import os
import sys
import time
from pathlib import Path

import pytest

from harness.errors import EnvironmentFailure
from harness.load import LoadDriver, LoadSpec, RequestRecord
from harness.load import driver as driver_module

FAKE = [sys.executable, str(Path(__file__).with_name("fake_child.py"))]


def spec(script: str, **kw) -> LoadSpec:
    return LoadSpec(host=f"fake://{script}", users=1, spawn_rate=1, duration_s=1, think_time_s=(0, 0),
                    request_timeout_s=1, seed=1, **kw)


def test_records_are_all_written_and_counted_and_the_summary_carries_locust_numbers(tmp_path):
    d = LoadDriver(spec("ok", rate_rps=50.0, client="fast", workers=2), tmp_path, command=FAKE)
    t0 = d.start()
    d.wait(timeout_s=30)
    lines = (tmp_path / "requests.tsv").read_text().splitlines(keepends=True)
    assert len(lines) == 5000 and d.stats.requests == 5000 and d.stats.errors == 500
    assert RequestRecord.decode(lines[10]).error == "connection_refused"
    assert RequestRecord.decode(lines[0]).start_s == pytest.approx(t0, abs=1e-5)
    assert d.garbage_lines == 1
    summary = d.stop_summary()
    assert summary["model"] == "open" and summary["rate_rps"] == 50.0 and summary["client"] == "fast"
    assert summary["locust_requests"] == 5000 and summary["locust_p99_ms"] == 2.0
    # what the analysis needs to tell recorded != sent (d.stats.requests is journalled as "recorded")
    assert summary["records"] == 5000 and summary["garbage_lines"] == 1 and summary["killed_in_flight"] == 3
    assert summary["stop_requested_t"] == 123.5 and summary["stop_timeout_s"] == 2.0
    assert [w["records"] for w in summary["workers"]] == [2500, 2500]
    assert (tmp_path / "load.json").exists()


def test_an_error_event_fails_the_start_with_the_childs_message(tmp_path):
    d = LoadDriver(spec("error"), tmp_path, command=FAKE)
    with pytest.raises(EnvironmentFailure, match="no users"):
        d.start()


def test_a_child_that_never_starts_is_stopped_after_the_startup_timeout(tmp_path, monkeypatch):
    monkeypatch.setattr(driver_module, "STARTUP_TIMEOUT_S", 1)
    d = LoadDriver(spec("silent"), tmp_path, command=FAKE)
    started = time.monotonic()
    with pytest.raises(EnvironmentFailure, match="did not start"):
        d.start()
    assert time.monotonic() - started < 10 and not d.running


def wait_for_pid(marker: Path) -> int:
    deadline = time.monotonic() + 5
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return int(marker.read_text())


def gone(pid: int, timeout_s: float = 5) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_stop_kills_what_a_dead_child_left_in_its_process_group(tmp_path):
    marker = tmp_path / "orphan.pid"
    d = LoadDriver(spec("orphan", requests=[{"path": str(marker)}]), tmp_path, command=FAKE)
    d.start()
    with pytest.raises(EnvironmentFailure):
        d.wait(timeout_s=10)  # exited with 3, no stopped event
    pid = wait_for_pid(marker)
    os.kill(pid, 0)  # the grandchild is still alive...
    d.stop()
    assert gone(pid), "the child's leftover process survived stop()"


def test_a_leftover_holding_the_pipe_does_not_hang_wait(tmp_path, monkeypatch):
    monkeypatch.setattr(driver_module, "READER_DRAIN_S", 1.0)
    marker = tmp_path / "orphan.pid"
    d = LoadDriver(spec("orphan-holding-pipe", requests=[{"path": str(marker)}]), tmp_path, command=FAKE)
    d.start()
    started = time.monotonic()
    with pytest.raises(EnvironmentFailure):
        d.wait(timeout_s=10)
    assert time.monotonic() - started < 5
    assert gone(wait_for_pid(marker))


def test_the_orchestrator_never_imports_locust_or_gevent():
    import subprocess

    code = "import sys, harness.run, harness.load; print('locust' in sys.modules, 'gevent' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "False"], out.stderr


def test_the_real_child_refuses_an_open_model_over_a_locustfile_with_a_clear_error(tmp_path):
    locustfile = Path(__file__).with_name("firehose_locustfile.py")
    d = LoadDriver(LoadSpec(host="http://127.0.0.1:9", users=1, spawn_rate=1, duration_s=1, think_time_s=(0, 0),
                            request_timeout_s=1, seed=1, locustfile=str(locustfile), rate_rps=10.0), tmp_path)
    with pytest.raises(EnvironmentFailure, match="rate_rps"):
        d.start()
    d.stop()


def real_spec(duration_s: float = 1.0) -> LoadSpec:
    """The real child against a closed port: every request is refused at once, so it records fast."""
    return LoadSpec(host="http://127.0.0.1:9", users=2, spawn_rate=100, duration_s=duration_s, think_time_s=(0.01, 0.01),
                    request_timeout_s=1, seed=1, requests=[{"method": "GET", "path": "/", "name": "GET /", "weight": 1}])


def test_a_spawned_child_sends_no_request_until_start_and_t0_is_the_start(tmp_path):
    d = LoadDriver(real_spec(), tmp_path)
    d.spawn()
    time.sleep(2.0)  # long enough for the child to import Locust and be ready
    assert d.running and d.started_at is None and d.stats.requests == 0
    release_and_check(d, tmp_path)


def release_and_check(d: LoadDriver, run_dir) -> None:
    """Start the spawned child's load now and run it out; its t0 and its first request come
    after the release (nothing was sent before), and a request was made."""
    try:
        released = time.time()
        t0 = d.start()
        d.wait(timeout_s=30)
    finally:
        d.stop()
    assert t0 >= released and d.stats.requests > 0
    first = RequestRecord.decode((run_dir / "requests.tsv").read_text().splitlines(keepends=True)[0])
    assert first.start_s >= released and first.error == "connection_refused"


def test_a_child_whose_stdin_ends_before_go_exits_with_3_and_sends_nothing(tmp_path):
    d = LoadDriver(real_spec(), tmp_path)
    d.spawn()
    try:
        assert d._proc is not None and d._proc.stdin is not None
        d._proc.stdin.close()  # what the child sees when the orchestrator dies before the health wait ends
        assert d._proc.wait(timeout=30) == 3
    finally:
        d.stop()
    assert d.stats.requests == 0 and d.started_at is None
    assert "stdin closed before 'go'" in (tmp_path / "locust.log").read_text()


def test_the_orchestrator_starts_a_run_without_pandas_or_matplotlib():
    """They load in a thread during the health wait (harness.report.warm_up), not before the stack."""
    import subprocess

    code = ("import sys, harness.run, harness.scenario.models; "
            "print('pandas' in sys.modules, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "False"], out.stderr


def test_the_latest_inflight_event_is_kept_and_cleared_by_stopped(tmp_path):
    d = LoadDriver(spec("ok"), tmp_path, command=FAKE)
    d._on_event({"event": "inflight", "n": 12, "oldest_start_s": 1000.0})
    assert d.stats.in_flight == 12 and d.stats.oldest_in_flight_s(1004.1) == pytest.approx(4.1)
    d._on_event({"event": "stopped", "t": 1005.0})
    assert d.stats.in_flight == 0 and d.stats.oldest_in_flight_s(1006.0) is None


def test_wait_gives_the_child_at_least_its_end_grace_whatever_the_caller_asks(tmp_path, monkeypatch):
    monkeypatch.setattr(driver_module, "child_end_grace_s", lambda request_timeout_s: 3.0 + request_timeout_s)
    d = LoadDriver(spec("slow-end"), tmp_path, command=FAKE)
    assert d.end_grace_s == 4.0
    d.start()
    d.wait(timeout_s=0.2)  # the child takes 1.5 s to end: still waited for
    assert d.stopped is not None
