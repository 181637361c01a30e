"""Ctrl-C in the middle of a fault, or in the middle of its inject: the fault is reverted, the
stack comes down, exit 130, and the report says ``interrupted``."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.integration

HERE = Path(__file__).resolve().parent


def journal_events(journal: Path) -> list[dict]:
    """The journal's events so far (a line being written is skipped)."""
    out = []
    for line in journal.read_text().splitlines() if journal.exists() else []:
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return out


def assert_nothing_left(run_id: str) -> None:
    for kind in ("ps -aq", "network ls -q", "volume ls -q"):
        left = subprocess.run(["docker", *kind.split(), "--filter", f"label=harness.run-id={run_id}"],
                              capture_output=True, text=True, timeout=30).stdout.strip()
        assert left == "", kind


def test_sigint_during_a_fault_tears_down_and_reports_interrupted(docker_engine, tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", "scenarios/quickstart.yaml", "--out", str(out),
         "--set", "faults.0.at_s=1", "--set", "faults.0.duration_s=30"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    journal = out / "journal.jsonl"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if journal.exists() and '"fault.inject"' in journal.read_text():
            break
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("the fault was never injected")
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-2000:]

    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "interrupted"
    assert [t["action"] for t in report["timeline"]] == ["inject", "revert"]  # reverted on the way out
    events = [json.loads(line)["event"] for line in journal.read_text().splitlines()]
    assert events.index("fault.revert") < events.index("stack.down") < events.index("run.end")
    for kind in ("ps -aq", "network ls -q", "volume ls -q"):
        left = subprocess.run(["docker", *kind.split(), "--filter", f"label=harness.run-id={report['run_id']}"],
                              capture_output=True, text=True, timeout=30).stdout.strip()
        assert left == "", kind


def test_sigint_while_a_long_stop_is_being_injected_still_reverts_it(docker_engine, tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", str(HERE / "stop_during_interrupt.yaml"), "--out", str(out)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    journal = out / "journal.jsonl"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        names = [e["event"] for e in journal_events(journal)]
        if "fault.injecting" in names:
            break
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("the stop was never started")
    assert "fault.inject" not in names  # the 10 s docker stop is in flight
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 130, stderr[-2000:]

    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "interrupted"
    events = journal_events(journal)
    names = [e["event"] for e in events]
    inject = next(e for e in events if e["event"] in ("fault.inject", "fault.inject_failed"))
    assert inject["took_ms"] > 5_000, inject  # it really was a long inject, cut into by the SIGINT
    assert names.index("fault.injecting") < names.index(inject["event"]) < names.index("fault.revert")
    assert names.index("fault.revert") < names.index("stack.down") < names.index("run.end")
    revert = next(e for e in events if e["event"] == "fault.revert")
    assert revert["touched"], revert  # the stopped container was started again
    assert_nothing_left(report["run_id"])
