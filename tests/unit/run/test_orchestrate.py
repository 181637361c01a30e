"""execute() with fake phases: whatever the start or drive phase raises becomes the run's status,
the undo stack is always unwound before ``run.end``, the signal handlers are put back, and the
report is written after the warm-up thread ended."""

from __future__ import annotations

import signal
import time

import pytest

from harness.errors import EnvironmentFailure
from harness.run import orchestrate
from harness.run.drive import Aborted
from harness.run.orchestrate import RunResult, execute, outcome
from harness.run.signals import Interrupted, raise_interrupted
from harness.scenario import load_scenario
from tests.unit.run import fakes


@pytest.fixture
def phases(tmp_path, monkeypatch):
    """Fake prepare/start/drive/write_report; ``phases.raises`` is what drive raises."""

    class Phases:
        raises: BaseException | None = None
        minimal = False  # write_report falls back to a minimal report (json and md)
        run = fakes.prepared(tmp_path)
        seen: dict = {}

    def start(run, started, undo, progress, on_up, shared=None, make_timeline=None, before_down=None):
        Phases.seen["handler"] = signal.getsignal(signal.SIGINT)
        Phases.seen["before_down"] = before_down
        Phases.seen["shared"] = shared
        undo.push("part.stop", lambda: run.journal.record("part.stopped"))
        started.environment.update(toxiproxy="2.12.0", images={})
        on_up()

    def drive(run, started, progress):
        if Phases.raises is not None:
            raise Phases.raises

    def warm_up():
        time.sleep(0.2)
        Phases.seen["warm"] = True

    def write_report(run_dir, loaded, redact, info, strict=False, without=()):
        Phases.seen.update(info=info, strict=strict, without=without, warm_before_report=Phases.seen.get("warm"))
        formats = ("json", "md") if Phases.minimal else ("json", "md", "junit", "html")
        return "the report", {f: run_dir / f for f in formats if f not in without}

    monkeypatch.setattr(orchestrate, "prepare", lambda loaded, out_dir, seed, compose_config=None: Phases.run)
    monkeypatch.setattr(orchestrate, "start", start)
    monkeypatch.setattr(orchestrate, "drive", drive)
    monkeypatch.setattr(orchestrate, "warm_up_reports", warm_up)
    monkeypatch.setattr(orchestrate, "write_report", write_report)
    return Phases


@pytest.mark.parametrize("raised, status, error", [
    (None, "completed", None),
    (Interrupted("SIGINT"), "interrupted", "interrupted by SIGINT"),
    (Aborted("error_rate > 0.5 for 3 s"), "aborted", "abort condition tripped: error_rate > 0.5 for 3 s"),
    (EnvironmentFailure("the engine went away"), "error", "the engine went away"),
    (KeyError("k"), "error", "internal error: KeyError: 'k'"),
])
def test_the_phases_outcome_is_unwound_then_ended_then_reported(phases, raised, status, error):
    before = signal.getsignal(signal.SIGINT)
    phases.raises = raised
    result = execute(phases.run.loaded, strict=True)
    assert isinstance(result, RunResult) and result.report == "the report" and result.run_dir == phases.run.run_dir
    names = [e["event"] for e in fakes.events(phases.run.journal)]
    assert names == (["run.abort"] if isinstance(raised, Aborted) else []) + ["part.stopped", "run.end"]
    end = fakes.events(phases.run.journal)[-1]
    assert (end["status"], end["error"], end["environment"]) == (status, error, {"toxiproxy": "2.12.0"})
    info = phases.seen["info"]
    assert (info.run_id, info.seed, info.status, info.error) == (phases.run.run_id, 42, status, error)
    assert phases.seen["strict"] is True and phases.seen["warm_before_report"] is True
    assert phases.seen["handler"] is raise_interrupted and signal.getsignal(signal.SIGINT) is before
    assert (phases.run.run_dir / "harness.log").exists() == isinstance(raised, KeyError)


def test_a_bug_in_the_harness_leaves_its_traceback_in_harness_log(tmp_path):
    run = fakes.prepared(tmp_path)
    try:
        raise ZeroDivisionError("division by zero")
    except ZeroDivisionError as exc:
        assert outcome(exc, run) == ("error", "internal error: ZeroDivisionError: division by zero")
    assert "ZeroDivisionError" in (tmp_path / "harness.log").read_text()


def test_the_real_prepare_refuses_a_scenario_before_anything_starts(tmp_path):
    """No fakes: a compose file that does not exist stops the run in the preflight (exit 2)."""
    from harness.errors import ScenarioError

    (tmp_path / "s.yaml").write_text((fakes.QUICKSTART.read_text()).replace("../docker-compose.yml",
                                                                            str(tmp_path / "absent.yml")))
    with pytest.raises(ScenarioError):
        execute(load_scenario(tmp_path / "s.yaml"), out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_shared_stack_is_handed_to_the_start_phase(phases, tmp_path):
    from harness.run.shared import SharedStack

    shared = SharedStack(tmp_path / "stack")
    execute(phases.run.loaded, shared=shared)
    assert phases.seen["shared"] is shared


class FakeShared:
    """The parts of SharedStack that execute() uses; records, in ``order``, when the next run's
    load child is spawned (with the journal's last event then) and which pages go aside."""

    compose_config = None

    def __init__(self, journal, more_runs: bool):
        self.journal, self.more_runs, self.order = journal, more_runs, []
        self.idle_reports = self

    def prewarm_load(self):
        self.order.append(("prewarm", [e["event"] for e in fakes.events(self.journal)][-1:]))

    def submit(self, run_dir):
        self.order.append(("idle page", run_dir))


def test_a_shared_stacks_run_spawns_the_next_runs_load_child_once_its_load_is_over(phases, monkeypatch):
    """The warm child imports Locust during this run's teardown and report (harness.run.shared):
    spawned after the drive phase, before the teardown's first step (again after it, a no-op
    for the real SharedStack, for a drive phase that raised)."""
    shared = FakeShared(phases.run.journal, more_runs=True)
    written = orchestrate.write_report
    monkeypatch.setattr(orchestrate, "write_report", lambda *a, **k: shared.order.append(("report", None)) or written(*a, **k))
    execute(phases.run.loaded, shared=shared)
    assert shared.order[:2] == [("prewarm", []), ("prewarm", ["run.end"])]
    assert shared.order[2] == ("report", None)


@pytest.mark.parametrize("more_runs", [True, False])
def test_a_run_that_another_follows_leaves_its_page_to_an_idle_child(phases, more_runs):
    """harness.run.idle_reports: the run writes report.json, .md and junit.xml, not report.html,
    and hands its directory over; the last run draws its page itself."""
    shared = FakeShared(phases.run.journal, more_runs=more_runs)
    execute(phases.run.loaded, shared=shared)
    assert phases.seen["without"] == (("html",) if more_runs else ())
    handed = [run_dir for what, run_dir in shared.order if what == "idle page"]
    assert handed == ([phases.run.run_dir] if more_runs else [])


def test_a_minimal_report_keeps_its_own_md_and_no_child_redraws_it(phases):
    """A report that could not be built is json and md only (harness.run.report): no page to draw."""
    phases.minimal = True
    shared = FakeShared(phases.run.journal, more_runs=True)
    execute(phases.run.loaded, shared=shared)
    assert [what for what, _ in shared.order if what == "idle page"] == []
