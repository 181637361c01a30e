"""iptables fault kinds (partition, firewall, dns, node_loss) without Docker: spec validation, the
exact rules they add, revert rules, and the packet counters they report as their effect. A fake
stack keeps one rule list (with packet and byte counters) per container namespace and answers
``iptables -I/-D/-S/-L`` the way the real one does."""

from __future__ import annotations

import random
import shlex
from types import SimpleNamespace

import pytest
from pydantic import TypeAdapter, ValidationError

from harness.errors import EnvironmentFailure
from harness.faults import FaultContext, fault_for, fault_kinds
from harness.faults.dns import dns_wire, hex_string
from harness.faults import _iptables
from harness.faults._effect import Deadline
from harness.faults._iptables import rule_comment, rule_counters
from harness.scenario.faults import Reported
from harness.scenario.models import FaultEntry

ENTRY = TypeAdapter(FaultEntry)
ENVELOPE = {"name": "f", "at_s": 1, "duration_s": 2}
RUN = "20260101t000000z-abcdef"
COMMENT = rule_comment(RUN, "f")
MINIMAL = {
    "partition": {"services_a": ["api"], "services_b": ["redis"]},
    "firewall": {"service": "api", "port": 8080},
    "dns": {"hostname": "toxiproxy", "for_services": ["api"]},
    "node_loss": {"services": ["redis"]},
}


def spec(kind: str, **params):
    return ENTRY.validate_python({**ENVELOPE, "kind": kind, **(MINIMAL[kind] | params)})


class FakeStack:
    """Containers by service, each with an IP, a PID and the rule list of its namespace.

    ``fail_insert_at``: the n-th ``iptables -I`` (1-based, over all containers) fails.
    """

    def __init__(self, services: dict[str, list[str]], fail_insert_at: int | None = None):
        self.run_id = RUN
        self.by_service = services
        self.rules: dict[str, list[tuple[str, list[str]]]] = {}
        self.pids: dict[str, int] = {}
        self.ip: dict[str, str] = {}
        for i, name in enumerate(n for names in services.values() for n in names):
            self.rules[name] = [("INPUT", ["-s", "10.9.9.9/32", "-j", "ACCEPT"])]  # someone else's rule
            self.pids[name] = 100 + i
            self.ip[name] = f"10.0.0.{i + 2}"
        self.running = set(self.rules)
        self.removed: set[str] = set()
        self.refused: set[str] = set()  # what the stack's guard refuses (e.g. the harness's Toxiproxy)
        self.inserts = 0
        self.fail_insert_at = fail_insert_at
        self.calls: list[tuple[str, list[str]]] = []
        self.counts: dict[tuple[str, str, tuple[str, ...]], tuple[int, int]] = {}  # (name, chain, rule) -> (pkts, bytes)
        self.unreadable: set[str] = set()  # containers whose ``iptables -L`` fails
        self.timeouts: list[tuple[str, float]] = []  # (op, timeout_s) of every iptables call

    def running_containers(self, service):
        return [n for n in self.by_service.get(service, []) if n in self.running]

    def containers_of(self, service):
        return sorted(n for n in self.by_service.get(service, []) if n not in self.removed)

    def services(self):
        return sorted(self.by_service)

    def container(self, name):
        if name in self.removed or name not in self.rules:
            raise EnvironmentFailure(f"docker: inspect {name} failed: 404 no such container")
        running = name in self.running
        return SimpleNamespace(attrs={"State": {"Running": running, "Pid": self.pids[name] if running else 0}})

    def pid(self, name):
        if name in self.refused:
            raise EnvironmentFailure(f"refusing to touch {name}: set target.allow_toxiproxy_faults: true")
        if name not in self.running:
            raise EnvironmentFailure(f"{name} is not running (no pid)")
        return self.pids[name]

    def ips(self, name):
        return [self.ip[name]]

    def netns_exec(self, name, argv, timeout_s=10):
        assert argv[:2] == ["iptables", "-w"] and argv[2].isdigit() and timeout_s > 0, (argv, timeout_s)
        self.pid(name)
        op, chain, rest = argv[3], argv[4], argv[5:]
        self.calls.append((name, argv[3:]))
        self.timeouts.append((op, timeout_s))
        table = self.rules[name]
        if op == "-L":
            assert rest == ["-v", "-x", "-n"], argv
            if name in self.unreadable:
                raise EnvironmentFailure("iptables -L failed: fake")
            return self.listing(name, chain)
        if op == "-I":
            self.inserts += 1
            if self.inserts == self.fail_insert_at:
                raise EnvironmentFailure("iptables -I failed: fake")
            table.insert(0, (chain, rest))
            return ""
        if op == "-D":
            table.remove((chain, rest))  # ValueError (a test failure) if no such rule
            return ""
        if op == "-S":
            return "".join(f"-A {c} {shlex.join(r)}\n" for c, r in table if c == chain)
        raise AssertionError(argv)

    def listing(self, name, chain):
        """``iptables -L chain -v -x -n`` as the real one prints it: headers, then per rule its
        counters, target, ... and a comment as ``/* text */``."""
        out = [f"Chain {chain} (policy ACCEPT 0 packets, 0 bytes)",
               "    pkts      bytes target     prot opt in     out     source               destination         "]
        for c, rule in self.rules[name]:
            if c != chain:
                continue
            pkts, octets = self.counts.get((name, c, tuple(rule)), (0, 0))
            target = rule[rule.index("-j") + 1]
            comment = f" /* {rule[rule.index('--comment') + 1]} */" if "--comment" in rule else ""
            out.append(f"{pkts:>8} {octets:>8} {target:<10} 6    --  *      *       0.0.0.0/0            "
                       f"0.0.0.0/0           {comment}")
        return "\n".join(out) + "\n"

    def traffic(self, name, packets, size=60):
        """``packets`` packets of ``size`` bytes hit every rule of ``name``'s namespace."""
        for c, rule in self.rules[name]:
            pkts, octets = self.counts.get((name, c, tuple(rule)), (0, 0))
            self.counts[(name, c, tuple(rule))] = (pkts + packets, octets + packets * size)

    def ours(self, name):
        return [(c, r) for c, r in self.rules[name] if COMMENT in r]

    def restart(self, name):
        self.pids[name] += 1000
        self.rules[name] = []


