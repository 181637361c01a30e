"""``partition``, ``firewall`` and ``dns`` on the live stack, observed from inside other containers
(``docker exec`` of small probes): connects that time out without a refusal, connects refused at
once, names that stop resolving; then everything normal again and no rule of ours left. Each
fault's ``effect_counters()`` (its rules' packet counters, read before revert) must show the
packets the probes lost, and none where nothing hit the rules."""

from __future__ import annotations

import copy
import random
import time

import pytest
import requests
from pydantic import TypeAdapter

from harness.errors import EnvironmentFailure
from harness.faults import FaultContext, fault_for
from harness.scenario.models import FaultEntry
from tests.integration.faults.conftest import wait_until

pytestmark = pytest.mark.integration

CONNECT = """
import socket, sys, time
host, port, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
t = time.monotonic()
try:
    socket.create_connection((host, port), timeout=timeout).close()
    r = "ok"
except socket.timeout:
    r = "timeout"
except ConnectionRefusedError:
    r = "refused"
except OSError as e:
    r = "error:%s" % e.errno
print(r, round(time.monotonic() - t, 3))
"""

RESOLVE = """
import socket, sys, time
t = time.monotonic()
try:
    r = "ok:" + socket.getaddrinfo(sys.argv[1], 80, type=socket.SOCK_STREAM)[0][4][0]
except socket.gaierror as e:
    r = "gaierror:%s" % e.errno
print(r, round(time.monotonic() - t, 3))
"""

# Opens a keep-alive connection to catalog, says "ready", waits while the test injects, then
# uses the old connection once more and tries a new one.
ESTABLISHED = """
import http.client, socket, sys, time
old = http.client.HTTPConnection("catalog", 8080, timeout=1.5)
old.request("GET", "/health"); old.getresponse().read()
print("ready", flush=True)
time.sleep(2.5)
try:
    old.request("GET", "/health"); old.getresponse().read(); r = "ok"
except socket.timeout:
    r = "timeout"
except OSError as e:
    r = "error:%s" % type(e).__name__
try:
    socket.create_connection(("catalog", 8080), timeout=1.5).close(); n = "ok"
except socket.timeout:
    n = "timeout"
print("old", r, "new", n, flush=True)
"""


def run_in(live, container: str, argv: list[str], env: dict | None = None) -> str:
    """Run ``argv`` inside ``container`` (docker exec); return its stdout+stderr."""
    c = live.stack.containers.container(container)
    result = live.stack.containers.call("exec", lambda: c.exec_run(argv, environment=env))
    return result.output.decode()


def connect(live, container: str, host: str, port: int, timeout_s: float = 1.0) -> tuple[str, float]:
    """TCP connect from inside a shop-image container: ``(ok|timeout|refused|error:N, seconds)``."""
    outcome, took = run_in(live, container, ["python3", "-c", CONNECT, host, str(port), str(timeout_s)]).split()
    return outcome, float(took)


def resolve(live, container: str, name: str, env: dict | None = None) -> tuple[str, float]:
    """getaddrinfo from inside a shop-image container: ``(ok:IP|gaierror:N, seconds)``."""
    outcome, took = run_in(live, container, ["python3", "-c", RESOLVE, name], env).split()
    return outcome, float(took)


def lb_connects(live, host: str, port: int) -> bool:
    """TCP connect from the lb container (bash's /dev/tcp, 2 s limit): True if it connected."""
    out = run_in(live, live.container("lb"), [
        "timeout", "2", "bash", "-c", 'exec 3<>"/dev/tcp/$0/$1" && echo connected', host, str(port)])
    return "connected" in out


def allowing_toxiproxy(live):
    """The live stack's containers as a scenario with ``target.allow_toxiproxy_faults: true``
    sees them."""
    view = copy.copy(live.stack.containers)
    view.allow_toxiproxy_faults = True
    return view


def fault_on(live, containers, spec: dict):
    """``live.fault(spec)``, but acting through ``containers``."""
    parsed = TypeAdapter(FaultEntry).validate_python({"name": f"t-{spec['kind']}", "at_s": 0, "duration_s": 1, **spec})
    return fault_for(parsed)(parsed, FaultContext(toxiproxy=live.toxiproxy, containers=containers, rng=random.Random(1)))


def our_rules(live) -> dict[str, list[str]]:
    """Rules tagged ``harness:<this run>:`` in every running container's filter table (the
    Toxiproxy container's included)."""
    out = {}
    containers = allowing_toxiproxy(live)
    for service in containers.services():
        for name in containers.running_containers(service):
            rules = containers.nsenter_net(name, ["iptables", "-S"]).splitlines()
            out[name] = [r for r in rules if f"harness:{live.stack.run_id}:" in r]
    return {k: v for k, v in out.items() if v}


def lb_ok(live) -> bool:
    try:
        return requests.get(f"{live.lb_url}/products/1", timeout=5).status_code == 200
    except requests.RequestException:
        return False


# -- partition ---------------------------------------------------------------------------------


