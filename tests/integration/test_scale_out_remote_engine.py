"""A remote Docker engine (issue 19, part 2), on real Docker: this machine's engine is made to look
remote by a TCP forwarder to its socket, and ``harness run`` goes through
``DOCKER_HOST=tcp://127.0.0.1:<port>`` only.

One short run of targets/nginx-httpbin (naive nginx, Toxiproxy inserted on the nginx -> httpbin
edge) with a 300 ms latency toxic and then a ``partition`` between nginx and Toxiproxy. Asserted
from outside:

- the run went through the forwarder (the engine was seen as remote and the forwarder carried
  the engine calls), and the ports were published on 0.0.0.0 and dialled at the engine's host;
- the latency window's p50 is 300 ms above the baseline's;
- the partition window's requests time out (the callers' 2 s timeout), none before or after it,
  and its iptables rules counted the dropped packets;
- the journal shows the partition entered the namespaces through the helper container
  (``netns.path`` via ``helper``), never ``nsenter``;
- nothing labelled ``harness.run-id`` is left (containers, helpers included, networks, volumes).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.integration

DOCKER_SOCKET = "/var/run/docker.sock"
NGINX_HTTPBIN = REPO / "targets" / "nginx-httpbin" / "docker-compose.yml"

SCENARIO = f"""
version: 1
name: scale-out-remote-engine
mode: measure
seed: 3
target:
  compose: {NGINX_HTTPBIN}
  profile: naive                  # nginx's 60 s timeouts: the callers see the partition
  healthy_timeout_s: 60
  allow_toxiproxy_faults: true    # the partition names the inserted Toxiproxy
proxies:
  - {{name: httpbin, upstream: "httpbin:8000"}}
load:
  host: http://nginx:8080
  users: 5
  spawn_rate: 5
  duration_s: 22
  think_time_s: [0.05, 0.1]
  request_timeout_s: 2
  requests:
    - {{name: "GET /get", method: GET, path: /get, weight: 1}}
faults:
  - {{name: slow, kind: latency, proxy: httpbin, latency_ms: 300, at_s: 3, duration_s: 6}}
  - {{name: cut, kind: partition, services_a: [nginx], services_b: [toxiproxy], at_s: 12, duration_s: 6}}
"""


class SocketForwarder:
    """A TCP listener on 127.0.0.1:<free port> that pipes every connection to a unix socket
    (the local engine's), so the engine is reached as ``tcp://127.0.0.1:<port>``, like a remote one.
    ``connections`` counts what it carried."""

    def __init__(self, unix_path: str):
        self.unix_path = unix_path
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(128)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True, name="docker-forwarder")
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return  # closed
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(self.unix_path)
            except OSError:
                client.close()
                continue
            self.connections += 1
            self._open += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def close(self) -> None:
        self.server.close()
        for s in self._open:
            try:
                s.close()
            except OSError:
                pass


@pytest.fixture
def remote_engine(docker_engine):
    """``DOCKER_HOST`` of the local engine seen through a TCP forwarder."""
    if not os.access(DOCKER_SOCKET, os.R_OK | os.W_OK):
        pytest.skip(f"{DOCKER_SOCKET} is not usable here")
    forwarder = SocketForwarder(DOCKER_SOCKET)
    yield forwarder
    forwarder.close()


def labelled(kind: str, run_id: str) -> str:
    """IDs of Docker objects of ``kind`` labelled with the run id (through the local socket)."""
    args = ["docker", kind, "ls", "-q", "--filter", f"label=harness.run-id={run_id}"]
    if kind == "container":
        args.insert(3, "-a")
    return subprocess.run(args, capture_output=True, text=True, timeout=30,
                          env={**os.environ, "DOCKER_HOST": f"unix://{DOCKER_SOCKET}"}).stdout.strip()


def test_scale_out_remote_engine_runs_latency_and_partition_through_tcp(remote_engine, tmp_path):
    scenario = tmp_path / "remote.yaml"
    scenario.write_text(SCENARIO)
    out = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_CONTEXT", "HARNESS_PUBLISH_IP")}
    env["DOCKER_HOST"] = f"tcp://127.0.0.1:{remote_engine.port}"
    proc = subprocess.run([sys.executable, "-m", "harness", "run", str(scenario), "--out", str(out)],
                          capture_output=True, text=True, cwd=REPO, timeout=180, env=env)
    report = json.loads((out / "report.json").read_text())
    run_id = report["run_id"]
    # nothing of the run is left, helper containers included (they carry the run's label)
    assert {kind: labelled(kind, run_id) for kind in ("container", "network", "volume")} == {
        "container": "", "network": "", "volume": ""}
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert report["status"] == "measured"

    journal = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    engine = next(e for e in journal if e["event"] == "stack.engine")
    assert (engine["host"], engine["local"], engine["publish_ip"], engine["address"], engine["netns"]) == (
        env["DOCKER_HOST"], False, "0.0.0.0", "127.0.0.1", "helper")
    assert "published ports are bound on 0.0.0.0" in engine["note"]
    assert remote_engine.connections > 10  # compose and the SDK really went through the forwarder
    resolved = json.loads((out / "compose.resolved.json").read_text())
    nginx_ports = resolved["services"]["nginx"]["ports"]  # the file says 127.0.0.1::8080
    assert [p["host_ip"] for p in nginx_ports] == ["0.0.0.0"], nginx_ports

    # the partition entered every namespace through the helper container, never nsenter
    paths = [e for e in journal if e["event"] == "netns.path"]
    assert paths and {e["via"] for e in paths} == {"helper"}, paths
    assert {e["image"] for e in paths} == {"harness/nettools:0.1"}
    assert any("-nginx-" in e["container"] for e in paths) and any("-toxiproxy-" in e["container"] for e in paths)

    windows = {w["name"]: w["metrics"] for w in report["windows"]}
    base, slow, cut = windows["baseline"], windows["fault:slow"], windows["fault:cut"]
    # the toxic acted on most requests: their p50 is at least the latency, and at most the latency
    # on top of the base latency (which a busy machine raises in both windows alike)
    assert 300 * 0.98 <= slow["p50_ms"] <= 300 * 1.02 + base["p50_ms"] + 40, (slow["p50_ms"], base["p50_ms"])
    assert base["requests"] >= 20 and base["errors"] == {} and slow["errors"] == {}, (base, slow)
    # the partition: requests hang until the callers' 2 s timeout, nothing is refused at once
    assert cut["requests"] >= 5 and cut["errors"] == {"timeout": cut["requests"]}, cut
    assert cut["p50_ms"] >= 1900, cut
    assert windows["recovery:cut"]["errors"] == {}, windows["recovery:cut"]
    revert = next(e for e in journal if e["event"] == "fault.revert" and e["fault"] == "cut")
    assert revert["effect"]["matched_packets"] > 0 and revert["effect"]["rules_in_place"] >= 2, revert
    acted = {e["fault"]: e["acted"] for e in report["fault_effects"]}
    assert acted == {"slow": True, "cut": True}, report["fault_effects"]
