"""Ctrl-C in the middle of a fault: the fault is reverted, the stack comes down, exit 130, and
the report says ``interrupted``."""

import json
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.integration


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
    for kind in ("ps -aq", "network ls -q"):
        left = subprocess.run(["docker", *kind.split(), "--filter", f"label=harness.run-id={report['run_id']}"],
                              capture_output=True, text=True, timeout=30).stdout.strip()
        assert left == "", kind
