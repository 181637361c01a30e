"""``firewall``: a host firewall on some replicas of a service drops or rejects one TCP port.

Mechanism: one iptables rule in the filter table's ``INPUT`` chain of each chosen container's
own network namespace (the host's ``iptables`` through ``nsenter -t PID -n``, or a helper container
on a remote engine: ``_iptables``), matching TCP
packets to ``port``; with ``from_services``, only packets from those services' container IPs;
without, every packet that does not arrive on loopback (``! -i lo``: a firewall blocks the
network, not the host talking to itself, so in-container health checks over 127.0.0.1 still
pass). The target is ``DROP`` or ``REJECT --reject-with tcp-reset``. Each rule carries the comment
``harness:<run-id>:<fault name>``; revert deletes exactly the rules carrying it.

What the client sees:

- ``action: drop`` ("firewall blocking traffic"): the SYN is silently discarded and the client
  retransmits it until *its own* connect timeout (Linux default: ~127 s for a blocking connect;
  HAProxy: ``timeout connect``; Python: the socket timeout). No refusal, no ICMP error. Ping
  (ICMP) still works: only the port is blocked.
- ``action: reject`` ("ping works but port closed"): the SYN is answered with a TCP RST, so the
  connect fails at once with ``ECONNREFUSED`` (Python's ``ConnectionRefusedError``), exactly as
  if nothing listened on the port, while the container stays reachable on its other ports.

Connections already open when the fault starts: the containers' filter tables are empty
(Docker only installs NAT rules for its DNS inside a container's namespace), so there is no
``ESTABLISHED,RELATED ACCEPT`` in front of our rule and it hits open connections too. With
``drop``, the client's next packet on an open connection is lost: a request in flight or sent
on a pooled keep-alive connection hangs until the client's read timeout (TCP retransmits in
the background). With ``reject``, that next packet is answered with a RST: the client gets
``ECONNRESET`` (a truncated or empty response). With ``new_connections_only: true`` the rule only
matches ``-m conntrack --ctstate NEW`` (a stateful firewall change: open connections keep working,
only new ones are blocked). After revert, new connections succeed at once; a connection that
stalled under ``drop`` resumes at its next TCP retransmission (exponential backoff, so up to
several seconds later) unless the client has given up on it.

Limits: TCP and IPv4 only (no ``ip6tables`` rule; our compose networks are IPv4-only). Source IPs
(``from_services``) and replicas are resolved at inject: a container started later (a restart or
scale-up) is not covered, and a restarted container comes back in a fresh namespace without the
rule. Firewalling the harness's Toxiproxy needs ``target.allow_toxiproxy_faults: true``; every
container is checked against the stack's guard before the first rule goes in. Requires root on
the host (``nsenter``) and the host's ``iptables`` (either backend), or, with a remote engine, the
``harness/nettools`` image on that engine.

Effect evidence (how analysis knows the fault acted): the packet counters of the fault's own
rules, read right before revert (``effect_counters()``: ``matched_packets``, ``matched_bytes``,
``rules_in_place``). A packet counted there is one the firewall dropped or rejected, so at
least one proves it acted; a firewall on a port nobody used during the fault counts 0 and its
window stays inconclusive. No ``victim_in_path`` condition: the matched packets are the traffic.
With ``new_connections_only`` only the SYNs of new connections are counted.

The iptables mechanics are shared with ``partition``, ``dns`` and ``node_loss`` (``_iptables``).
"""

from __future__ import annotations

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
from harness.faults.replica import choose_replicas
from harness.scenario.faults.firewall import FirewallSpec


def firewall_rules(spec: FirewallSpec, source_ips: dict[str, list[str]] | None) -> list[Rule]:
    """The one rule each chosen container of ``spec`` gets, given the source IPs of
    ``from_services`` by container (None: every non-loopback source)."""
    origin = ("-s", sources(source_ips)) if source_ips is not None else ("!", "-i", "lo")
    state = ("-m", "conntrack", "--ctstate", "NEW") if spec.new_connections_only else ()
    target = ("-j", "DROP") if spec.action == "drop" else ("-j", "REJECT", "--reject-with", "tcp-reset")
    return [Rule("INPUT", (*origin, "-p", "tcp", "--dport", str(spec.port), *state), target)]


@register
class FirewallFault(Fault):
    """Adds the firewall rule to each chosen replica; revert deletes it."""

    spec_type = FirewallSpec
    spec: FirewallSpec

    def __init__(self, spec: FirewallSpec, ctx) -> None:
        super().__init__(spec, ctx)
        self._rules = NetnsRules(ctx.containers, rule_comment(ctx.containers.run_id, spec.name))

    def inject(self) -> list[str]:
        """Firewall the chosen replicas; return their names (sorted).

        Raises:
            EnvironmentFailure: the service (or a ``from_services`` service) has no running
                container, or iptables failed (rules already added are removed by revert).
        """
        what = f"firewall {self.spec.name}"
        chosen = choose_replicas(self, self.spec)
        source_ips = container_ips(self.ctx.containers, self.spec.from_services, what) if self.spec.from_services else None
        if source_ips is not None and not any(source_ips.values()):
            raise EnvironmentFailure(f"{what}: the containers of {self.spec.from_services} have no IPv4 address")
        rules = firewall_rules(self.spec, source_ips)
        self._rules.claim(chosen)
        for name in chosen:
            self._rules.add(name, rules)
        return chosen

    def effect_counters(self) -> dict[str, float]:
        """``matched_packets`` / ``matched_bytes`` the firewall rules dropped or rejected since
        inject and ``rules_in_place`` (see :func:`netns_effect`); ``{}`` if unreadable. Never raises."""
        return netns_effect(self._rules, f"firewall {self.spec.name}")

    def revert(self) -> list[str]:
        """Delete the rules; return the containers cleaned ([] before inject and on a second call)."""
        return self._rules.remove_all()