SERVICES = {"api": ["p-api-1", "p-api-2"], "redis": ["p-redis-1"], "lb": ["p-lb-1"], "toxiproxy": ["p-toxiproxy-1"]}


def build(kind: str, stack: FakeStack | None = None, seed: int = 1, **params):
    stack = stack or FakeStack(SERVICES)
    parsed = spec(kind, **params)
    ctx = FaultContext(toxiproxy=None, containers=stack, rng=random.Random(seed))  # type: ignore[arg-type]
    return fault_for(parsed)(parsed, ctx), stack


# -- registration and spec validation ---------------------------------------------------------


def test_the_iptables_kinds_are_registered_with_summary_and_seed_section():
    for kind in MINIMAL:
        assert kind in fault_kinds()
        parsed = spec(kind)
        assert type(parsed).summary and type(parsed).seed_section


@pytest.mark.parametrize("kind", sorted(MINIMAL))
def test_unknown_parameter_is_rejected(kind):
    with pytest.raises(ValidationError, match="extra"):
        spec(kind, colour="red")


@pytest.mark.parametrize("params, message", [
    ({"services_a": []}, "at least 1"),
    ({"services_b": ["api"]}, "both sides"),
    ({"services_a": ["api", "api"]}, "unique"),
    ({"services_a": [""]}, "empty"),
    ({"ports_b": [0]}, "1..65535"),
    ({"ports_b": [70000]}, "1..65535"),
    ({"ports_b": [1, 1]}, "unique"),
    ({"ports_b": list(range(1, 17))}, "at most 15"),
])
def test_partition_spec_rejects(params, message):
    with pytest.raises(ValidationError, match=message):
        spec("partition", **params)


