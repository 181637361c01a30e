"""``partition``: two groups of services cannot reach each other; everyone else still can.

Mechanism: iptables ``DROP`` rules in the filter table's ``INPUT`` chain of every running
container of both sides, in its own network namespace (the host's ``iptables`` through
``nsenter -t PID -n``, or a helper container on a remote engine: ``_iptables``): each container of side A drops every packet coming from any IPv4
address of a container of side B, and each container of side B drops every packet from side A.
Dropping on the *receiving* side, in both directions, is what a partition looks like to the
sender: its packets leave normally and vanish in the network (dropping in ``OUTPUT`` instead
would make the sender's own kernel fail UDP sends with ``EPERM``, which no real partition does).
Each rule carries the comment ``harness:<run-id>:<fault name>``; revert deletes exactly those.

With ``ports_b``, only TCP traffic to those ports of side B is cut (and its replies), not the
whole hosts: side B drops ``-s <A> -p tcp --dport P`` and side A drops ``-s <B> -p tcp --sport P``.

What the client sees: a TCP connect from A to B (or B to A) gets no answer at all, no refusal,
no ICMP error: the SYN is retransmitted until the caller's connect timeout (Linux default ~127 s
for a blocking connect). Ping between them fails; UDP datagrams are lost. Names still resolve
(Docker's DNS is not involved) and everybody else (C) reaches both A and B as before.

Connections already open when the fault starts: cut as well. The containers' filter tables are
empty (Docker only installs NAT rules for its DNS there), so no ``ESTABLISHED,RELATED ACCEPT``
precedes our rules: data on an open connection is lost, the sender retransmits with exponential
backoff, and a request in flight hangs until the client's read timeout (a Redis or HTTP client
without timeouts hangs for minutes, until TCP gives up after ~15 min of retransmissions). After
revert, a stalled connection resumes at its next retransmission (up to several seconds later),
unless the application gave up on it meanwhile.

Proxied edges: in our sample stack the api reaches the catalog and Redis *through* the
Toxiproxy container (``CATALOG_URL=http://toxiproxy:18080``, ``REDIS_HOST=toxiproxy``), so api and
redis never exchange a packet and ``services_a: [api], services_b: [redis]`` changes nothing for
the api. Two ways to cut a proxied edge, both supported here and both naming ``toxiproxy``
explicitly (as the blast-radius rule requires):

- cut the proxy's own upstream: ``services_a: [toxiproxy], services_b: [redis]`` (everyone
  behind that proxy loses Redis); or
- cut only the client's path to that proxy listener: ``services_a: [api], services_b:
  [toxiproxy], ports_b: [16379]`` (the api loses Redis, its catalog path through port 18080 of
  the same container keeps working).

A scenario must also set ``target.allow_toxiproxy_faults: true`` for either (the preflight
refuses faults naming the harness's Toxiproxy otherwise). The rules never cut the harness's own
calls to Toxiproxy's API: those come from the host (the network's gateway address), not from a
container of the other side.

A Toxiproxy ``blackhole`` fault is the other option; the difference is the TCP handshake: through
the proxy a connect still succeeds and then hangs, while a partition makes the connect itself
time out, as between real hosts.

Limits: IPv4 only (no ``ip6tables``; our compose networks are IPv4-only). Containers and IPs are
resolved at inject: a container that starts later (restart, scale-up) is not partitioned, and a
restarted container comes back in a fresh namespace without the rules. Loopback traffic inside a
container is never touched. Requires root on the host and the host's ``iptables``.

Effect evidence (how analysis knows the fault acted): the packet counters of the fault's own
rules, read right before revert (``effect_counters()``: ``matched_packets``, ``matched_bytes``,
``rules_in_place``). Each counted packet is one A and B tried to exchange and lost, so at least
one proves the partition cut a live edge; a partition between services that never talk (the
proxied api/redis edge above) counts 0 and its window stays inconclusive.
"""

from __future__ import annotations

from typing import Literal

from harness.errors import EnvironmentFailure
from harness.faults._iptables import (
    NetnsRules,
    Rule,
    container_ips,
    netns_effect,
    rule_comment,
    sources,
)
from harness.faults.base import Fault
from harness.faults.registry import register
from harness.scenario.faults.partition import PartitionSpec


def partition_rules(spec: PartitionSpec, side: Literal["a", "b"], peer_ips: dict[str, list[str]]) -> list[Rule]:
    """The rule(s) ``spec`` gives a container of ``side``, dropping what comes from ``peer_ips``
    (the other side's containers and their IPs): everything, or with ``ports_b`` only TCP to
    (side B) or from (side A) those ports."""
    matches: tuple[str, ...] = ("-s", sources(peer_ips))
    if spec.ports_b:
        ports = ",".join(map(str, spec.ports_b))
        flag = "--dports" if side == "b" else "--sports"
        matches += ("-p", "tcp", "-m", "multiport", flag, ports)
    return [Rule("INPUT", matches, ("-j", "DROP"))]


@register
class PartitionFault(Fault):
    """Drops traffic between the two sides, in both directions; revert deletes the rules."""

    spec_type = PartitionSpec
    spec: PartitionSpec

    def __init__(self, spec: PartitionSpec, ctx) -> None:
        super().__init__(spec, ctx)
        self._rules = NetnsRules(ctx.containers, rule_comment(ctx.containers.run_id, spec.name))

    def inject(self) -> list[str]:
        """Partition every running container of side A from every one of side B; return all
        their names (sorted). Everything is resolved before the first rule goes in, so both sides
        are cut within a few tens of milliseconds of each other.

        Raises:
            EnvironmentFailure: a service has no running container, a side has no IPv4 address,
                or iptables failed (rules already added are removed by revert).
        """
        what = f"partition {self.spec.name}"
        side_a = container_ips(self.ctx.containers, self.spec.services_a, what)
        side_b = container_ips(self.ctx.containers, self.spec.services_b, what)
        for label, ips in (("services_a", side_a), ("services_b", side_b)):
            if not any(ips.values()):
                raise EnvironmentFailure(f"{what}: the containers of {label} have no IPv4 address")
        plan = [(name, partition_rules(self.spec, "a", side_b)) for name in side_a]
        plan += [(name, partition_rules(self.spec, "b", side_a)) for name in side_b]
        self._rules.claim([name for name, _ in plan])
        for name, rules in plan:
            self._rules.add(name, rules)
        return sorted(side_a) + sorted(side_b)

    def effect_counters(self) -> dict[str, float]:
        """``matched_packets`` / ``matched_bytes`` the partition dropped since inject (both
        sides) and ``rules_in_place`` (see :func:`netns_effect`); ``{}`` if unreadable. Never raises."""
        return netns_effect(self._rules, f"partition {self.spec.name}")

    def revert(self) -> list[str]:
        """Delete the rules; return the containers cleaned ([] before inject and on a second call)."""
        return self._rules.remove_all()
