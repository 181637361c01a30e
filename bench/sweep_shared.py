"""``sweep_shared_ratio``: the wall time of a sweep whose cells share one stack, over the same
cells each on a fresh stack (``--fresh-stack``: what running them as separate runs costs).

Both sides run ``harness sweep bench/scenarios/sweep.yaml --vary faults.0.latency_ms=100,300,600``
(three cells of 10 s of load with the catalog slowed for 4 s) in a child process, in turns
fresh, shared, fresh, ... fresh (seven shared sweeps), and must leave nothing labelled behind.
Each shared sweep's wall time is divided by the mean of the two fresh sweeps around it; the row
is the median of the seven ratios, judged on its 90 % upper bound (bench/confidence.py: with
seven samples, the second largest; with four it was the largest, so one sweep that the machine
slowed decided the row). The shared side pays one compose up and down, plus a reset per cell
(Toxiproxy's reset, the health wait).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import OUR_RUN_IDS, REPO, SCENARIOS, Row, labelled_containers, log, ratios_to_neighbours

CELLS = "faults.0.latency_ms=100,300,600"
ORDER = "F" + "SF" * 7


def _sweep(out: Path, fresh: bool) -> dict:
    """One ``harness sweep`` in a child process: its wall time and its cells' run ids."""
    before = labelled_containers()
    argv = [sys.executable, "-m", "harness", "sweep", str(SCENARIOS / "sweep.yaml"), "--vary", CELLS,
            "--out", str(out), *(["--fresh-stack"] if fresh else [])]
    started = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, timeout=1200, stdin=subprocess.DEVNULL,
                          env={**os.environ, "COLUMNS": "120"})
    wall_s = time.perf_counter() - started
    sweep = json.loads((out / "sweep.json").read_text()) if (out / "sweep.json").exists() else {}
    OUR_RUN_IDS.extend(c["run_id"] for c in sweep.get("cells", []) if c.get("run_id"))
    if proc.returncode != 0 or sweep.get("shared_stack") == fresh:
        raise RuntimeError(f"sweep (fresh={fresh}) exited {proc.returncode}, shared_stack="
                           f"{sweep.get('shared_stack')}: {proc.stderr[-1500:]}")
    left = labelled_containers() - before
    if left:
        raise RuntimeError(f"sweep (fresh={fresh}) left containers {sorted(left)} behind")
    return {"kind": "fresh" if fresh else "shared", "wall_s": round(wall_s, 2),
            "cells_s": [c["duration_s"] for c in sweep["cells"]]}


def run(work: Path) -> list[Row]:
    runs = []
    for i, kind in enumerate(ORDER):
        figures = _sweep(work / f"sweep-{i}-{kind}", fresh=kind == "F")
        runs.append(figures)
        log(f"sweep ({figures['kind']} stack): {figures['wall_s']:.1f} s, cells {figures['cells_s']}")
    ratios = ratios_to_neighbours(runs, "kind", "shared", value="wall_s")
    log(f"sweep: each shared sweep ÷ its two fresh neighbours {ratios}: median {statistics.median(ratios):.3f}")
    return [Row("sweep_shared_ratio", round(statistics.median(ratios), 3), "<=", 0.8, "ratio",
                {"runs": runs, "ratios_to_neighbours": ratios}, samples=ratios)]
