"""Remote Locust workers end to end: worker containers (harness/worker:0.1) on their own Docker
network act as other hosts and join ``harness run`` with ``harness worker --master``.

- One local and two remote workers, one of them with its clock 2.5 s ahead (libfaketime), give
  the same windows as three local workers: the fault window's added 200 ms lands in the fault
  window and nowhere else, and the report has every worker's measured clock offset.
- A remote worker killed mid-run is reported (lost, at a time; the run ends in an error naming
  it), not silently absorbed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
IMAGE = "harness/worker:0.1"
SHIFT_S = 2.5
"""The shifted worker's clock runs 2.5 s ahead: its offset (master - worker) is -2500 ms."""
LATENCY_MS = 200


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]


def docker(*args: str, timeout: float = 60, check: bool = True) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def logs(container: str) -> str:
    """A container's output (stdout and stderr), for failure messages."""
    done = subprocess.run(["docker", "logs", container], capture_output=True, text=True, timeout=30)
    return (done.stdout + done.stderr)[-3000:]


@dataclass
class Network:
    """A Docker network of worker containers; ``gateway``: this host's address on it."""

    name: str
    gateway: str
    containers: list[str]

    def start_worker(self, master_port: int, proxy_port: int, faketime: str | None = None) -> str:
        """A worker container dialing this host's master; returns its name."""
        name = f"{self.name}-w{len(self.containers)}"
        env = ["-e", f"FAKETIME={faketime}"] if faketime else []
        docker("run", "-d", "--name", name, "--hostname", name, "--network", self.name, "--label", "harness.test=scale-out",
               *env, IMAGE, "--master", f"{self.gateway}:{master_port}",
               "--host", f"http://{self.gateway}:{proxy_port}", "--timeout-s", "120")
        self.containers.append(name)
        return name


@pytest.fixture
def worker_network(docker_engine):
    """A fresh network for worker containers; every container and the network are removed after."""
    name = f"harness-scale-out-{uuid.uuid4().hex[:8]}"
    docker("network", "create", "--label", "harness.test=scale-out", name)
    gateway = docker("network", "inspect", name, "--format", "{{(index .IPAM.Config 0).Gateway}}")
    net = Network(name, gateway, [])
    try:
        yield net
    finally:
        for container in net.containers:
            docker("rm", "-f", container, check=False)
        docker("network", "rm", name, check=False)
        assert docker("ps", "-aq", "--filter", "label=harness.test=scale-out") == ""


def run_harness(out: Path, proxy_port: int, *overrides: str, during=None) -> tuple[int, dict, str]:
    """``harness run remote_workers.yaml`` with ``overrides``; ``during(proc)`` runs in a thread
    while it does. Returns the exit code, report.json and stderr."""
    args = [a for o in overrides for a in ("--set", o)]
    cmd = [sys.executable, "-m", "harness", "run", str(HERE / "remote_workers.yaml"), "--out", str(out), *args]
    env = {**os.environ, "PROXY_PORT": str(proxy_port)}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env)
    helper = threading.Thread(target=during, args=(proc,), daemon=True) if during else None
    if helper:
        helper.start()
    _, stderr = proc.communicate(timeout=300)
    if helper:
        helper.join(timeout=60)
    report = json.loads((out / "report.json").read_text())
    leftovers = docker("ps", "-aq", "--filter", f"label=harness.run-id={report['run_id']}")
    assert leftovers == "", f"containers left behind: {leftovers}"
    return proc.returncode, report, stderr


def windows(report: dict) -> dict[str, dict]:
    return {w["kind"]: w["metrics"] for w in report["windows"]}


def test_remote_worker_containers_one_with_a_shifted_clock_give_the_windows_of_a_local_run(worker_network, tmp_path):
    proxy_port, master_port = free_port(), free_port()
    worker_network.start_worker(master_port, proxy_port)
    shifted = worker_network.start_worker(master_port, proxy_port, faketime=f"+{SHIFT_S}s")
    code, remote, stderr = run_harness(tmp_path / "remote", proxy_port, f"load.master_bind=0.0.0.0:{master_port}")
    assert code == 0, stderr[-3000:]
    for container in worker_network.containers:  # each served the run and was told to quit
        assert docker("wait", container, timeout=60) == "0", logs(container)
    code, local, stderr = run_harness(tmp_path / "local", proxy_port, "load.workers=3",
                                      f"load.master_bind=127.0.0.1:{free_port()}")
    assert code == 0, stderr[-3000:]

    workers = remote["load"]["workers"]
    by_host = {w["hostname"]: w for w in workers}
    assert sorted(w["remote"] for w in workers) == [False, True, True]
    assert all(w["records"] > 0 for w in workers), workers
    assert by_host[shifted]["clock_offset_ms"] == pytest.approx(-SHIFT_S * 1000, abs=50), workers
    for w in workers:
        if w["hostname"] != shifted:
            assert abs(w["clock_offset_ms"]) < 50, workers
        assert w["rtt_ms"] < 50 and w["lost_at_s"] is None
    assert remote["load"]["recorded"] == remote["load"]["locust_requests"]
    assert "Load workers" in (tmp_path / "remote" / "report.md").read_text()

    got, want = windows(remote), windows(local)
    print({k: (got[k]["requests"], got[k]["p50_ms"], got[k]["p99_ms"]) for k in got},
          {k: (want[k]["requests"], want[k]["p50_ms"], want[k]["p99_ms"]) for k in want})
    assert set(got) == set(want) == {"baseline", "fault", "recovery"}
    for kind in got:
        assert got[kind]["requests"] == pytest.approx(want[kind]["requests"], rel=0.1), kind
        assert got[kind]["p50_ms"] == pytest.approx(want[kind]["p50_ms"], abs=20), kind
    # the fault's 200 ms is in the fault window only: records of the shifted worker left 2.5 s
    # late would put a sixth of the recovery window's requests at 200 ms (its last 2.5 s of the
    # fault, a third of the load), and 2.5 s early a sixth of the baseline's: their p95 would be
    # >= 200 ms (a busy machine may still make a stray request slow, hence not the max)
    assert got["fault"]["p50_ms"] >= LATENCY_MS
    assert got["baseline"]["p95_ms"] < LATENCY_MS and got["recovery"]["p95_ms"] < LATENCY_MS, got


def test_a_remote_worker_killed_mid_run_is_reported_lost_not_absorbed(worker_network, tmp_path):
    proxy_port, master_port = free_port(), free_port()
    victim = worker_network.start_worker(master_port, proxy_port)

    journal = tmp_path / "killed" / "journal.jsonl"

    def kill_once_loading(proc: subprocess.Popen) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if journal.exists() and '"load.start"' in journal.read_text():
                time.sleep(3)
                docker("kill", victim, check=False)
                return
            time.sleep(0.2)

    code, report, stderr = run_harness(tmp_path / "killed", proxy_port, f"load.master_bind=0.0.0.0:{master_port}",
                                       "load.workers.remote=1", during=kill_once_loading)
    assert code == 3, stderr[-3000:]
    assert report["status"] == "error"
    [lost] = [w for w in report["load"]["workers"] if w["lost_at_s"] is not None]
    assert lost["remote"] and lost["hostname"] == victim
    assert 3 <= lost["lost_at_s"] <= 12, lost  # killed ~3 s into the load, noticed within ~4.5 s
    assert f"worker {lost['index']} (remote, {victim}) stopped answering mid-run" in report["error"]
    assert "Load worker" in (tmp_path / "killed" / "report.md").read_text()
