"""The drive phase with a fake load driver, timeline and watchdog: the loop ends with the load,
then settles, drains and journals ``load.stop``; a watchdog failure, a tripped abort condition or
a failed fault ends it at once."""

from __future__ import annotations

import pytest

from harness.errors import EnvironmentFailure
from harness.run import drive as drive_module
from harness.run.drive import Aborted, drive
from harness.run.parts import Started
from tests.unit.run import fakes
from tests.unit.run.fakes import CALLS, FakeDriver, FakePart, FakeProgress, FakeTimeline


@pytest.fixture
def parts(monkeypatch):
    """A started run whose load ends after three ticks (``time.sleep`` counts them)."""
    CALLS.clear()
    started = Started(watchdog=FakePart("watchdog"), timeline=FakeTimeline(), driver=FakeDriver(), host="http://h")
    started.driver.running = True
    ticks = []

    def sleep(seconds):
        ticks.append(seconds)
        if len(ticks) == 3:
            started.driver.running = False

    monkeypatch.setattr(drive_module.time, "sleep", sleep)
    started.ticks = ticks
    return started


def test_the_loop_ticks_until_the_load_ends_then_settles_drains_and_journals_load_stop(tmp_path, parts):
    run, progress = fakes.prepared(tmp_path), FakeProgress()
    parts.driver.stats.requests = 17
    drive(run, parts, progress)
    assert parts.timeline.steps == 3 and progress.ticks == 3 and parts.ticks == [drive_module.TICK_S] * 3
    assert CALLS == ["timeline.settle", "driver.wait"] and progress.phases == ["load running"]
    [stop] = fakes.events(run.journal)
    assert (stop["event"], stop["t"], stop["drained_t"], stop["recorded"], stop["records"]) == (
        "load.stop", 1000.0, 1000.5, 17, 17)


def test_a_watchdog_failure_ends_the_drive_as_an_environment_failure(tmp_path, parts):
    parts.watchdog.failing = "Toxiproxy does not answer"
    with pytest.raises(EnvironmentFailure, match="Toxiproxy does not answer"):
        drive(fakes.prepared(tmp_path), parts, FakeProgress())
    assert CALLS == []  # no settle, no drain, no load.stop: the teardown takes over


def test_a_tripped_abort_condition_aborts(tmp_path, parts, monkeypatch):
    monkeypatch.setattr(drive_module, "tripped", lambda conditions, per_second, now, t0: "error_rate > 0.5 for 3 s")
    run = fakes.prepared(tmp_path)
    with pytest.raises(Aborted, match="error_rate > 0.5 for 3 s"):
        drive(run, parts, FakeProgress())
    assert fakes.events(run.journal) == [] and CALLS == []  # run.abort is the orchestrator's to journal


def test_a_failed_fault_surfaces_from_the_timeline(tmp_path, parts):
    parts.timeline.failure = EnvironmentFailure("inject failed")
    with pytest.raises(EnvironmentFailure, match="inject failed"):
        drive(fakes.prepared(tmp_path), parts, FakeProgress())


def test_the_loop_wakes_up_for_a_fault_due_before_the_next_tick(tmp_path, parts, monkeypatch):
    parts.t0 = 1000.0
    monkeypatch.setattr(drive_module.time, "time", lambda: 1010.0)
    parts.timeline.next_due_s = lambda: 10.03  # due 30 ms from now
    drive(fakes.prepared(tmp_path), parts, FakeProgress())
    assert parts.ticks == [pytest.approx(0.03)] * 3


def test_acknowledged_writes_are_read_back_only_when_a_request_has_a_read_back_path(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(drive_module, "acked_ids", lambda path: {"POST /orders": ["1"]})
    monkeypatch.setattr(drive_module, "read_back", lambda ids, host, paths, headers: seen.append((host, paths))
                        or {"acked": 1, "found": 1, "missing": []})
    plain = fakes.prepared(tmp_path / "plain")
    drive_module.read_back_acked(plain, "http://h", FakeProgress())
    assert seen == [] and fakes.events(plain.journal) == []
    acked = fakes.prepared(tmp_path / "acked", overrides=("load.requests.1.ack_id=id",
                                                          "load.requests.1.read_back=/orders/{id}"))
    progress = FakeProgress()
    drive_module.read_back_acked(acked, "http://h", progress)
    assert seen == [("http://h", {"POST /orders": "/orders/{id}"})]
    assert [(e["event"], e["found"]) for e in fakes.events(acked.journal)] == [("readback", 1)]
    assert progress.phases == ["reading acknowledged writes back"]
