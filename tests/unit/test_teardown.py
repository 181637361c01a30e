"""Teardown always completes: a step that raises does not skip the following ones, its error is
journalled and makes the run inconclusive; a second signal switches to the fast teardown; the
report is always written. Fakes at the edges (no Docker)."""

import json
import signal

import pytest

from harness import run
from harness.journal import Journal
from harness.redact import Redactor
from harness.run import FastTeardown, RunInfo, Started, write_report
from harness.run.teardown import push_driver, push_monitor, push_stack, push_timeline, push_watchdog, unwind
from harness.run.undo import UndoStack
from harness.scenario import load_scenario
from tests.conftest import REPO


pytestmark = pytest.mark.usefixtures("restore_signal_handlers")


class Recorder:
    """Every fake appends ``(object, call)`` here, so tests see the order of the teardown."""

    def __init__(self):
        self.calls = []


class Part:
    def __init__(self, rec, name, raises=None):
        self.rec, self.name, self.raises = rec, name, raises

    def _call(self, what):
        self.rec.calls.append(f"{self.name}.{what}")
        if self.raises is not None and what in self.raises:
            raise self.raises[what]


class FakeWatchdog(Part):
    def stop(self):
        self._call("stop")


class FakeTimeline(Part):
    def revert_all(self, t0):
        self._call("revert_all")


class FakeMonitor(Part):
    def stop(self):
        self._call("stop")


class FakeStats:
    requests = 42


class FakeDriver(Part):
    running = True
    started_at = 1.0
    stats = FakeStats()

    def stop(self, grace_s=None):
        self._call("stop" if grace_s is None else f"stop(grace_s={grace_s})")
        self.running = False

    def stop_summary(self):
        return {}


class FakeStack(Part):
    started = False  # never came up: the logs.save step has nothing to save

    def down(self, fast=False):
        self._call("down(fast)" if fast else "down")


class FakeProgress:
    def __init__(self):
        self.phases = []

    def phase(self, text):
        self.phases.append(text)


def started(rec, **raises):
    """A fake run with everything started; ``raises``: part name -> {call: exception}."""
    return Started(FakeWatchdog(rec, "watchdog", raises.get("watchdog")),
                   FakeTimeline(rec, "timeline", raises.get("timeline")),
                   FakeMonitor(rec, "monitor", raises.get("monitor")),
                   FakeDriver(rec, "driver", raises.get("driver")),
                   FakeStack(rec, "stack", raises.get("stack")))


def undo_of(parts, journal, t0=0.0):
    """The undo stack the start phase pushes for these parts, in the order it starts them."""
    undo = UndoStack()
    push_stack(undo, parts.stack, journal)
    push_driver(undo, parts.driver, journal)
    push_monitor(undo, parts.monitor)
    push_timeline(undo, parts.timeline, lambda: t0)
    push_watchdog(undo, parts.watchdog)
    return undo


def tear_down(parts, journal, progress, t0, status, error):
    """The run's teardown (:func:`harness.run.teardown.unwind`) of these parts."""
    return unwind(undo_of(parts, journal, t0), journal, progress, status, error)


def events(journal):
    return [json.loads(line) for line in journal.path.read_text().splitlines()]


GRACEFUL = ["watchdog.stop", "timeline.revert_all", "monitor.stop", "driver.stop", "stack.down"]


def test_everything_is_torn_down_in_order(tmp_path):
    rec, journal = Recorder(), Journal(tmp_path)
    status, error = tear_down(started(rec), journal, FakeProgress(), 0.0, "completed", None)
    assert rec.calls == GRACEFUL and (status, error) == ("completed", None)
    assert [(e["event"], e.get("cut_short")) for e in events(journal)] == [("load.stop", True)]


def test_a_step_that_raises_does_not_skip_the_following_ones(tmp_path):
    rec, journal = Recorder(), Journal(tmp_path)
    parts = started(rec, timeline={"revert_all": RuntimeError("boom")})
    status, error = tear_down(parts, journal, FakeProgress(), 0.0, "completed", None)
    assert rec.calls == GRACEFUL  # monitor, load and stack still came down
    errors = [e for e in events(journal) if e["event"] == "teardown.error"]
    assert [(e["step"], e["error"]) for e in errors] == [("timeline.revert_all", "RuntimeError: boom")]
    assert status == "error" and error == "teardown failed: timeline.revert_all: RuntimeError: boom"
    assert "RuntimeError: boom" in (tmp_path / "harness.log").read_text()


def test_every_step_raising_still_runs_every_step(tmp_path):
    rec, journal = Recorder(), Journal(tmp_path)
    parts = started(rec, watchdog={"stop": ValueError("w")}, timeline={"revert_all": ValueError("t")},
                    monitor={"stop": ValueError("m")}, driver={"stop": ValueError("d")},
                    stack={"down": ValueError("s")})
    status, error = tear_down(parts, journal, FakeProgress(), 0.0, "completed", None)
    assert rec.calls == GRACEFUL
    assert [e["step"] for e in events(journal) if e["event"] == "teardown.error"] == GRACEFUL
    assert status == "error" and error.count("ValueError") == 5


