"""``firewall``: a host firewall on some replicas of a service drops or rejects one TCP port.

Mechanism: one iptables rule in the filter table's ``INPUT`` chain of each chosen container's
own network namespace (the host's ``iptables`` through ``nsenter -t PID -n``), matching TCP
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
rule. Requires root on the host (``nsenter``) and the host's ``iptables`` (either backend).

This module also holds what the iptables-based kinds share (``partition``, ``dns``):
:class:`Rule`, :class:`NetnsRules` and :func:`rule_comment`.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from harness.errors import EnvironmentFailure
from harness.faults.base import Fault
from harness.faults.kill import ReplicaFaultSpec, choose_replicas
from harness.faults.registry import register

if TYPE_CHECKING:
    from harness.environment.stack import Stack

IPTABLES_WAIT_S = 5
"""``iptables -w``: seconds to wait for the xtables lock when another iptables call holds it."""

IPTABLES_TIMEOUT_S = 10.0
"""Timeout of each ``nsenter ... iptables`` call (it normally takes a few milliseconds)."""

Chain = Literal["INPUT", "OUTPUT"]
CHAINS: tuple[Chain, ...] = ("INPUT", "OUTPUT")
"""Filter-table chains our rules go in (and that revert searches)."""


def rule_comment(run_id: str, fault_name: str) -> str:
    """The iptables comment tagging a fault's rules: ``harness:<run-id>:<fault name>``.

    Unique per run and fault (the occurrences of an intermittent fault never overlap), so revert
    deletes exactly these rules, and a later cleanup can find any left behind by grepping
    ``iptables -S`` for ``harness:``. At most 23 + 64 + 9 characters (iptables allows 256).
    """
    return f"harness:{run_id}:{fault_name}"


def validate_services(services: list[str]) -> list[str]:
    """Pydantic helper: names are non-empty and unique; returns them unchanged.

    Raises:
        ValueError: an empty or repeated name.
    """
    if any(not s for s in services):
        raise ValueError("service names must not be empty")
    if len(set(services)) != len(services):
        raise ValueError("service names must be unique")
    return services


@dataclass(frozen=True)
class Rule:
    """One filter-table rule: ``chain``, its ``matches`` (iptables argv, e.g.
    ``("-s", "172.18.0.3/32", "-p", "tcp", "--dport", "8080")``) and its ``target`` argv (e.g.
    ``("-j", "DROP")``). The comment is added by :class:`NetnsRules`. Every element is one argv
    word: nothing goes through a shell."""

    chain: Chain
    matches: tuple[str, ...]
    target: tuple[str, ...]

    def argv(self, comment: str) -> list[str]:
        """The rule after ``-I <chain>``: matches, the comment match, then the target."""
        return [*self.matches, "-m", "comment", "--comment", comment, *self.target]


class NetnsRules:
    """The iptables rules one fault adds in containers' network namespaces.

    Containers are recorded (with the PID whose namespace gets the rules) *before* any rule is
    added, so :meth:`remove_all` after a failed or partial :meth:`add` removes whatever did get
    in. Removal lists each chain and deletes every rule carrying ``comment``; it never deletes a
    rule by position or any rule without our comment.

    Args:
        stack: the run's stack (every container goes through its label-checked accessors).
        comment: the fault's comment (:func:`rule_comment`).
    """

    def __init__(self, stack: Stack, comment: str):
        self.stack = stack
        self.comment = comment
        self._namespaces: dict[str, int] = {}  # container -> PID 1 of the namespace holding rules

    def iptables(self, container: str, argv: list[str]) -> str:
        """Run ``iptables -w 5 <argv>`` in ``container``'s network namespace; return stdout.

        Raises:
            EnvironmentFailure: iptables failed or timed out (the message has its stderr).
        """
        return self.stack.nsenter_net(container, ["iptables", "-w", str(IPTABLES_WAIT_S), *argv],
                                      timeout_s=IPTABLES_TIMEOUT_S)

    def add(self, container: str, rules: list[Rule]) -> None:
        """Insert ``rules`` at the top of their chains in ``container``'s namespace (so they win
        over any ACCEPT the image may have installed).

        Raises:
            EnvironmentFailure: the container is not running, or iptables refused a rule.
        """
        if container not in self._namespaces:
            self._namespaces[container] = self.stack.pid(container)  # recorded before any change
        for rule in rules:
            self.iptables(container, ["-I", rule.chain, *rule.argv(self.comment)])

    def ours(self, container: str) -> list[list[str]]:
        """This fault's rules in ``container``'s namespace, each as the argv words of
        ``iptables -S`` after ``-A`` (chain first), e.g. ``["INPUT", "-s", ...]``."""
        found = []
        for chain in CHAINS:
            for line in self.iptables(container, ["-S", chain]).splitlines():
                words = shlex.split(line)  # parses iptables' own quoting; nothing is executed
                if words[:1] == ["-A"] and any(
                    w == "--comment" and words[i + 1:i + 2] == [self.comment] for i, w in enumerate(words)
                ):
                    found.append(words[1:])
        return found

    def remove_all(self) -> list[str]:
        """Delete this fault's rules from every namespace they were added to; return the
        containers where rules were deleted. A container that stopped, was removed or was
        restarted (a new PID 1, a new namespace) lost its rules with its old namespace and is
        skipped. A container is forgotten once handled, so calling again after a failure
        retries only what is left, and a second call returns [].

        Raises:
            EnvironmentFailure: Docker or iptables failed (the container stays recorded).
        """
        cleaned = []
        for container, pid in list(self._namespaces.items()):
            if self._same_namespace(container, pid):
                rules = self.ours(container)
                for words in rules:
                    self.iptables(container, ["-D", *words])
                if rules:
                    cleaned.append(container)
            del self._namespaces[container]
        return cleaned

    def _same_namespace(self, container: str, pid: int) -> bool:
        """Whether ``container`` still runs (or is paused) with the PID 1 whose namespace got our
        rules; False when it is gone, stopped or restarted."""
        try:
            state = self.stack.container(container).attrs.get("State") or {}
        except EnvironmentFailure:
            if any(container in self.stack.containers_of(s) for s in self.stack.services()):
                raise  # it exists: the engine failed, and the rules may still be there
            return False  # removed: its namespace is gone with it
        return bool(state.get("Running")) and int(state.get("Pid") or 0) == pid


def container_ips(stack: Stack, services: list[str], what: str) -> dict[str, list[str]]:
    """IPv4 addresses of every running container of ``services``: ``{container: [ip, ...]}``.

    Raises:
        EnvironmentFailure: one of the services has no running container (``what`` names the
            fault in the message), or Docker failed.
    """
    out: dict[str, list[str]] = {}
    for service in services:
        running = sorted(stack.running_containers(service))
        if not running:
            raise EnvironmentFailure(f"{what}: service {service!r} has no running container")
        for name in running:
            out[name] = stack.ips(name)
    return out


def sources(ips: dict[str, list[str]]) -> str:
    """``-s`` argument for a set of IPs: ``a/32,b/32`` (iptables adds one rule per address)."""
    return ",".join(f"{ip}/32" for ip in sorted({ip for addrs in ips.values() for ip in addrs}))


class FirewallSpec(ReplicaFaultSpec):
    """Parameters: ``service`` and ``count`` or ``percent`` (which replicas get the firewall;
    default one, chosen by the seed), ``port`` (TCP port inside the container, 1..65535),
    ``action`` (``drop``: hang; ``reject``: refused), ``from_services`` (only these services'
    containers are blocked; default: every source but loopback) and ``new_connections_only``
    (open connections keep working)."""

    summary = "Firewall blocking a port: packets to one TCP port of a service are dropped (hang) or rejected (refused)."
    seed_section = "000 How Servers Fail, 3. What Actually Fails: Network Layer (Firewall blocking traffic) / 4. Scenario 2: Ping Works but Port Closed"

    kind: Literal["firewall"] = "firewall"
    port: int = Field(ge=1, le=65_535, description="TCP port the service listens on inside its container")
    action: Literal["drop", "reject"] = Field(
        default="drop", description="drop: silently discard (clients hang); reject: TCP RST (connection refused)")
    from_services: list[str] | None = Field(
        default=None, min_length=1, max_length=50,
        description="block only packets from these services' containers (default: every non-loopback source)")
    new_connections_only: bool = Field(
        default=False, description="match only new connections (conntrack NEW): open connections keep working")

    @field_validator("from_services")
    @classmethod
    def _unique(cls, services: list[str] | None) -> list[str] | None:
        return None if services is None else validate_services(services)

    def service_refs(self) -> list[str]:
        return [self.service, *(self.from_services or [])]

    def rules(self, source_ips: dict[str, list[str]] | None) -> list[Rule]:
        """The one rule (per chosen container) this spec stands for, given the source IPs of
        ``from_services`` (None: every non-loopback source)."""
        origin = ("-s", sources(source_ips)) if source_ips is not None else ("!", "-i", "lo")
        state = ("-m", "conntrack", "--ctstate", "NEW") if self.new_connections_only else ()
        target = ("-j", "DROP") if self.action == "drop" else ("-j", "REJECT", "--reject-with", "tcp-reset")
        return [Rule("INPUT", (*origin, "-p", "tcp", "--dport", str(self.port), *state), target)]


@register
class FirewallFault(Fault):
    """Adds the firewall rule to each chosen replica; revert deletes it."""

    spec_type = FirewallSpec
    spec: FirewallSpec

    def __init__(self, spec: FirewallSpec, ctx) -> None:
        super().__init__(spec, ctx)
        self._rules = NetnsRules(ctx.stack, rule_comment(ctx.stack.run_id, spec.name))

    def inject(self) -> list[str]:
        """Firewall the chosen replicas; return their names (sorted).

        Raises:
            EnvironmentFailure: the service (or a ``from_services`` service) has no running
                container, or iptables failed (rules already added are removed by revert).
        """
        what = f"firewall {self.spec.name}"
        chosen = choose_replicas(self, self.spec)
        source_ips = container_ips(self.ctx.stack, self.spec.from_services, what) if self.spec.from_services else None
        if source_ips is not None and not any(source_ips.values()):
            raise EnvironmentFailure(f"{what}: the containers of {self.spec.from_services} have no IPv4 address")
        rules = self.spec.rules(source_ips)
        for name in chosen:
            self._rules.add(name, rules)
        return chosen

    def revert(self) -> list[str]:
        """Delete the rules; return the containers cleaned ([] before inject and on a second call)."""
        return self._rules.remove_all()
