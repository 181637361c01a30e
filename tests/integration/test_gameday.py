"""``harness gameday`` on the quickstart, scripted through a pipe as an operator would type it:
a bad command changes nothing, a note lands in the journal and the report, ``inject`` /
``revert`` make a ``fault:catalog-slow`` window judged by the scenario's expectations, ``end``
tears everything down."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest

from tests.conftest import REPO
from tests.integration.test_interrupt import assert_nothing_left

pytestmark = pytest.mark.integration

BASELINE_S = 6.0
"""Before the inject: the baseline expectation needs 300 requests (error_rate < 0.01)."""
FAULT_S = 12.0
RECOVERY_S = 3.0
NOTE = "drill: catalog answers 1.5 s late; the breaker should open"


class Stderr:
    """The child's stderr, read line by line in a thread; ``ready`` is set at the game's start."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line)
            if " ready; commands:" in line:
                self.ready.set()


def send(proc: subprocess.Popen, line: str) -> None:
    proc.stdin.write(line + "\n")
    proc.stdin.flush()


def test_a_scripted_game_day_on_the_quickstart(docker_engine, tmp_path):
    out = tmp_path / "gameday"
    began = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "harness", "gameday", "scenarios/quickstart.yaml", "--out", str(out)],
                            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stderr = Stderr(proc.stderr)
    try:
        assert stderr.ready.wait(180), "".join(stderr.lines)[-3000:]
        send(proc, "injekt catalog-slow")  # a bad command: one line, nothing injected
        send(proc, f"note {NOTE}")
        time.sleep(BASELINE_S)
        send(proc, "inject catalog-slow")
        time.sleep(FAULT_S / 2)
        send(proc, "inject catalog-slow")  # active already: one line, nothing changes
        send(proc, "status")
        time.sleep(FAULT_S / 2)
        send(proc, "revert catalog-slow")
        time.sleep(RECOVERY_S)
        send(proc, "end")
        proc.stdin.close()
        stdout = proc.stdout.read()
        proc.wait(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr.thread.join(10)
    took = time.monotonic() - began
    text = "".join(stderr.lines)
    print(f"gameday integration test: {took:.1f} s\n{text}")
    report = json.loads((out / "report.json").read_text())

    # the bad commands: one error line each, and only the good inject reached the stack
    errors = [line for line in stderr.lines if " error: " in line]
    assert len(errors) == 2 and "unknown command 'injekt'" in errors[0], text
    assert "catalog-slow is active already" in errors[1]
    events = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    assert [e["event"] for e in events].count("fault.injecting") == 1
    assert [(e["event"], e["fault"]) for e in events if e["event"] in ("fault.inject", "fault.revert")] == [
        ("fault.inject", "catalog-slow"), ("fault.revert", "catalog-slow")]

    # the note: in the journal and in the report's timeline
    assert [e["text"] for e in events if e["event"] == "note"] == [NOTE]
    assert [n["text"] for n in report["notes"]] == [NOTE]
    assert f"note: {NOTE}" in (out / "report.md").read_text().replace("\\", "")

    # the fault window, judged by the quickstart's expectations; the injected latency acted
    window = next(w for w in report["windows"] if w["name"] == "fault:catalog-slow")
    assert FAULT_S - 2 <= window["end_s"] - window["start_s"] <= FAULT_S + 3
    p99 = next(e for e in report["expectations"] if e["name"] == "product p99 bounded while catalog is slow")
    assert p99["window"] == "fault:catalog-slow" and p99["held"], p99
    effect = next(e for e in report["fault_effects"] if e["window"] == "fault:catalog-slow")
    assert effect["acted"] is True, effect  # traffic crossed the catalog proxy while the toxic was on
    # the latency reached the products (the naive profile waits it out, p50 >= 1500 ms; the
    # resilient one times out and falls back, so its slowest requests waited on the catalog)
    products = window["by_request"]["GET /products/{id}"]
    baseline = next(w for w in report["windows"] if w["name"] == "baseline")["by_request"]["GET /products/{id}"]
    assert products["max_ms"] >= 250 and products["max_ms"] > 2 * baseline["p99_ms"], (products, baseline)
    assert not any("api-replica-killed" in e["window"] for e in report["expectations"])  # never injected

    assert report["status"] in ("passed", "inconclusive"), (report["status"], report["error"])
    assert proc.returncode == {"passed": 0, "inconclusive": 5}[report["status"]], text[-3000:]
    assert "report: " in stdout
    assert_nothing_left(report["run_id"])
