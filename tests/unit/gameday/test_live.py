"""What the operator sees, read from the run's own files as they grow: the last seconds' p99
and the windows so far."""

from __future__ import annotations

import json

from harness.gameday.live import RecentLatency, WindowsSoFar, clock_tag, live_line, windows_line


def test_the_p99_covers_the_requests_that_ended_in_the_last_seconds(tmp_path):
    path = tmp_path / "requests.tsv"
    latency = RecentLatency(path)
    assert latency.p99_ms(1000.0) is None  # no file yet
    lines = [f"{990.0 + i * 0.01:.6f}\t{10.0:.3f}\tGET /x\t200\t\t3\n" for i in range(99)]
    lines.append(f"{995.0:.6f}\t{1500.0:.3f}\tGET /x\t200\t\t3\n")
    path.write_text("".join(lines) + "garbage line\n" + "1000.0\t5")  # a garbled line, a partial one
    assert latency.p99_ms(1000.0) == 10.0  # nearest rank of 100: the 99th
    with path.open("a") as f:
        f.write(".000\tGET /x\t200\t\t3\n")  # the partial line completed, ends at 1000.005
        f.write("".join(f"{999.0:.6f}\t{1500.0:.3f}\tGET /x\t200\t\t3\n" for _ in range(3)))
    assert latency.p99_ms(1001.0) == 1500.0
    assert latency.p99_ms(1012.0) is None  # all older than 10 s


def test_the_windows_so_far_come_from_the_journal_as_it_grows(tmp_path):
    windows = WindowsSoFar(tmp_path)
    assert windows.get(100.0) == ()
    journal = tmp_path / "journal.jsonl"

    def record(event, t, **fields):
        with journal.open("a") as f:
            f.write(json.dumps({"event": event, "at": "", "t": t, **fields}) + "\n")

    record("load.start", 100.0)
    record("container.stats", 101.0, cpu=1)
    assert [w.name for w in windows.get(105.0)] == ["baseline"]
    record("fault.inject", 110.0, fault="f", kind="latency", took_ms=500)
    got = windows.get(120.0)
    assert [(w.name, w.start_s, w.end_s) for w in got] == [("baseline", 0.0, 10.0), ("fault:f", 10.5, 20.0)]
    assert windows_line(got, ["f"]) == "baseline 0.0-10.0 s, fault:f 10.5-…"
    record("fault.revert", 125.0, fault="f", kind="latency", took_ms=0)
    got = windows.get(130.0)
    assert windows_line(got, []) == "baseline 0.0-10.0 s, fault:f 10.5-25.0 s, recovery:f 25.0-…"


def test_the_lines_shown():
    assert clock_tag(0.0) == "00:00:00Z"
    line = live_line(42.14, 75, 85.0, 0.012, 210.4, ["catalog-slow"], 2)
    assert line.startswith("game day   42.1 s (cap 75 s) |    85.0 rps | errors   1.2% | p99 210 ms")
    assert "active: catalog-slow | 2 windows" in line
