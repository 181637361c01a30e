"""``remote_worker_throughput_ratio``: requests/s with two remote workers ÷ with two local ones.

The same load as ``workers_scaling_ratio`` (bench/scenarios/workers.yaml: FastHttpUser, 64 users,
no think time, 10 s, against HAProxy answering from memory on the host's loopback), run in
turns: two local workers (``load.workers: {local: 2}``) and two remote ones (``{remote: 2}``:
two containers of harness/worker:0.1 that fetch the spec from the master and join with
``harness worker --master``). The worker containers use the host's network (``--network host``),
so both kinds dial the target and the master over loopback, and the ratio is the cost of the
remote path itself: a worker started apart, its spec fetched over ZeroMQ, its clock measured and
its records moved into the master's clock, in a container. Turns local, remote, local, remote,
local; each remote run is divided by the mean of its two neighbours (bench.common.
ratios_to_neighbours, the drift of the machine's speed cancels), the row is the median.
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import uuid
from pathlib import Path

from bench.common import SCENARIOS, Row, harness_run, log, ratios_to_neighbours

IMAGE = "harness/worker:0.1"
ORDER = ("local", "remote", "local", "remote", "local")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_remote_workers(port: int, count: int, tag: str) -> list[str]:
    """``count`` worker containers on the host's network dialing the master at 127.0.0.1:``port``."""
    names = [f"harness-bench-worker-{tag}-{i}" for i in range(count)]
    for name in names:
        subprocess.run(["docker", "run", "-d", "--rm", "--name", name, "--network", "host", "--label",
                        "harness.bench=remote-workers", IMAGE, "--master", f"127.0.0.1:{port}", "--timeout-s", "120"],
                       check=True, capture_output=True, timeout=60)
    return names


def _remove(names: list[str]) -> None:
    for name in names:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=60)


def _one(work: Path, i: int, kind: str) -> dict:
    """One run of the workers scenario with two workers of ``kind``; its figures."""
    port = _free_port()
    workers = "{local: 2}" if kind == "local" else "{remote: 2, join_timeout_s: 60}"
    names = _start_remote_workers(port, 2, uuid.uuid4().hex[:6]) if kind == "remote" else []
    try:
        result = harness_run(SCENARIOS / "workers.yaml", work / f"remote-workers-{i}", f"load.workers={workers}",
                             f"load.master_bind=127.0.0.1:{port}")
    finally:
        _remove(names)
    if result.returncode != 0:
        raise RuntimeError(f"{kind} run exited {result.returncode}: {result.report.get('error')}")
    load = result.report["load"]
    return {"kind": kind, "requests": load["recorded"], "rps": round(load["recorded"] / load["duration_s"], 1),
            "locust_requests": load["locust_requests"], "workers": load.get("workers"),
            "p50_ms": result.report["totals"]["p50_ms"], "run_id": result.report["run_id"]}


def run(work: Path) -> list[Row]:
    runs = []
    for i, kind in enumerate(ORDER):
        runs.append(_one(work, i, kind))
        log(f"remote workers: two {kind} workers: {runs[-1]['rps']} requests/s")
    ratios = ratios_to_neighbours(runs, "kind", "remote")
    local = [r["rps"] for r in runs if r["kind"] == "local"]
    remote = [r["rps"] for r in runs if r["kind"] == "remote"]
    log(f"remote workers: each remote run ÷ its two local neighbours {ratios}: median {statistics.median(ratios):.3f}")
    detail = {"runs": runs, "ratios_to_neighbours": ratios, "local_rps": local, "remote_rps": remote,
              "spread": [min(ratios), max(ratios)]}
    return [Row("remote_worker_throughput_ratio", round(float(statistics.median(ratios)), 3), ">=", 0.9, "ratio",
                detail)]