def test_partition_service_refs_name_both_sides():
    assert spec("partition", services_a=["api", "lb"]).service_refs() == ["api", "lb", "redis"]


@pytest.mark.parametrize("params, message", [
    ({"port": 0}, "greater than or equal to 1"),
    ({"port": 65536}, "less than or equal to 65535"),
    ({"action": "refuse"}, "'drop' or 'reject'"),
    ({"from_services": []}, "at least 1"),
    ({"from_services": ["lb", "lb"]}, "unique"),
    ({"count": 0}, "greater than or equal to 1"),
    ({"count": 1, "percent": 50}, "either count or percent"),
])
def test_firewall_spec_rejects(params, message):
    with pytest.raises(ValidationError, match=message):
        spec("firewall", **params)


def test_firewall_service_refs_include_the_sources():
    assert spec("firewall", from_services=["lb"]).service_refs() == ["api", "lb"]


@pytest.mark.parametrize("hostname", ["bad host", "-api", "api-", "a..b", "a" * 64, ".", "api/x", "é"])
def test_dns_spec_rejects_invalid_hostnames(hostname):
    with pytest.raises(ValidationError, match="hostname|label|characters"):
        spec("dns", hostname=hostname)


@pytest.mark.parametrize("params, message", [
    ({"for_services": []}, "at least 1"),
    ({"mode": "nxdomain"}, "'timeout' or 'error'"),
])
def test_dns_spec_rejects(params, message):
    with pytest.raises(ValidationError, match=message):
        spec("dns", **params)


def test_dns_service_refs_are_the_clients_only():
    assert spec("dns", hostname="example.com", for_services=["api", "lb"]).service_refs() == ["api", "lb"]


def test_dns_wire_format_is_length_prefixed_labels():
    assert dns_wire("toxiproxy") == b"\x09toxiproxy"
    assert dns_wire("a.bc.") == b"\x01a\x02bc"
    assert hex_string(b"\x09toxiproxy") == "|09746f786970726f7879|"


# -- the rules each kind adds ------------------------------------------------------------------


def test_firewall_reject_from_services_adds_one_tagged_rule_per_chosen_replica():
    fault, stack = build("firewall", action="reject", from_services=["lb"], percent=100)
    assert fault.inject() == ["p-api-1", "p-api-2"]
    for name in ("p-api-1", "p-api-2"):
        assert stack.ours(name) == [("INPUT", [
            "-s", "10.0.0.5/32", "-p", "tcp", "--dport", "8080", "-m", "comment", "--comment", COMMENT,
            "-j", "REJECT", "--reject-with", "tcp-reset"])]
    assert stack.ours("p-lb-1") == []


def test_firewall_drop_default_blocks_every_non_loopback_source_and_new_only_adds_conntrack():
    fault, stack = build("firewall", new_connections_only=True)
    [victim] = fault.inject()
    assert stack.ours(victim) == [("INPUT", [
        "!", "-i", "lo", "-p", "tcp", "--dport", "8080", "-m", "conntrack", "--ctstate", "NEW",
        "-m", "comment", "--comment", COMMENT, "-j", "DROP"])]


def test_firewall_victim_follows_the_seed():
    picks = {build("firewall", seed=s)[0].inject()[0] for s in range(20)}
    assert picks == {"p-api-1", "p-api-2"}
    assert build("firewall", seed=7)[0].inject() == build("firewall", seed=7)[0].inject()


def test_partition_drops_on_both_sides_every_ip_of_the_other():
    fault, stack = build("partition")
    assert fault.inject() == ["p-api-1", "p-api-2", "p-redis-1"]
    assert stack.ours("p-api-1") == [("INPUT", ["-s", "10.0.0.4/32", "-m", "comment", "--comment", COMMENT, "-j", "DROP"])]
    assert stack.ours("p-redis-1") == [
        ("INPUT", ["-s", "10.0.0.2/32,10.0.0.3/32", "-m", "comment", "--comment", COMMENT, "-j", "DROP"])]
    assert stack.ours("p-lb-1") == [] and stack.ours("p-toxiproxy-1") == []