def test_partition_times_out_both_ways_and_spares_everyone_else(live):
    catalog, apis = live.container("catalog"), sorted(live.stack.containers.running_containers("api"))
    api_ips = [live.stack.containers.ips(a)[0] for a in apis]
    assert connect(live, catalog, api_ips[0], 8080)[0] == "ok"
    fault = live.fault({"kind": "partition", "services_a": ["catalog"], "services_b": ["api"]})
    assert fault.revert() == []
    try:
        assert fault.inject() == [catalog, *apis]
        assert set(our_rules(live)) == {catalog, *apis}
        for ip in api_ips:  # every container of B, from A: silence, no refusal
            outcome, took = connect(live, catalog, ip, 8080)
            assert (outcome, took >= 0.9) == ("timeout", True), (ip, outcome, took)
        assert connect(live, apis[1], "catalog", 8080)[0] == "timeout"  # B to A as well
        assert connect(live, catalog, "toxiproxy", 8474)[0] == "ok"  # both still reach C
        assert connect(live, apis[0], "toxiproxy", 8474)[0] == "ok"
        assert lb_ok(live)  # api -> toxiproxy -> catalog is not partitioned
        effect = fault.effect_counters()
    finally:
        cleaned = fault.revert()
    # every probe's SYNs were dropped on the receiving side: at least one per connect above
    assert effect["matched_packets"] >= len(api_ips) + 1, effect
    # catalog: one rule per api address (iptables expands "-s a,b"); each api: one for the catalog
    assert effect["rules_in_place"] == len(api_ips) + len(apis), effect
    assert sorted(cleaned) == sorted([catalog, *apis])
    assert fault.revert() == []
    assert our_rules(live) == {}
    assert connect(live, catalog, api_ips[0], 8080)[0] == "ok"
    assert connect(live, apis[1], "catalog", 8080)[0] == "ok"


def test_partition_on_ports_cuts_only_the_proxied_redis_edge(live):
    api = live.container("api")
    spec = {"kind": "partition", "services_a": ["api"], "services_b": ["toxiproxy"], "ports_b": [16379]}
    refused = live.fault(spec)
    with pytest.raises(EnvironmentFailure, match="allow_toxiproxy_faults"):
        refused.inject()  # the harness's Toxiproxy is off limits by default ...
    assert our_rules(live) == {}  # ... and nothing changed anywhere before the refusal
    assert refused.revert() == []
    fault = fault_on(live, allowing_toxiproxy(live), spec)
    try:
        fault.inject()
        assert connect(live, api, "toxiproxy", 16379)[0] == "timeout"  # the redis proxy: cut
        assert connect(live, api, "toxiproxy", 18080)[0] == "ok"  # the catalog proxy, same container
        assert connect(live, live.container("catalog"), "toxiproxy", 16379)[0] == "ok"  # others: fine
    finally:
        fault.revert()
    assert our_rules(live) == {}
    assert connect(live, api, "toxiproxy", 16379)[0] == "ok"
    live.wait_healthy()  # the api's Redis health check failed meanwhile
    wait_until(lambda: lb_ok(live), timeout_s=20)


# -- firewall ----------------------------------------------------------------------------------


def test_firewall_drop_hangs_the_chosen_sources_only(live):
    api, catalog = live.container("api"), live.container("catalog")
    catalog_ip = live.ip("catalog")
    fault = live.fault({"kind": "firewall", "service": "catalog", "port": 8080, "action": "drop",
                        "from_services": ["api"]})
    assert fault.revert() == []
    try:
        assert fault.inject() == [catalog]
        outcome, took = connect(live, api, "catalog", 8080)
        assert (outcome, took >= 0.9) == ("timeout", True), (outcome, took)
        assert lb_connects(live, catalog_ip, 8080)  # not in from_services
        assert connect(live, catalog, "127.0.0.1", 8080)[0] == "ok"  # loopback is never blocked
        effect = fault.effect_counters()
    finally:
        assert fault.revert() == [catalog]
    assert effect["matched_packets"] >= 1 and effect["matched_bytes"] >= 40, effect  # the api's SYN(s)
    assert fault.revert() == []
    assert our_rules(live) == {}
    assert connect(live, api, "catalog", 8080)[0] == "ok"


def test_firewall_effect_counts_dropped_packets_and_nothing_when_no_traffic_hits_it(live):
    """The proof analysis uses: 0 while nobody sends to the port from the blocked sources (the
    api reaches the catalog through Toxiproxy, never directly), > 0 once something does."""
    api = live.container("api")
    sources = len(live.stack.containers.running_containers("api"))  # one rule per source address
    fault = live.fault({"kind": "firewall", "service": "catalog", "port": 8080, "action": "drop",
                        "from_services": ["api"]})
    assert fault.effect_counters() == {}  # nothing injected, nothing to read
    try:
        fault.inject()
        time.sleep(1.0)  # the shop keeps running: lb -> api -> toxiproxy -> catalog, health checks
        idle = fault.effect_counters()
        assert lb_ok(live)  # traffic flows, just not through this rule
        assert connect(live, api, "catalog", 8080, 0.5)[0] == "timeout"
        hit = fault.effect_counters()
    finally:
        fault.revert()
    assert idle == {"matched_packets": 0, "matched_bytes": 0, "rules_in_place": sources}, idle
    assert hit["matched_packets"] >= 1 and hit["rules_in_place"] == sources, hit
    assert fault.effect_counters() == {}  # reverted: nothing left to count
    assert our_rules(live) == {}


