"""``kill``: send a signal to ``count`` (or ``percent``) of a compose service's running replicas.

Victims are chosen by the fault's seeded RNG from the replicas sorted by name, so a seed picks
the same replicas every time. Revert starts the killed containers again (our stacks run without a
restart policy; with one, Docker may have restarted them already, which revert tolerates).
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from harness.faults.base import Fault, FaultSpec
from harness.faults.registry import register

Signal = Literal["SIGKILL", "SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2"]


class KillSpec(FaultSpec):
    """Parameters: ``service`` (compose service name), ``signal`` (default SIGKILL), and either
    ``count`` (>= 1 replicas) or ``percent`` (1..100, rounded up); default one replica."""

    summary = "Process crashed: replicas of a service die by a signal (SIGKILL: no graceful shutdown)."
    seed_section = "001 What Happens When Servers Crash, 1. Anatomy of a Server Crash"

    kind: Literal["kill"] = "kill"
    service: str = Field(min_length=1)
    signal: Signal = "SIGKILL"
    count: int | None = Field(default=None, ge=1, le=1000)
    percent: float | None = Field(default=None, gt=0, le=100)

    @model_validator(mode="after")
    def _count_or_percent(self) -> "KillSpec":
        if self.count is not None and self.percent is not None:
            raise ValueError("give either count or percent, not both")
        return self

    def service_refs(self) -> list[str]:
        return [self.service]

    def victims_wanted(self, replicas: int) -> int:
        """How many of ``replicas`` running containers to kill (never more than there are)."""
        if self.percent is not None:
            return min(replicas, max(1, math.ceil(replicas * self.percent / 100)))
        return min(replicas, self.count or 1)


@register
class KillFault(Fault):
    """Kills the chosen replicas with ``signal``; revert starts them again."""

    spec_type = KillSpec
    spec: KillSpec

    def __init__(self, spec, ctx):
        super().__init__(spec, ctx)
        self._victims: list[str] = []

    def inject(self) -> list[str]:
        running = sorted(self.ctx.stack.running_containers(self.spec.service))
        if not running:
            from harness.errors import EnvironmentFailure

            raise EnvironmentFailure(f"kill {self.spec.name}: service {self.spec.service!r} has no running container")
        chosen = sorted(self.ctx.rng.sample(running, self.spec.victims_wanted(len(running))))
        for name in chosen:
            self._victims.append(name)  # recorded before the kill, so a failed kill still reverts
            self.ctx.stack.kill(name, self.spec.signal)
        return chosen

    def revert(self) -> list[str]:
        restarted = [name for name in self._victims if self.ctx.stack.start(name)]
        self._victims = []
        return restarted