def test_partition_with_ports_cuts_only_that_tcp_edge():
    fault, stack = build("partition", services_b=["toxiproxy"], ports_b=[16379])
    fault.inject()
    assert stack.ours("p-toxiproxy-1")[0][1][:8] == [
        "-s", "10.0.0.2/32,10.0.0.3/32", "-p", "tcp", "-m", "multiport", "--dports", "16379"]
    assert stack.ours("p-api-2")[0][1][:8] == ["-s", "10.0.0.6/32", "-p", "tcp", "-m", "multiport", "--sports", "16379"]


@pytest.mark.parametrize("mode, chain, head", [
    ("timeout", "INPUT", ["-s", "127.0.0.11/32", "-p", "udp", "--sport", "53"]),
    ("error", "OUTPUT", ["-d", "127.0.0.11/32", "-p", "udp"]),
])
def test_dns_rule_matches_the_anchored_name(mode, chain, head):
    fault, stack = build("dns", mode=mode)
    assert fault.inject() == ["p-api-1", "p-api-2"]
    [(got_chain, words)] = stack.ours("p-api-1")
    assert got_chain == chain
    assert words == [*head, "-m", "string", "--algo", "bm", "--icase", "--from", "40", "--to", "50",
                     "--hex-string", "|09746f786970726f7879|", "-m", "comment", "--comment", COMMENT, "-j", "DROP"]


@pytest.mark.parametrize("kind, params", [
    ("partition", {"services_b": ["toxiproxy"]}),
    ("firewall", {"service": "toxiproxy"}),
    ("dns", {"for_services": ["api", "toxiproxy"]}),
])
def test_a_container_the_guard_refuses_fails_the_inject_before_any_rule(kind, params):
    stack = FakeStack(SERVICES)
    stack.refused.add("p-toxiproxy-1")
    fault, _ = build(kind, stack=stack, **params)
    with pytest.raises(EnvironmentFailure, match="allow_toxiproxy_faults"):
        fault.inject()
    assert not any(c[1][0] == "-I" for c in stack.calls)
    assert fault.revert() == []


def test_missing_service_fails_before_any_rule():
    fault, stack = build("partition", services_b=["catalog"])
    with pytest.raises(EnvironmentFailure, match="'catalog' has no running container"):
        fault.inject()
    assert not any(c[1][0] == "-I" for c in stack.calls)


# -- revert ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(MINIMAL))
def test_revert_before_inject_is_empty_and_revert_is_idempotent(kind):
    fault, stack = build(kind)
    assert fault.revert() == []
    touched = fault.inject()
    assert set(fault.revert()) == set(touched)
    assert fault.revert() == []
    for name, table in stack.rules.items():
        assert table == [("INPUT", ["-s", "10.9.9.9/32", "-j", "ACCEPT"])], name  # foreign rule kept


def test_revert_after_a_partial_inject_removes_what_got_in():
    fault, stack = build("partition", stack=FakeStack(SERVICES, fail_insert_at=3))
    with pytest.raises(EnvironmentFailure, match="fake"):
        fault.inject()
    assert sum(len(stack.ours(n)) for n in stack.rules) == 2
    assert fault.revert() == ["p-api-1", "p-api-2"]
    assert sum(len(stack.ours(n)) for n in stack.rules) == 0


def test_revert_skips_containers_restarted_stopped_or_removed():
    fault, stack = build("firewall", percent=100, from_services=["lb"])
    fault.inject()
    stack.restart("p-api-1")
    stack.running.discard("p-lb-1")  # a source stopping changes nothing for the rule's owner
    assert fault.revert() == ["p-api-2"]
    fault, stack = build("dns")
    fault.inject()
    stack.removed.add("p-api-1")
    stack.running.discard("p-api-2")
    assert fault.revert() == []
    assert fault.revert() == []


# -- effect: the packet counters of the fault's own rules ------------------------------------------

