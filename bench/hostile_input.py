"""``hostile_validate_worst_s`` and ``hostile_validate_peak_rss_mib``: the slowest and the
hungriest ``harness validate`` among hostile scenario files of up to 10 MB (issue 14's budget:
under 5 s and 500 MiB each), measured side by side with ``validate`` of the quickstart.

Each file is built to cost the most its class can within the loader's limits
(:mod:`harness.scenario.safe_yaml`): just under the 1 MB file cap where a bigger file is
refused outright, nested or aliased up to the limits, or far past them. Each ``validate`` is
its own process (``python -m harness validate``, as a user runs it); its wall time and its peak
RSS (``ru_maxrss`` from ``wait4``) are recorded, with the ratio to the quickstart's. Every file
must be refused with exit 2 and one line, or accepted with exit 0: anything else is an error
of the benchmark. The slowest and the hungriest file are then measured REPEATS - 1 more times:
each row is the median of its file's REPEATS runs, bounded at 90 %.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import REPO, Row, log

REPEATS = 4
"""Runs of the slowest and of the hungriest file: the fewest whose median the sign test bounds
at 90 % (bench/confidence.py; the bound is then the largest of the four)."""
CAP = 1_000_000 - 64
"""Bytes of the files that stay under the scenario size cap (with room for their head)."""


def hostile_files() -> dict[str, bytes]:
    """Name -> content of every hostile class measured."""
    head = b"name: x\nload: "
    pad = CAP - len(head)
    anchors = b"a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + b"".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n".encode() for i in range(1, 9))
    return {
        "flat list of 1 MB": head + b"[" + b"1," * ((pad - 2) // 2) + b"]",
        "flat mapping of 1 MB": b"name: x\nload:\n" + b"".join(b"  k%06d: 1\n" % i for i in range((CAP - 20) // 12)),
        "plain scalar of 1 MB": head + b"x" * pad,
        "quoted scalar with escapes of 1 MB": head + b'"' + b"\\u00e9" * ((pad - 2) // 6) + b'"',
        "comments of 1 MB": b"name: x\n" + b"# comment line\n" * (CAP // 15),
        "simple key of 1 MB": b"x" * CAP + b": 1\n",
        "flow nesting 20,000 deep": head + b"[" * 20000 + b"]" * 20000,
        "unclosed flow nesting of 1 MB": head + b"[" * pad,
        "block nesting 1,000 deep": b"load:\n" + b"".join(b" " * i + b"- \n" for i in range(1, 1000)),
        "self-referencing alias": head + b"&a [*a]\n",
        "alias bomb (10^9 nodes)": anchors,
        "10 MB file": b"name: x\n" + b"# padding\n" * 1_000_000,
    }


def measure(file: Path) -> dict:
    """Run ``harness validate FILE``; its exit code, stderr lines, wall s and peak RSS MiB."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "harness", "validate", str(file)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall_s = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"exit": proc.returncode, "lines": len(stderr.splitlines()), "wall_s": round(wall_s, 3),
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1), "first_line": stderr.decode(errors="replace")[:160]}


def run(work: Path) -> list[Row]:
    """Measure every hostile file and the quickstart; the worst time and memory are the rows."""
    out = work / "hostile"
    out.mkdir(parents=True, exist_ok=True)
    baseline = measure(REPO / "scenarios" / "quickstart.yaml")
    figures = {}
    for i, (name, data) in enumerate(hostile_files().items()):
        file = out / f"hostile-{i:02d}.yaml"
        file.write_bytes(data)
        m = measure(file)
        if not (m["exit"] == 2 and m["lines"] == 1) and m["exit"] != 0:
            raise RuntimeError(f"{name}: exit {m['exit']}, {m['lines']} stderr lines: {m['first_line']}")
        m["bytes"] = len(data)
        m["time_vs_quickstart"] = round(m["wall_s"] / baseline["wall_s"], 2)
        m["rss_vs_quickstart"] = round(m["peak_rss_mib"] / baseline["peak_rss_mib"], 2)
        figures[name] = m
        log(f"hostile: {name}: {m['wall_s']} s ({m['time_vs_quickstart']}x the quickstart), "
            f"{m['peak_rss_mib']} MiB ({m['rss_vs_quickstart']}x): {m['first_line'][:90]}")
        file.unlink()
    slowest = max(figures, key=lambda n: figures[n]["wall_s"])
    hungriest = max(figures, key=lambda n: figures[n]["peak_rss_mib"])
    files = hostile_files()
    times = [figures[slowest]["wall_s"]] + [_again(out, files[slowest])["wall_s"] for _ in range(REPEATS - 1)]
    rss = [figures[hungriest]["peak_rss_mib"]] + [_again(out, files[hungriest])["peak_rss_mib"]
                                                 for _ in range(REPEATS - 1)]
    log(f"hostile: {slowest} again: {times} s; {hungriest} again: {rss} MiB")
    detail = {"quickstart": baseline, "files": figures, "slowest": slowest, "hungriest": hungriest,
              "slowest_wall_s": times, "hungriest_peak_rss_mib": rss}
    return [Row("hostile_validate_worst_s", statistics.median(times), "<=", 5.0, "s", detail, samples=times),
            Row("hostile_validate_peak_rss_mib", statistics.median(rss), "<=", 500.0, "MiB", detail, samples=rss)]


def _again(out: Path, data: bytes) -> dict:
    """One more ``validate`` of a hostile file: its :func:`measure` figures."""
    file = out / "hostile-again.yaml"
    file.write_bytes(data)
    try:
        return measure(file)
    finally:
        file.unlink()


if __name__ == "__main__":
    import json

    rows = run(REPO / "build" / "bench" / "hostile-only")
    print(json.dumps({r.name: r.value for r in rows}, indent=2))
