"""harness.run.idle_reports: a run that another run follows on a shared stack leaves its
report.html to a child process at idle priority; finish() waits for the children and draws
itself every page a child did not write, so none is missing when the sweep ends.

Real child processes (``python -m harness.run.idle_reports``); the report is the unit tests'
sample report (tests/unit/report/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from harness.report import write_reports
from harness.run import idle_reports
from harness.run.idle_reports import IdleReports
from tests.unit.report.conftest import make_report


@pytest.fixture
def run_dir(tmp_path):
    """A run directory as a followed run leaves it: every format but report.html."""
    write_reports(make_report(), tmp_path, without=("html",))
    assert not (tmp_path / "report.html").exists()
    return tmp_path


def test_without_html_the_other_formats_are_written(run_dir):
    assert sorted(p.name for p in run_dir.iterdir()) == ["junit.xml", "report.json", "report.md"]


def test_the_child_draws_the_page_and_nothing_is_drawn_in_process(run_dir, monkeypatch):
    drawn_here = []
    monkeypatch.setattr(idle_reports, "draw_here", drawn_here.append)
    pages = IdleReports()
    pages.submit(run_dir)
    assert pages.finish() == []
    assert drawn_here == []
    html = (run_dir / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "data:image/png;base64," in html


def test_a_page_the_child_did_not_write_is_drawn_in_process(run_dir):
    """The child fails (no report.json yet when it reads it): finish() draws the page itself."""
    report_json = (run_dir / "report.json").read_bytes()
    (run_dir / "report.json").unlink()
    pages = IdleReports()
    pages.submit(run_dir)
    pages._pending[0][1].wait(timeout=60)  # the child has failed by now
    (run_dir / "report.json").write_bytes(report_json)
    assert pages.finish() == [run_dir]
    assert (run_dir / "report.html").is_file()


def test_a_child_that_could_not_start_is_made_up_for(run_dir, monkeypatch):
    def no_fork(*_args, **_kwargs):
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(subprocess, "Popen", no_fork)
    pages = IdleReports()
    pages.submit(run_dir)
    assert pages.finish() == [run_dir]
    assert (run_dir / "report.html").is_file()


def test_a_child_still_drawing_at_the_deadline_is_killed_and_its_page_drawn_here(run_dir, monkeypatch):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    pages = IdleReports()
    pages._pending.append((run_dir, sleeper))
    assert pages.finish(timeout_s=0.5) == [run_dir]
    assert sleeper.returncode is not None  # killed, not left running
    assert (run_dir / "report.html").is_file()


def test_a_page_that_cannot_be_drawn_leaves_its_traceback_in_harness_log(tmp_path):
    pages = IdleReports()
    pages._pending.append((tmp_path, None))  # no report.json at all
    assert pages.finish() == [tmp_path]
    assert "drawing report.html" in (tmp_path / "harness.log").read_text()


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="SCHED_IDLE is Linux's")
def test_the_child_runs_at_the_idle_scheduling_policy():
    out = subprocess.run([sys.executable, "-c", "import os; from harness.run.idle_reports import idle_priority; "
                          "idle_priority(); print(os.sched_getscheduler(0) == os.SCHED_IDLE)"],
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "True", out.stderr


def test_the_child_without_its_argument_exits_2():
    assert idle_reports.main([]) == 2


def test_a_newer_submit_for_the_same_directory_cancels_the_older_child(run_dir):
    """sweep.html is drawn again after every cell: a child still drawing the previous sweep.json
    is killed (its page is out of date), so only the newest is waited for."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    pages = IdleReports()
    pages._pending.append((run_dir, sleeper))
    pages.submit(run_dir)
    assert sleeper.wait(timeout=5) is not None  # killed at once
    assert [d for d, _ in pages._pending] == [run_dir]
    assert pages.finish() == []
    assert (run_dir / "report.html").is_file()


def test_cancel_kills_the_directorys_child_and_forgets_it(run_dir, tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    other = subprocess.Popen([sys.executable, "-c", "pass"])
    pages = IdleReports()
    pages._pending += [(run_dir, sleeper), (tmp_path / "other", other)]
    pages.cancel(run_dir)
    assert sleeper.poll() is not None
    assert [d for d, _ in pages._pending] == [tmp_path / "other"]
    other.wait(timeout=30)


def test_a_sweep_directorys_child_draws_sweep_html(tmp_path):
    from tests.unit.sweep.test_orchestrate import QUICKSTART
    from harness.report.sweep import write_sweep
    from harness.sweep import SweepOptions, parse_vary, run_grid
    from tests.unit.sweep.fakes import ModelExecute, write_json

    sweep, _ = run_grid(SweepOptions(QUICKSTART, ["load.duration_s=75"], out_dir=tmp_path / "model",
                                     execute=ModelExecute(), write=write_json), [parse_vary("faults.0.latency_ms=100,200")])
    out = tmp_path / "sweep"
    write_sweep(sweep, out, without=("html",))
    pages = IdleReports()
    pages.submit(out)
    assert pages.finish() == []
    assert "cell-02" in (out / "sweep.html").read_text()
