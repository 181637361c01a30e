"""``node_loss``: a group of services is lost at once, like a Kubernetes node going NotReady.

Mechanism: every running container of ``services`` is cut off the network at the same moment by
two iptables rules in its own network namespace (host ``iptables`` through ``nsenter -t PID -n``):
``INPUT ! -i lo -j DROP`` and ``OUTPUT ! -o lo -j DROP``, tagged with the comment
``harness-node-loss:<fault name>``. All PIDs are resolved first and the rules are then applied in
one pass, so the group goes dark within a few tens of milliseconds; loopback stays open, so the
processes keep running and talking to themselves, as on a node that lost its kubelet or its
network but not its power.

Why drop and not stop or ``docker network disconnect``: when a node goes NotReady its pods are
still in the endpoints (until the node controller evicts them, minutes later) and packets to them
vanish. Peers see *timeouts*, not refusals: a connect hangs (SYN unanswered) until the caller's
connect timeout, and already-open connections stall mid-request until the caller's read timeout.
The names still resolve (Docker's DNS keeps the containers), exactly like stale endpoints. A
stopped or disconnected container would instead give quick "no route to host", refusals or DNS
errors, which is a kinder failure than a lost node.

Docker's view does not change: the containers stay ``running`` and their health checks (which run
inside the namespace, over loopback for most) may even stay healthy, as a node's pods do until the
control plane notices.

Revert deletes exactly the rules this fault added (by their comment), in every container that
still runs in the same namespace (same PID 1); a container restarted in between has a new
namespace without them. Requires root on the host (``nsenter``) and the host's ``iptables``.
"""

from __future__ import annotations

import shlex
from typing import Literal

from pydantic import Field, field_validator

from harness.errors import EnvironmentFailure
from harness.faults.base import Fault, FaultSpec
from harness.faults.kill import container_state
from harness.faults.registry import register

RULES: tuple[tuple[str, str], ...] = (("INPUT", "-i"), ("OUTPUT", "-o"))
"""(chain, interface flag) of the two DROP rules: everything in and out except loopback."""


class NodeLossSpec(FaultSpec):
    """Parameters: ``services``, the compose services that share the lost "node" (all their
    running containers are cut off)."""

    summary = "Node NotReady: every container of a group of services becomes unreachable at once (timeouts)."
    seed_section = "000 How Servers Fail, 4. Scenario 4: Kubernetes Node NotReady"

    kind: Literal["node_loss"] = "node_loss"
    services: list[str] = Field(min_length=1, max_length=50,
                                description="compose services on the lost node; every running container of each")

    @field_validator("services")
    @classmethod
    def _unique(cls, services: list[str]) -> list[str]:
        if any(not s for s in services):
            raise ValueError("service names must not be empty")
        if len(set(services)) != len(services):
            raise ValueError("services must be unique")
        return services

    def service_refs(self) -> list[str]:
        return list(self.services)


@register
class NodeLossFault(Fault):
    """Drops all non-loopback traffic of every container of the group; revert removes the rules."""

    spec_type = NodeLossSpec
    spec: NodeLossSpec

    def __init__(self, spec, ctx):
        super().__init__(spec, ctx)
        self._isolated: dict[str, int] = {}  # container -> PID 1 whose namespace got the rules

    @property
    def comment(self) -> str:
        """The iptables comment that tags this fault's rules."""
        return f"harness-node-loss:{self.spec.name}"

    def _match(self, flag: str) -> list[str]:
        """The rule after its chain name: every interface but loopback, tagged, dropped."""
        return ["!", flag, "lo", "-m", "comment", "--comment", self.comment, "-j", "DROP"]

    def inject(self) -> list[str]:
        """Cut every running container of the group off the network; return their names.

        Raises:
            EnvironmentFailure: the group has no running container, or iptables failed (the
                containers already cut off are restored by revert).
        """
        names = sorted({n for service in self.spec.services for n in self.ctx.stack.running_containers(service)})
        if not names:
            raise EnvironmentFailure(f"node_loss {self.spec.name}: no running container in {self.spec.services}")
        pids = {name: self.ctx.stack.pid(name) for name in names}  # everything resolved before acting
        for name in names:
            self._isolated[name] = pids[name]  # recorded first: revert removes whatever was added
            for chain, flag in RULES:
                self.ctx.stack.nsenter_net(name, ["iptables", "-w", "5", "-I", chain, "1", *self._match(flag)])
        return names

    def _ours(self, name: str, chain: str) -> int:
        """How many of this fault's rules ``chain`` holds in ``name``'s namespace."""
        out = self.ctx.stack.nsenter_net(name, ["iptables", "-w", "5", "-S", chain])
        count = 0
        for line in out.splitlines():
            try:
                words = shlex.split(line)
            except ValueError:  # unbalanced quotes: not a rule we wrote
                continue
            count += any(w == "--comment" and words[i + 1:i + 2] == [self.comment] for i, w in enumerate(words))
        return count

    def revert(self) -> list[str]:
        """Remove this fault's rules from every container still in the namespace it cut off;
        return the containers restored ([] before any inject, and on a second call)."""
        restored = []
        for name, pid in list(self._isolated.items()):
            state = container_state(self, name)
            if state.get("Running") and int(state.get("Pid") or 0) == pid:
                removed = 0
                for chain, flag in RULES:
                    for _ in range(self._ours(name, chain)):
                        self.ctx.stack.nsenter_net(name, ["iptables", "-w", "5", "-D", chain, *self._match(flag)])
                        removed += 1
                if removed:
                    restored.append(name)
            del self._isolated[name]
        return restored
