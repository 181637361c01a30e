"""What every "N replicas of a service" spec shares (``kill``, ``stop``, ``restart``, ``pause``,
``crash_loop``, ``process_kill``, ``firewall`` and the resource kinds): :class:`ReplicaFaultSpec`
and the :data:`Signal` names. Not a spec module: the spec registry skips it."""

from __future__ import annotations

import math
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from harness.scenario.faults.base import FaultSpec

Signal = Literal["SIGKILL", "SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2"]
"""Signals a scenario may send, by name."""


class ReplicaFaultSpec(FaultSpec):
    """Envelope of the faults acting on some replicas of one compose service.

    Fields:
        service: the compose service (checked against the compose file before the run).
        count: how many running replicas (>= 1), or
        percent: which share of the running replicas (1..100, rounded up, at least one).
            Neither given: one replica. Never more than are running.

    Raises (validation): both ``count`` and ``percent`` given.
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
        """``[service]``."""
        return [self.service]

    def victims_wanted(self, replicas: int) -> int:
        """How many of ``replicas`` running containers to affect (never more than there are)."""
        if self.percent is not None:
            return min(replicas, max(1, math.ceil(replicas * self.percent / 100)))
        return min(replicas, self.count or 1)


__all__ = ["ReplicaFaultSpec", "Signal"]
