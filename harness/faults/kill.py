"""``kill``: send a signal to ``count`` (or ``percent``) of a compose service's running replicas.

Mechanism: ``docker kill --signal`` on each victim (``Stack.kill``), i.e. the engine signals the
container's PID 1. With SIGKILL (the default) the process dies at once, with no graceful
shutdown: the container exits with code 137.

What a client sees: requests in flight on the victim end with a connection reset or an empty
response; new connections to its address fail (Docker removes the address, so "no route to host"
or a connect timeout when going by IP; the name stops resolving to it through Docker's DNS). A
load balancer in front sees L4 check failures and takes the replica out after its ``fall`` count.
Open connections are lost (the process is gone). Other signals are delivered to PID 1 as-is: a
PID 1 without a handler for SIGTERM/SIGINT/SIGHUP ignores them (the kernel protects a namespace's
init), so those may change nothing; the fault still reports the container it signalled.

Victims are chosen by the fault's seeded RNG from the running replicas sorted by name, so a seed
picks the same replicas every time. Revert starts the killed containers again (our stacks run
without a restart policy; with one, Docker may have restarted them already, which revert
tolerates).

This module also holds what every "N replicas of a service" kind shares (``ReplicaFaultSpec``,
``choose_replicas``, ``Signal``), used by ``stop``, ``restart``, ``pause``, ``crash_loop`` and
``process_kill``.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from harness.errors import EnvironmentFailure
from harness.faults.base import ContainerEvents, EffectRule, Fault, FaultSpec
from harness.faults.registry import register

Signal = Literal["SIGKILL", "SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2"]
"""Signals a scenario may send, by name."""


class ReplicaFaultSpec(FaultSpec):
    """Envelope of the faults acting on some replicas of one compose service.

    Fields:
        service: the compose service (checked against the compose file before the run).
        count: how many running replicas (>= 1), or
        percent: which share of the running replicas (1..100, rounded up, at least one).
            Neither given: one replica. Never more than are running.
    """

    victim_in_path: ClassVar[bool] = True

    service: str = Field(min_length=1, description="compose service whose replicas are affected")
    count: int | None = Field(default=None, ge=1, le=1000,
                              description="replicas affected (default 1 when percent is not given either)")
    percent: float | None = Field(default=None, gt=0, le=100,
                                  description="share of the running replicas, rounded up, at least one")

    @model_validator(mode="after")
    def _count_or_percent(self) -> "ReplicaFaultSpec":
        if self.count is not None and self.percent is not None:
            raise ValueError("give either count or percent, not both")
        return self

    def service_refs(self) -> list[str]:
        return [self.service]

    def victims_wanted(self, replicas: int) -> int:
        """How many of ``replicas`` running containers to affect (never more than there are)."""
        if self.percent is not None:
            return min(replicas, max(1, math.ceil(replicas * self.percent / 100)))
        return min(replicas, self.count or 1)


def choose_replicas(fault: Fault, spec: ReplicaFaultSpec) -> list[str]:
    """Pick the victims of ``fault``: ``victims_wanted`` of the service's running containers,
    sampled with the fault's seeded RNG from the names sorted, returned sorted.

    Raises:
        EnvironmentFailure: the service has no running container.
    """
    running = sorted(fault.ctx.stack.running_containers(spec.service))
    if not running:
        raise EnvironmentFailure(f"{spec.kind} {spec.name}: service {spec.service!r} has no running container")
    return sorted(fault.ctx.rng.sample(running, spec.victims_wanted(len(running))))


def container_state(fault: Fault, name: str) -> dict[str, Any]:
    """Docker's ``State`` of a container of this run, fresh from the engine (label-checked).

    Raises:
        EnvironmentFailure: not found, not labelled with this run's id, or the engine failed.
    """
    return fault.ctx.stack.container(name).attrs.get("State") or {}


class KillSpec(ReplicaFaultSpec):
    """Parameters: ``service``, ``count`` or ``percent`` (default one replica), and ``signal``
    (default SIGKILL)."""

    summary = ("Container crashed: replicas die by a signal (SIGKILL: no graceful shutdown) and stay down until revert; "
               "new connects to them time out or find no route (not refused).")
    seed_section = "001 What Happens When Servers Crash, 1. Anatomy of a Server Crash"

    effect_rules: ClassVar[tuple[EffectRule, ...]] = (ContainerEvents(("die",)),)

    kind: Literal["kill"] = "kill"
    signal: Signal = Field(default="SIGKILL", description="signal sent to each victim's PID 1 by the engine")


@register
class KillFault(Fault):
    """Kills the chosen replicas with ``signal``; revert starts them again."""

    spec_type = KillSpec
    spec: KillSpec

    def __init__(self, spec, ctx):
        super().__init__(spec, ctx)
        self._victims: list[str] = []

    def inject(self) -> list[str]:
        """Signal each victim; return their names.

        Raises:
            EnvironmentFailure: no running replica, or the engine refused the kill.
        """
        chosen = choose_replicas(self, self.spec)
        for name in chosen:
            self._victims.append(name)  # recorded before the kill, so a failed kill still reverts
            self.ctx.stack.kill(name, self.spec.signal)
        return chosen

    def revert(self) -> list[str]:
        """Start the victims that are not running; return those started ([] when none). A victim
        is forgotten once handled, so a revert that failed half-way can simply be called again."""
        started = []
        for name in list(self._victims):
            if self.ctx.stack.start(name):
                started.append(name)
            self._victims.remove(name)
        return started