def established_then_inject(live, spec: dict) -> str:
    """Run ESTABLISHED in an api container, inject ``spec`` once its connection is open, and
    return its verdict line ("old <outcome> new <outcome>")."""
    api = live.container("api")
    c = live.stack.containers.container(api)
    result = live.stack.containers.call("exec", lambda: c.exec_run(["python3", "-c", ESTABLISHED], stream=True))
    fault = live.fault(spec)
    seen, injected = "", False
    try:
        for chunk in result.output:
            seen += chunk.decode()
            if "ready" in seen and not injected:
                injected = True
                fault.inject()
    finally:
        fault.revert()
    assert "ready" in seen, seen
    return seen.split("ready", 1)[1].strip()


def test_firewall_drop_stalls_open_connections_unless_new_connections_only(live):
    spec = {"kind": "firewall", "service": "catalog", "port": 8080, "action": "drop", "from_services": ["api"]}
    assert established_then_inject(live, spec) == "old timeout new timeout"
    stateful = established_then_inject(live, {**spec, "new_connections_only": True})
    assert stateful == "old ok new timeout"
    assert our_rules(live) == {}


def test_firewall_reject_refuses_at_once_and_the_lb_routes_around(live):
    fault = live.fault({"kind": "firewall", "service": "api", "port": 8080, "action": "reject", "count": 1}, seed=3)
    apis = sorted(live.stack.containers.running_containers("api"))
    catalog = live.container("catalog")
    try:
        [victim] = fault.inject()
        other = next(a for a in apis if a != victim)
        outcome, took = connect(live, catalog, live.stack.containers.ips(victim)[0], 8080)
        assert (outcome, took < 0.5) == ("refused", True), (outcome, took)
        assert connect(live, catalog, live.stack.containers.ips(other)[0], 8080)[0] == "ok"
        assert all(lb_ok(live) for _ in range(10))  # retried on the other replica
    finally:
        assert fault.revert() == [victim]
    assert fault.revert() == []
    assert our_rules(live) == {}
    assert connect(live, catalog, live.stack.containers.ips(victim)[0], 8080)[0] == "ok"
    live.wait_healthy()


# -- dns ---------------------------------------------------------------------------------------


def test_dns_timeout_mode_hangs_then_fails_for_the_clients_only(live):
    catalog, api = live.container("catalog"), live.container("api")
    redis_ip = live.ip("redis")
    fast = {"RES_OPTIONS": "timeout:1 attempts:1"}  # glibc: 1 s per try instead of 5 s x 2
    fault = live.fault({"kind": "dns", "hostname": "redis", "for_services": ["catalog"], "mode": "timeout"})
    assert fault.revert() == []
    try:
        assert fault.inject() == [catalog]
        outcome, took = resolve(live, catalog, "redis", fast)
        assert (outcome, took >= 0.9) == ("gaierror:-3", True), (outcome, took)  # EAI_AGAIN after the wait
        assert resolve(live, catalog, "REDIS", fast)[0] == "gaierror:-3"  # names are case-insensitive
        assert resolve(live, catalog, "toxiproxy")[0].startswith("ok:")  # other names still resolve
        assert resolve(live, api, "redis")[0] == f"ok:{redis_ip}"  # other clients still resolve it
        assert connect(live, catalog, redis_ip, 6379)[0] == "ok"  # by IP: the network is fine
        effect = fault.effect_counters()
    finally:
        assert fault.revert() == [catalog]
    assert effect["matched_packets"] >= 2, effect  # the answers to the two lookups of "redis" above
    assert fault.revert() == []
    assert our_rules(live) == {}
    assert resolve(live, catalog, "redis")[0] == f"ok:{redis_ip}"


def test_dns_error_mode_fails_at_once(live):
    catalog = live.container("catalog")
    fault = live.fault({"kind": "dns", "hostname": "redis", "for_services": ["catalog"], "mode": "error"})
    try:
        fault.inject()
        started = time.monotonic()
        outcome, took = resolve(live, catalog, "redis")  # glibc defaults: 5 s x 2 if it waited
        assert (outcome, took < 0.5) == ("gaierror:-3", True), (outcome, took, time.monotonic() - started)
        effect = fault.effect_counters()
    finally:
        fault.revert()
    assert effect["matched_packets"] >= 1, effect  # the query, dropped on its way out
    assert our_rules(live) == {}
    assert resolve(live, catalog, "redis")[0].startswith("ok:")
