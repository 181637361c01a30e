"""``remote_worker_throughput_ratio``: a remote worker's requests ÷ a local worker's, side by side.

The load of ``workers_scaling_ratio`` (bench/scenarios/workers.yaml: 64 users, no think time,
10 s, against HAProxy answering from memory on the host's loopback), run with one worker of each
kind in the same run: ``load.workers: {local: 1, remote: 1}``. The master starts the local one;
the remote one is a ``harness worker --master 127.0.0.1:PORT`` process started apart, which
fetches the spec from the master over ZeroMQ, measures its clock and moves its records into the
master's. Locust gives each worker half the users, so each sends as fast as its own CPU allows;
the ratio of their recorded requests (from the journal's ``load.stop`` event, per worker) is the
cost of the remote path, measured over the same seconds on the same machine. That pairing is the
point: this 2-core VM's speed moves by 10-30 % within seconds (docs/benchmarks.md), which spoiled
the earlier design (a run with two remote workers ÷ its neighbours with two local ones). What
the pairing leaves out is the master's share of the remote path (it serves the spec and the
clock probes before the load, and takes both workers' records the same way during it).

REPEATS runs; the row is the median ratio, its goal judged on the sign test's 90 % lower bound
(bench/confidence.py). Each run also gives each worker's CPU per request (its own accounting),
the other view of the same cost.

Then one run with a worker container (harness/worker:0.1, ``--network host``) as the remote
one, for the details only: the image's Python is Debian's (built with PGO and LTO), this
machine's is a pyenv build without ``--enable-optimizations``, so a container worker is faster
per core and its figure says more about the interpreter than about the remote path.
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import uuid
from pathlib import Path

from bench.common import SCENARIOS, Row, harness_run, log

IMAGE = "harness/worker:0.1"
REPEATS = 9
"""Nine paired runs: the sign test's 90 % lower bound of their median is the third smallest
(bench/confidence.py), so two spoiled runs are allowed."""
ORDER = ("remote",) * REPEATS + ("container",)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_remote_worker(port: int, kind: str, tag: str) -> subprocess.Popen | str:
    """One worker dialing the master at 127.0.0.1:``port``: a process of this Python
    (``remote``), or a container on the host's network (``container``); what :func:`_remove` takes."""
    if kind == "remote":
        return subprocess.Popen([sys.executable, "-m", "harness", "worker", "--master", f"127.0.0.1:{port}",
                                 "--timeout-s", "120"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    name = f"harness-bench-worker-{tag}"
    subprocess.run(["docker", "run", "-d", "--rm", "--name", name, "--network", "host", "--label",
                    "harness.bench=remote-workers", IMAGE, "--master", f"127.0.0.1:{port}", "--timeout-s", "120"],
                   check=True, capture_output=True, timeout=60)
    return name


def _remove(worker: subprocess.Popen | str) -> None:
    """Stop what :func:`_start_remote_worker` started (a worker still running after its run)."""
    if isinstance(worker, str):
        subprocess.run(["docker", "rm", "-f", worker], capture_output=True, timeout=60)
        return
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def paired_ratio(workers: list[dict]) -> dict:
    """From the ``load.stop`` event's ``workers`` list of a ``{local: 1, remote: 1}`` run
    (``[{"remote": bool, "records": int, "cpu_s": float | None, ...}]``): ``ratio`` (the remote
    worker's records ÷ the local one's, 3 places) and each side's records and CPU per request (us).

    Raises:
        ValueError: not exactly one worker of each kind, or a worker with no records.
    """
    local = [w for w in workers if not w.get("remote")]
    remote = [w for w in workers if w.get("remote")]
    if len(local) != 1 or len(remote) != 1:
        raise ValueError(f"want one local and one remote worker, got {len(local)} and {len(remote)}")
    (lw,), (rw,) = local, remote
    if not lw["records"] or not rw["records"]:
        raise ValueError(f"a worker recorded nothing (local {lw['records']}, remote {rw['records']})")

    def us(w: dict) -> float | None:
        return round(1e6 * w["cpu_s"] / w["records"], 1) if w.get("cpu_s") else None

    return {"ratio": round(rw["records"] / lw["records"], 3), "local_records": lw["records"],
            "remote_records": rw["records"], "local_us_per_request": us(lw), "remote_us_per_request": us(rw)}


def _one(work: Path, i: int, kind: str) -> dict:
    """One run of the workers scenario with one local worker and one of ``kind``; its figures."""
    port = _free_port()
    worker = _start_remote_worker(port, kind, uuid.uuid4().hex[:6])
    try:
        result = harness_run(SCENARIOS / "workers.yaml", work / f"remote-workers-{i}",
                             "load.workers={local: 1, remote: 1, join_timeout_s: 60}",
                             f"load.master_bind=127.0.0.1:{port}")
    finally:
        _remove(worker)
    if result.returncode != 0:
        raise RuntimeError(f"{kind} run exited {result.returncode}: {result.report.get('error')}")
    load = result.report["load"]
    return {"kind": kind, **paired_ratio(result.event("load.stop").get("workers") or []),
            "rps": round(load["recorded"] / load["duration_s"], 1), "p50_ms": result.report["totals"]["p50_ms"],
            "run_id": result.report["run_id"]}


def run(work: Path) -> list[Row]:
    runs = []
    for i, kind in enumerate(ORDER):
        runs.append(_one(work, i, kind))
        r = runs[-1]
        log(f"remote workers: a {kind} worker beside a local one: {r['remote_records']} ÷ {r['local_records']} "
            f"requests = {r['ratio']}; CPU per request {r['remote_us_per_request']} vs {r['local_us_per_request']} us")
    ratios = [r["ratio"] for r in runs if r["kind"] == "remote"]
    container = runs[-1]["ratio"]
    log(f"remote workers: remote ÷ local worker in the same run {ratios}: median {statistics.median(ratios):.3f}; "
        f"a worker container ÷ a local worker: {container:.3f} (Debian's optimised Python)")
    detail = {"runs": runs, "ratios": ratios, "spread": [min(ratios), max(ratios)], "container_over_local": container}
    return [Row("remote_worker_throughput_ratio", round(float(statistics.median(ratios)), 3), ">=", 0.9, "ratio",
                detail, samples=ratios)]
