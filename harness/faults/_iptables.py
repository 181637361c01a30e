"""Shared iptables mechanics of the network-namespace faults (firewall, partition, dns, node_loss).

Rules are added with ``iptables -w 5 -I ...`` in each container's own network namespace, entered
through :meth:`ContainerActions.netns_exec`: ``nsenter -t PID -n`` on this machine for a local
engine, a helper container (``--network container:<id> --cap-add NET_ADMIN harness/nettools``)
on a remote one. They carry the comment ``harness:<run-id>:<fault>``, so revert deletes exactly them and
nothing else. The same comment finds their packet counters (:meth:`NetnsRules.counters`), the
kinds' proof that they acted: a packet counted by one of our DROP/REJECT rules is a packet the
fault took away from someone. Private module: not a fault kind, not auto-registered.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from harness.errors import EnvironmentFailure
from harness.faults._effect import EFFECT_READ_TIMEOUT_S, Deadline, bounded_read

if TYPE_CHECKING:
    from harness.faults.context import ContainerActions

IPTABLES_WAIT_S = 5
"""``iptables -w``: seconds to wait for the xtables lock when another iptables call holds it."""

IPTABLES_TIMEOUT_S = 10.0
"""Timeout of each ``iptables`` call (a few milliseconds through nsenter, ~0.3 s through a helper container)."""

COUNTER_WAIT_S = 1
"""``iptables -w`` of a counter read: it gives up sooner than a change would (it only measures)."""

COUNTER_TIMEOUT_S = 3.0
"""Timeout of each counter read (``iptables -L``, normally ~10 ms)."""

COUNTERS_BUDGET_S = EFFECT_READ_TIMEOUT_S - 1.0
"""All counter reads of one fault stop after this many seconds and return what they have: 1 s
inside :func:`bounded_read`'s bound, so a slow namespace costs the later ones, not the whole
measurement."""

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


def rule_counters(listing: str, comment: str) -> list[tuple[int, int]]:
    """``(packets, bytes)`` of every rule carrying ``comment`` in one chain's ``iptables -L CHAIN
    -v -x -n`` output.

    That listing is two header lines, then one line per rule starting with its exact (``-x``)
    packet and byte counts and ending with its matches, where a comment shows as ``/* text */``
    (the same with the nft and legacy backends), e.g.::

        Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
            pkts      bytes target     prot opt in     out     source               destination
              12      720 DROP       6    --  !lo    *       0.0.0.0/0            0.0.0.0/0     tcp dpt:8080 /* harness:R:f */

    The comment is matched with its delimiters, so ``harness:R:f`` never counts the rules of a
    fault named ``f2``; our comments cannot contain ``*/`` (fault names are ``[A-Za-z0-9_.-]``).
    Lines that are not rules (headers, blanks) are skipped.
    """
    tag = f"/* {comment} */"
    found = []
    for line in listing.splitlines():
        words = line.split(maxsplit=2)
        if len(words) == 3 and words[0].isdigit() and words[1].isdigit() and tag in words[2]:
            found.append((int(words[0]), int(words[1])))
    return found


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
        containers: the run's containers (every one goes through their label-checked guard).
        comment: the fault's comment (:func:`rule_comment`).
    """

    def __init__(self, containers: ContainerActions, comment: str):
        self.containers = containers
        self.comment = comment
        self._namespaces: dict[str, int] = {}  # container -> PID 1 of the namespace holding rules

    def iptables(self, container: str, argv: list[str]) -> str:
        """Run ``iptables -w 5 <argv>`` in ``container``'s network namespace; return stdout.

        Raises:
            EnvironmentFailure: iptables failed or timed out (the message has its stderr).
        """
        return self.containers.netns_exec(container, ["iptables", "-w", str(IPTABLES_WAIT_S), *argv],
                                          timeout_s=IPTABLES_TIMEOUT_S)

    def claim(self, containers: list[str]) -> None:
        """Check every container a fault is about to change and record the PID of its
        namespace, *before* any rule goes in: a container the run may not touch (e.g. the
        harness's Toxiproxy without ``allow_toxiproxy_faults``) or one that is not running fails
        the inject while nothing has changed yet.

        Raises:
            EnvironmentFailure: a container is not running or refused by the guard.
        """
        for container in containers:
            if container not in self._namespaces:
                self._namespaces[container] = self.containers.pid(container)  # the label-checked guard

    def add(self, container: str, rules: list[Rule]) -> None:
        """Insert ``rules`` at the top of their chains in ``container``'s namespace (so they win
        over any ACCEPT the image may have installed).

        Raises:
            EnvironmentFailure: the container is not running, or iptables refused a rule.
        """
        self.claim([container])  # recorded before any change
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

    def counters(self, deadline: Deadline) -> dict[str, float]:
        """What this fault's rules counted so far, in every namespace they were added to:
        ``matched_packets`` and ``matched_bytes`` (sums of the rules' iptables counters, packets
        and bytes, since each rule was inserted) and ``rules_in_place`` (how many of our rules
        were found: 0 means none is left, e.g. every victim restarted into a fresh namespace).

        One ``iptables -w 1 -L CHAIN -v -x -n`` per chain and namespace, each with a timeout of
        at most :data:`COUNTER_TIMEOUT_S` and never past ``deadline``. A namespace that cannot
        be read (the container stopped, the call timed out) is skipped, so the sums are lower
        bounds; a restarted container is read in its new namespace, which holds none of our rules
        (their counts were lost with the old one).

        Returns ``{}`` when no namespace could be read (or none was recorded). An error other
        than :class:`EnvironmentFailure` propagates (:func:`netns_effect` turns it into ``{}``).
        """
        packets = octets = rules = 0
        read = 0
        for container in list(self._namespaces):  # a copy: a revert may run concurrently
            try:
                found = self._container_counters(container, deadline)
            except EnvironmentFailure:
                continue
            read += 1
            rules += len(found)
            packets += sum(p for p, _ in found)
            octets += sum(b for _, b in found)
        if not read:
            return {}
        return {"matched_packets": packets, "matched_bytes": octets, "rules_in_place": rules}

    def _container_counters(self, container: str, deadline: Deadline) -> list[tuple[int, int]]:
        """``(packets, bytes)`` of our rules in ``container``'s current namespace.

        Raises:
            EnvironmentFailure: out of time, the container is not running, or iptables failed.
        """
        found = []
        for chain in CHAINS:
            if deadline.expired():
                raise EnvironmentFailure("effect read: out of time")
            listing = self.containers.netns_exec(
                container, ["iptables", "-w", str(COUNTER_WAIT_S), "-L", chain, "-v", "-x", "-n"],
                timeout_s=min(COUNTER_TIMEOUT_S, deadline.remaining_s()))
            found += rule_counters(listing, self.comment)
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
            state = self.containers.container(container).attrs.get("State") or {}
        except EnvironmentFailure:
            if any(container in self.containers.containers_of(s) for s in self.containers.services()):
                raise  # it exists: the engine failed, and the rules may still be there
            return False  # removed: its namespace is gone with it
        return bool(state.get("Running")) and int(state.get("Pid") or 0) == pid


