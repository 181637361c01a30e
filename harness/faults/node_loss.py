"""``node_loss``: a group of services is lost at once, like a Kubernetes node going NotReady.

Mechanism: every running container of ``services`` is cut off the network at the same moment by
two iptables rules in its own network namespace (host ``iptables`` through ``nsenter -t PID -n``,
or a helper container on a remote engine: ``_iptables``):
``INPUT ! -i lo -j DROP`` and ``OUTPUT ! -o lo -j DROP``, tagged with the comment
``harness:<run-id>:<fault name>`` (the shared mechanics of ``_iptables``). All PIDs are resolved
first and the rules are then applied in one pass, so the group goes dark within a few tens of
milliseconds; loopback stays open, so the processes keep running and talking to themselves, as on
a node that lost its kubelet or its network but not its power.

Why drop and not stop or ``docker network disconnect``: when a node goes NotReady its pods are
still in the endpoints (until the node controller evicts them, minutes later) and packets to them
vanish. Peers see *timeouts*, not refusals: a connect hangs (SYN unanswered) until the caller's
connect timeout, and already-open connections stall mid-request until the caller's read timeout.
The names still resolve (Docker's DNS keeps the containers), exactly like stale endpoints. A
stopped or disconnected container would instead give quick "no route to host", refusals or DNS
errors, which is a kinder failure than a lost node.

Docker's view does not change: the containers stay ``running`` and their health checks (which run
inside the namespace, over loopback for most) may even stay healthy, as a node's pods do until the
control plane notices. So no Docker event can prove this fault acted.

Effect evidence (how analysis knows the fault acted): the packet counters of the two rules in
every namespace, read right before revert (``effect_counters()``: ``matched_packets``,
``matched_bytes``, ``rules_in_place``). Each counted packet is one that a peer sent to the lost
node (``INPUT``) or the node tried to send (``OUTPUT``) and that vanished; a "node" nobody talked
to during the fault counts 0 and its window stays inconclusive. (Docker's DNS at ``127.0.0.11``
is reached over loopback, so the containers' own lookups are not counted.)

Revert deletes exactly the rules this fault added (by their comment), in every container that
still runs in the same namespace (same PID 1); a container restarted in between has a new
namespace without them. Requires root on the host (``nsenter``) and the host's ``iptables``, or, with a remote engine,
the ``harness/nettools`` image on that engine.
"""

from __future__ import annotations

from harness.errors import EnvironmentFailure
from harness.faults._iptables import NetnsRules, Rule, netns_effect, rule_comment
from harness.faults.base import Fault
from harness.faults.registry import register
from harness.scenario.faults.node_loss import NodeLossSpec

RULES: tuple[Rule, ...] = (
    Rule("INPUT", ("!", "-i", "lo"), ("-j", "DROP")),
    Rule("OUTPUT", ("!", "-o", "lo"), ("-j", "DROP")),
)
"""The two DROP rules every container of the group gets: everything in and out except loopback."""


@register
class NodeLossFault(Fault):
    """Drops all non-loopback traffic of every container of the group; revert removes the rules."""

    spec_type = NodeLossSpec
    spec: NodeLossSpec

    def __init__(self, spec, ctx):
        super().__init__(spec, ctx)
        self._rules = NetnsRules(ctx.containers, rule_comment(ctx.containers.run_id, spec.name))

    def inject(self) -> list[str]:
        """Cut every running container of the group off the network; return their names (sorted).

        Raises:
            EnvironmentFailure: the group has no running container, or iptables failed (the
                containers already cut off are restored by revert).
        """
        names = sorted({n for service in self.spec.services for n in self.ctx.containers.running_containers(service)})
        if not names:
            raise EnvironmentFailure(f"node_loss {self.spec.name}: no running container in {self.spec.services}")
        self._rules.claim(names)  # every PID resolved (and guarded) before the first rule
        for name in names:
            self._rules.add(name, list(RULES))
        return names

    def effect_counters(self) -> dict[str, float]:
        """``matched_packets`` / ``matched_bytes`` the node's DROP rules took, in and out, since
        inject, and ``rules_in_place`` (see :func:`netns_effect`); ``{}`` if unreadable. Never raises."""
        return netns_effect(self._rules, f"node_loss {self.spec.name}")

    def revert(self) -> list[str]:
        """Remove this fault's rules from every container still in the namespace it cut off;
        return the containers restored ([] before any inject, and on a second call)."""
        return self._rules.remove_all()
