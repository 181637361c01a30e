"""Bring your own stack, on real Docker, Toxiproxy and Locust (issue 15).

1. Edge insertion on a user-style compose file with no Toxiproxy in it
   (own_stack_edges.compose.yml): a service with two replicas on two networks, and a service
   dialled by a network alias. Clients on both networks keep dialling the names they always
   dialled; a latency toxic on the inserted proxy is measured from inside each client, and
   both replicas still get traffic through the proxy.
2. The own-stack scenarios on a stack of third-party software (targets/nginx-httpbin: nginx and
   httpbin from Debian), through the CLI: the resilient nginx passes, the naive one fails; the
   latency measured in the 300 ms window is within 2 % + 5 ms of what the toxic adds; the
   user's compose file is byte-identical afterwards; no container is left; the containers'
   logs are in the run directory.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from harness.environment import Stack
from harness.journal import Journal
from harness.run import new_run_id
from harness.scenario.models import Proxy, Target
from harness.toxiproxy import ToxiproxyClient, ToxicConfig
from tests.conftest import REPO

pytestmark = pytest.mark.integration

HERE = Path(__file__).parent
NGINX_HTTPBIN = REPO / "targets" / "nginx-httpbin" / "docker-compose.yml"
TIMED_GET = ("import sys, time, urllib.request\n"
             "t = time.monotonic(); body = urllib.request.urlopen(sys.argv[1], timeout=10).read()\n"
             "print(round((time.monotonic() - t) * 1000, 1), len(body))\n")


def leftovers(run_id: str | None = None) -> str:
    label = "harness.run-id" + (f"={run_id}" if run_id else "")
    return subprocess.run(["docker", "ps", "-aq", "--filter", f"label={label}"], capture_output=True, text=True,
                          timeout=30).stdout.strip()


def timed_get(container: str, url: str) -> float:
    """Milliseconds a GET of ``url`` takes from inside ``container`` (its own name resolution)."""
    out = subprocess.run(["docker", "exec", container, "python3", "-c", TIMED_GET, url], capture_output=True,
                         text=True, timeout=30, check=True).stdout.split()
    assert int(out[1]) > 0, f"empty answer from {url} in {container}"
    return float(out[0])


@pytest.fixture(scope="module")
def edges_stack(docker_engine, tmp_path_factory):
    run_id = new_run_id()
    run_dir = tmp_path_factory.mktemp("own-stack-edges")
    proxies = (Proxy(name="db", upstream="db:8000"), Proxy(name="cache", upstream="cache.internal:8001"))
    stack = Stack(Target(compose="own_stack_edges.compose.yml"), HERE, run_id, run_dir, Journal(run_dir),
                  proxies=proxies)
    try:
        stack.up()
        stack.wait_healthy(120)
        toxiproxy = ToxiproxyClient(f"http://127.0.0.1:{stack.containers.published_port('toxiproxy', 8474)}")
        toxiproxy.wait_ready(60)
        yield stack, toxiproxy
    finally:
        stack.down()
        assert leftovers(run_id) == "", "containers left behind by the edges stack"


def test_the_copy_moves_names_and_keeps_replicas(edges_stack):
    stack, toxiproxy = edges_stack
    plan = stack.edge_plan
    assert plan.renamed == {"db": "db-upstream"}  # a service name moves by renaming the service
    assert plan.moved == {"db": "db", "cache.internal": "kv"}  # an alias moves off its service
    assert sorted(plan.networks) == ["left", "right"] and plan.networks["right"] == ["db", "cache.internal"]
    assert len(stack.containers.running_containers("db")) == 2  # the scenario's name still finds both replicas
    assert {p["upstream"] for p in toxiproxy.proxies().values()} == {"db-upstream:8000", "kv:8001"}


def test_clients_on_both_networks_go_through_the_proxy(edges_stack):
    stack, toxiproxy = edges_stack
    left, right = stack.containers.running_containers("client-left")[0], stack.containers.running_containers("client-right")[0]
    url_db, url_kv = "http://db:8000/get", "http://cache.internal:8001/get"
    before = {name: timed_get(c, url) for name, c, url in (("left", left, url_db), ("right", right, url_db),
                                                           ("kv", right, url_kv))}
    assert max(before.values()) < 200, before
    toxiproxy.add_toxic("db", ToxicConfig("slow-db", "latency", attributes={"latency": 300, "jitter": 0}))
    toxiproxy.add_toxic("cache", ToxicConfig("slow-kv", "latency", attributes={"latency": 500, "jitter": 0}))
    try:
        during = {"left": timed_get(left, url_db), "right": timed_get(right, url_db), "kv": timed_get(right, url_kv)}
    finally:
        toxiproxy.reset()
    assert 300 <= during["left"] < 300 + 200 and 300 <= during["right"] < 300 + 200, during
    assert 500 <= during["kv"] < 500 + 200, during


def test_both_replicas_serve_through_the_proxy(edges_stack):
    stack, _ = edges_stack
    left = stack.containers.running_containers("client-left")[0]
    for _ in range(30):
        timed_get(left, "http://db:8000/anything")
    served = [subprocess.run(["docker", "logs", name], capture_output=True, text=True, timeout=30).stdout.count(
        "/anything") for name in sorted(stack.containers.running_containers("db"))]
    assert len(served) == 2 and all(n > 0 for n in served), f"requests per replica: {served}"
    assert sum(served) == 30


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


LATENCY_SHORT = ("load.duration_s=40", "faults.0.at_s=6", "faults.0.duration_s=10", "faults.1.at_s=18",
                 "faults.1.duration_s=14")
"""latency.yaml in 40 s instead of 70: the 14 s slow window still holds ~130 requests (the
timeout check's p99 needs 100; 10 s gave 94) and the 8 s recovery ~650 (300 needed)."""


def run_scenario(harness_cli, tmp_path: Path, name: str, profile: str, overrides: tuple[str, ...] = ()):
    out = tmp_path / f"{name}-{profile}"
    before = digest(NGINX_HTTPBIN)
    proc = harness_cli("run", f"scenarios/own-stack/{name}.yaml", "--out", str(out), "--set",
                       f"target.profile={profile}", *(a for o in overrides for a in ("--set", o)))
    assert digest(NGINX_HTTPBIN) == before, "the user's compose file changed"
    report = json.loads((out / "report.json").read_text())
    assert leftovers(report["run_id"]) == "", "containers left behind"
    return proc, report, out


def windows(report) -> dict[str, dict]:
    return {w["name"]: w["metrics"] for w in report["windows"]}


def test_latency_resilient_passes_and_measures_the_toxic(docker_engine, harness_cli, tmp_path):
    proc, report, out = run_scenario(harness_cli, tmp_path, "latency", "resilient", LATENCY_SHORT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert report["status"] == "passed"
    w = windows(report)
    added_ms = w["fault:httpbin-300ms"]["p50_ms"] - w["baseline"]["p50_ms"]
    assert abs(added_ms - 300) <= 0.02 * 300 + 5, f"the 300 ms toxic added {added_ms:.1f} ms"
    logs = {Path(item["path"]).name: item for item in report["container_logs"]}
    nginx = next(name for name in logs if "-nginx-" in name)
    assert "GET /get HTTP/1.1" in (out / "logs" / nginx).read_text()  # nginx's access log, saved
    assert any("-toxiproxy-" in name for name in logs)


def test_latency_naive_fails(docker_engine, harness_cli, tmp_path):
    proc, report, _ = run_scenario(harness_cli, tmp_path, "latency", "naive", LATENCY_SHORT)
    assert proc.returncode == 1, proc.stderr[-3000:]
    failed = {e["name"] for e in report["expectations"] if not e["held"] and not e.get("inconclusive")}
    assert "nginx's read timeout bounds what callers wait" in failed
    assert windows(report)["fault:httpbin-slow"]["p50_ms"] >= 2500  # the naive nginx waited it out


REPLICA_KILL_SHORT = ("load.duration_s=40", "faults.0.at_s=10", "faults.0.until_s=29")
"""replica-kill.yaml in 40 s instead of 60: two kills (at 10 and 22 s, 6 s each) instead of three,
with the same 6 s gaps that hold ~200 requests each."""


@pytest.mark.parametrize("profile, code", [("resilient", 0), ("naive", 1)])
def test_replica_kill(docker_engine, harness_cli, tmp_path, profile, code):
    proc, report, _ = run_scenario(harness_cli, tmp_path, "replica-kill", profile, REPLICA_KILL_SHORT)
    assert proc.returncode == code, proc.stderr[-3000:]
    killed = [e for e in report["timeline"] if e["action"] == "inject"]
    assert len(killed) == 2 and all("httpbin-upstream" in " ".join(e.get("touched") or []) for e in killed)
    run_errors = next(e for e in report["expectations"] if e["name"] == "no caller sees a replica die")
    assert (run_errors["observed"] == 0) == (profile == "resilient"), run_errors


def test_init_writes_a_scenario_that_validates_and_runs(docker_engine, harness_cli, tmp_path):
    starter = tmp_path / "starter.yaml"
    proc = harness_cli("init", str(NGINX_HTTPBIN), "--out", str(starter))
    assert proc.returncode == 0, proc.stderr
    assert 'upstream: "httpbin:8000"' in starter.read_text()  # the nginx -> httpbin edge was found
    assert harness_cli("validate", str(starter)).returncode == 0
    short = ["--set", "load.duration_s=40", "--set", "faults.0.at_s=8", "--set", "faults.0.duration_s=12",
             "--set", "faults.1.at_s=25", "--set", "faults.1.duration_s=8"]
    proc = harness_cli("run", str(starter), "--out", str(tmp_path / "run"), *short)
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert proc.returncode in (0, 5), proc.stderr[-3000:]  # passed, or too few requests in a short window
    w = windows(report)
    # the starter's latency fault, on the edge init found, reached the callers. No answer beats
    # the toxic, so the lower bound is on the absolute p50; the base time of a request varies by
    # a few ms (the added time came out at 299.4 ms once, over a baseline p50 of 10.3 ms), so the
    # added time is held within the harness's accuracy bound instead
    slow, base = w["fault:httpbin-slow"]["p50_ms"], w["baseline"]["p50_ms"]
    assert slow >= 300, (slow, base)
    assert abs(slow - base - 300) <= 300 * 0.02 + 5, (slow, base)
    assert leftovers(report["run_id"]) == ""