def netns_effect(rules: NetnsRules, what: str) -> dict[str, float]:
    """The ``effect_counters()`` of every iptables kind: :meth:`NetnsRules.counters` of its
    rules (``matched_packets``, ``matched_bytes``, ``rules_in_place``), within
    :data:`COUNTERS_BUDGET_S` and :func:`bounded_read`'s bound; ``{}`` when nothing could be read.
    ``what`` names the fault in the log. Never raises."""
    return bounded_read(lambda: rules.counters(Deadline(COUNTERS_BUDGET_S)), what)


def container_ips(containers: ContainerActions, services: list[str], what: str) -> dict[str, list[str]]:
    """IPv4 addresses of every running container of ``services``: ``{container: [ip, ...]}``.

    Raises:
        EnvironmentFailure: one of the services has no running container (``what`` names the
            fault in the message), or Docker failed.
    """
    out: dict[str, list[str]] = {}
    for service in services:
        running = sorted(containers.running_containers(service))
        if not running:
            raise EnvironmentFailure(f"{what}: service {service!r} has no running container")
        for name in running:
            out[name] = containers.ips(name)
    return out


def sources(ips: dict[str, list[str]]) -> str:
    """``-s`` argument for a set of IPs: ``a/32,b/32`` (iptables adds one rule per address)."""
    return ",".join(f"{ip}/32" for ip in sorted({ip for addrs in ips.values() for ip in addrs}))


