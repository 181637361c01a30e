"""``remote_worker_throughput_ratio``: requests/s with two remote workers ÷ with two local ones.

The same load as ``workers_scaling_ratio`` (bench/scenarios/workers.yaml: FastHttpUser, 64 users,
no think time, 10 s, against HAProxy answering from memory on the host's loopback), run in
turns: two local workers (``load.workers: {local: 2}``, started by the master) and two remote
ones (``{remote: 2}``: two ``harness worker --master 127.0.0.1:PORT`` processes started apart,
which fetch the spec from the master over ZeroMQ, measure their clock and move their records into
the master's). Both kinds are processes of this machine's Python, so the ratio is the cost of
the remote path itself. Turns local, remote, ... local (seven remote runs); each remote run is divided by
the mean of its two neighbours (bench.common.ratios_to_neighbours: a drift of the machine's
speed cancels); the row is the median.

Then one more run with two worker containers (harness/worker:0.1, ``--network host``), for the
details only: the image's Python is Debian's (built with PGO and LTO), this machine's is a
pyenv build without ``--enable-optimizations``, so a container worker is faster per core and
its figure says more about the interpreter than about the remote path.
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import uuid
from pathlib import Path

from bench.common import SCENARIOS, Row, harness_run, log, ratios_to_neighbours

IMAGE = "harness/worker:0.1"
ORDER = ("local",) + ("remote", "local") * 7 + ("container",)
"""Seven remote runs, each between two local ones (the sign test's 90 % bound of seven ratios is
the second smallest: bench/confidence.py), then one container run for the details."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_remote_workers(port: int, count: int, kind: str, tag: str) -> list:
    """``count`` workers dialing the master at 127.0.0.1:``port``: processes of this Python
    (``remote``), or containers on the host's network (``container``); what :func:`_remove` takes."""
    if kind == "remote":
        return [subprocess.Popen([sys.executable, "-m", "harness", "worker", "--master", f"127.0.0.1:{port}",
                                  "--timeout-s", "120"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for _ in range(count)]
    names = [f"harness-bench-worker-{tag}-{i}" for i in range(count)]
    for name in names:
        subprocess.run(["docker", "run", "-d", "--rm", "--name", name, "--network", "host", "--label",
                        "harness.bench=remote-workers", IMAGE, "--master", f"127.0.0.1:{port}", "--timeout-s", "120"],
                       check=True, capture_output=True, timeout=60)
    return names


def _remove(workers: list) -> None:
    """Stop what :func:`_start_remote_workers` started (a worker still running after its run)."""
    for worker in workers:
        if isinstance(worker, str):
            subprocess.run(["docker", "rm", "-f", worker], capture_output=True, timeout=60)
        else:
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


def _one(work: Path, i: int, kind: str) -> dict:
    """One run of the workers scenario with two workers of ``kind``; its figures."""
    port = _free_port()
    workers = "{local: 2}" if kind == "local" else "{remote: 2, join_timeout_s: 60}"
    names = _start_remote_workers(port, 2, kind, uuid.uuid4().hex[:6]) if kind != "local" else []
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
    measured = [r for r in runs if r["kind"] != "container"]
    ratios = ratios_to_neighbours(measured, "kind", "remote")
    local = [r["rps"] for r in measured if r["kind"] == "local"]
    remote = [r["rps"] for r in measured if r["kind"] == "remote"]
    container = runs[-1]["rps"] / runs[-2]["rps"]
    log(f"remote workers: each remote run ÷ its two local neighbours {ratios}: median {statistics.median(ratios):.3f}; "
        f"two worker containers ÷ the local run before them: {container:.3f} (Debian's optimised Python)")
    detail = {"runs": runs, "ratios_to_neighbours": ratios, "local_rps": local, "remote_rps": remote,
              "spread": [min(ratios), max(ratios)], "container_over_last_local": round(container, 3)}
    return [Row("remote_worker_throughput_ratio", round(float(statistics.median(ratios)), 3), ">=", 0.9, "ratio",
                detail, samples=ratios)]
