"""What every "N replicas of a service" injector shares: choosing the victims with the fault's
seeded RNG, reading a victim's state, and :class:`ReplicaFault`, the base of the kinds whose
revert starts the victims again (``kill``, ``stop``, ``restart``).

Not a kind module: the registry skips it.
"""

from __future__ import annotations

from typing import Any

from harness.errors import EnvironmentFailure
from harness.faults.base import Fault
from harness.faults.context import FaultContext
from harness.scenario.faults import ReplicaFaultSpec


def choose_replicas(fault: Fault, spec: ReplicaFaultSpec) -> list[str]:
    """Pick the victims of ``fault``: ``spec.victims_wanted`` of the service's running
    containers, sampled with the fault's seeded RNG from the names sorted, returned sorted (so a
    seed picks the same replicas every time).

    Raises:
        EnvironmentFailure: the service has no running container.
    """
    running = sorted(fault.ctx.containers.running_containers(spec.service))
    if not running:
        raise EnvironmentFailure(f"{spec.kind} {spec.name}: service {spec.service!r} has no running container")
    return sorted(fault.ctx.rng.sample(running, spec.victims_wanted(len(running))))


def container_state(fault: Fault, name: str) -> dict[str, Any]:
    """Docker's ``State`` of a container of this run, fresh from the engine (label-checked).

    Raises:
        EnvironmentFailure: not found, not labelled with this run's id, or the engine failed.
    """
    return fault.ctx.containers.container(name).attrs.get("State") or {}


class ReplicaFault(Fault):
    """A fault that takes some replicas down and whose revert starts them again.

    Subclasses add each victim to :attr:`victims` *before* acting on it (so a failed action is
    still reverted) and implement :meth:`inject`; :meth:`revert` is shared.
    """

    spec: ReplicaFaultSpec

    def __init__(self, spec: ReplicaFaultSpec, ctx: FaultContext):
        super().__init__(spec, ctx)
        self.victims: list[str] = []

    def revert(self) -> list[str]:
        """Start the victims that are not running; return those started ([] when none). A victim
        is forgotten once handled, so a revert that failed half-way can simply be called again.

        Raises:
            EnvironmentFailure: the engine failed to start a victim (it stays listed).
        """
        started = []
        for name in list(self.victims):
            if self.ctx.containers.start(name):
                started.append(name)
            self.victims.remove(name)
        return started


__all__ = ["ReplicaFault", "choose_replicas", "container_state"]