LISTING = f"""Chain INPUT (policy ACCEPT 4711 packets, 283 bytes)
    pkts      bytes target     prot opt in     out     source               destination
       3      180 ACCEPT     0    --  *      *       10.9.9.9             0.0.0.0/0
      12      720 DROP       6    --  !lo    *       0.0.0.0/0            0.0.0.0/0            tcp dpt:8080 /* {COMMENT} */
       5      300 DROP       6    --  !lo    *       0.0.0.0/0            0.0.0.0/0            tcp dpt:80 /* {COMMENT}2 */
 1000000 99999999 DROP       0    --  *      *       10.0.0.2             0.0.0.0/0            /* harness:other-run:f */
       7      420 DROP       17   --  *      *       0.0.0.0/0            127.0.0.11           STRING match  "|05726564697300|" ALGO name bm FROM 40 TO 47 ICASE /* {COMMENT} */
"""


def test_rule_counters_reads_only_the_rules_carrying_exactly_our_comment():
    assert rule_counters(LISTING, COMMENT) == [(12, 720), (7, 420)]  # not f2's, not another run's, not foreign
    assert rule_counters(LISTING, "harness:nobody:f") == []
    assert rule_counters("", COMMENT) == []


@pytest.mark.parametrize("kind", sorted(MINIMAL))
def test_every_iptables_kind_reports_the_packets_its_rules_matched(kind):
    fault, stack = build(kind)
    assert type(fault.spec).effect_rules == (Reported("matched_packets", 1.0),)
    assert type(fault.spec).victim_in_path is False  # the matched packets are the traffic
    assert fault.effect_counters() == {}  # before inject: nothing to read
    touched = fault.inject()
    assert fault.effect_counters() == {"matched_packets": 0, "matched_bytes": 0,
                                       "rules_in_place": sum(len(stack.ours(n)) for n in touched)}
    stack.traffic(touched[0], 3, size=100)
    stack.traffic("p-lb-1", 50)  # traffic elsewhere (and hitting foreign rules) does not count
    effect = fault.effect_counters()
    ours = len(stack.ours(touched[0]))
    assert effect["matched_packets"] == 3 * ours and effect["matched_bytes"] == 300 * ours, effect


def test_effect_skips_unreadable_namespaces_and_is_empty_when_none_can_be_read():
    fault, stack = build("partition")
    fault.inject()
    stack.traffic("p-api-1", 4)
    stack.traffic("p-redis-1", 10)
    stack.unreadable.add("p-redis-1")
    assert fault.effect_counters()["matched_packets"] == 4  # a lower bound: redis's 10 are unknown
    stack.unreadable.update({"p-api-1", "p-api-2"})
    assert fault.effect_counters() == {}


def test_effect_of_a_restarted_victim_counts_nothing_from_its_lost_rules():
    fault, stack = build("firewall", percent=100)
    fault.inject()
    stack.traffic("p-api-1", 9)
    stack.restart("p-api-1")  # a fresh namespace: rules and counters gone
    assert fault.effect_counters() == {"matched_packets": 0, "matched_bytes": 0, "rules_in_place": 1}


def test_effect_read_stops_at_its_deadline_and_reads_with_a_short_timeout():
    fault, stack = build("firewall", percent=100)
    fault.inject()
    stack.traffic("p-api-2", 2)
    assert fault._rules.counters(Deadline(0)) == {}  # out of time before the first read
    assert not any(op == "-L" for op, _ in stack.timeouts)
    assert fault.effect_counters()["matched_packets"] == 2
    reads = [t for op, t in stack.timeouts if op == "-L"]
    assert len(reads) == 4  # 2 namespaces x (INPUT, OUTPUT)
    assert all(0 < t <= _iptables.COUNTER_TIMEOUT_S for t in reads), reads
    assert _iptables.COUNTERS_BUDGET_S < _iptables.EFFECT_READ_TIMEOUT_S


def test_effect_never_raises_even_when_the_stack_does():
    fault, stack = build("dns")
    fault.inject()

    def broken(*args, **kwargs):
        raise RuntimeError("engine exploded")

    stack.netns_exec = broken
    stack.pid = broken
    assert fault.effect_counters() == {}
