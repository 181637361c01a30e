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