@pytest.mark.parametrize("status", ["interrupted", "aborted", "error"])
def test_a_teardown_error_keeps_an_earlier_outcome(tmp_path, status):
    rec, journal = Recorder(), Journal(tmp_path)
    parts = started(rec, monitor={"stop": RuntimeError("boom")})
    assert tear_down(parts, journal, FakeProgress(), 0.0, status, "why") == (status, "why")
    assert [e["step"] for e in events(journal) if e["event"] == "teardown.error"] == ["monitor.stop"]


def test_a_second_signal_during_teardown_switches_to_the_fast_teardown(tmp_path):
    rec, journal = Recorder(), Journal(tmp_path)
    parts = started(rec, timeline={"revert_all": FastTeardown("SIGINT")}, monitor={"stop": RuntimeError("x")})
    progress = FakeProgress()
    status, error = tear_down(parts, journal, progress, 0.0, "completed", None)
    assert rec.calls == ["watchdog.stop", "timeline.revert_all", "monitor.stop", "driver.stop(grace_s=0)",
                         "stack.down(fast)"]  # a failing fast step does not skip the others either
    assert (status, error) == ("interrupted", "interrupted during teardown")
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN and "fast teardown" in progress.phases[-1]


def test_teardown_turns_signals_into_a_fast_teardown(tmp_path):
    rec, journal = Recorder(), Journal(tmp_path)
    seen = []
    parts = started(rec)
    parts.watchdog.stop = lambda: seen.append(signal.getsignal(signal.SIGINT))
    tear_down(parts, journal, FakeProgress(), 0.0, "completed", None)
    assert seen == [run._raise_fast_teardown]


# -- the report is always written ------------------------------------------------------------


@pytest.fixture
def quickstart():
    return load_scenario(REPO / "scenarios" / "quickstart.yaml")


def _failing_build(run_dir, scenario, strict=False):
    raise KeyError("windows")


@pytest.mark.parametrize("run_status, expected", [("completed", "error"), ("interrupted", "interrupted")])
def test_a_report_that_cannot_be_built_is_written_minimal(tmp_path, monkeypatch, quickstart, run_status, expected):
    import harness.report

    monkeypatch.setattr(harness.report, "build_report", _failing_build)
    info = RunInfo("20260101T000000Z-abcdef", 7, 1_700_000_000.0, run_status, None)
    report, paths = write_report(tmp_path, quickstart, Redactor(), info)
    assert set(paths) == {"json", "md"}
    written = json.loads(paths["json"].read_text())
    assert written["status"] == report.status == expected
    assert written["error"] == "the report could not be built: KeyError: 'windows'"
    assert (written["run_id"], written["seed"], written["scenario"]["name"]) == (info.run_id, 7, "quickstart")
    assert "KeyError" in paths["md"].read_text() and "KeyError" in (tmp_path / "harness.log").read_text()


def test_a_minimal_report_keeps_the_runs_own_error_and_is_redacted(tmp_path, monkeypatch, quickstart):
    import harness.report

    monkeypatch.setattr(harness.report, "build_report", _failing_build)
    info = RunInfo("r", 1, 1_700_000_000.0, "error", "stack not healthy: token hunter2")
    report, paths = write_report(tmp_path, quickstart, Redactor({"hunter2"}), info)
    assert report.status == "error" and report.error.startswith("stack not healthy")
    assert "hunter2" not in paths["json"].read_text()


def test_logs_are_saved_before_the_stack_comes_down(tmp_path):
    """Both teardowns save the containers' logs, and do it before ``stack.down`` removes them."""
    rec = Recorder()
    undo = undo_of(started(rec), Journal(tmp_path))
    graceful = [name for name, _ in undo.graceful_steps()]
    fast = [name for name, _ in undo.fast_steps()]
    for names in (graceful, fast):
        assert names.index("logs.save") == names.index("stack.down") - 1


def test_the_report_is_drawn_ahead_between_the_logs_and_the_stack_down_in_the_graceful_teardown_only(tmp_path):
    """``report.ahead`` runs once everything measured is in (after ``logs.save``), just before the
    slow ``stack.down``; the fast teardown has no time for it."""
    rec = Recorder()
    undo = UndoStack()
    push_stack(undo, FakeStack(rec, "stack"), Journal(tmp_path), before_down=lambda: rec.calls.append("ahead"))
    graceful = [name for name, _ in undo.graceful_steps()]
    assert graceful[-3:] == ["logs.save", "report.ahead", "stack.down"]
    assert "report.ahead" not in [name for name, _ in undo.fast_steps()]
