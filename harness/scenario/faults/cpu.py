"""The ``cpu`` fault's spec: what a scenario's ``faults:`` entry of this kind may say.

How the fault acts, and what a client sees, is :mod:`harness.faults.cpu`.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from harness.scenario.faults.effect_rules import EffectRule, Reported
from harness.scenario.faults.registry import register_fault_spec
from harness.scenario.faults.replica import ReplicaFaultSpec

MIN_QUOTA_US = 1000
"""The kernel's smallest CFS quota (1 ms)."""


MIN_HELPER_CPU_S = 0.1
"""``helper_cpu_s`` that proves the load ran: one full 100 ms duty-cycle period of a core."""


@register_fault_spec
class CpuSpec(ReplicaFaultSpec):
    """Parameters: ``service``, ``count`` or ``percent`` (default one replica), ``mode`` (``load``
    or ``throttle``), ``cores`` (1..64) and ``cpu_percent`` (0 < x <= 100, per core), and for
    ``throttle`` ``period_us`` (the CFS period, 1000..1000000 us)."""

    host_needs: ClassVar[tuple[str, ...]] = ("root", "local_engine", "cgroup_v1")

    summary = ("CPU hog / CPU starvation: busy helpers in a replica's cgroup (load: slows the app only under its "
               "CPU limit or on a full host) or a CFS quota throttling it (throttle).")
    seed_section = "000 How Servers Fail, 3. What Actually Fails: Infrastructure Layer: CPU 100%"

    effect_rules: ClassVar[tuple[EffectRule, ...]] = (
        Reported("throttled_periods"), Reported("helper_cpu_s", MIN_HELPER_CPU_S))

    kind: Literal["cpu"] = "cpu"
    mode: Literal["load", "throttle"] = Field(
        default="load", description="load: busy helpers in the container's cgroup; throttle: a CFS quota")
    cores: int = Field(default=1, ge=1, le=64,
                       description="load: busy helper processes (one core each); throttle: cores the quota allows")
    cpu_percent: float = Field(default=100, gt=0, le=100,
                               description="load: busy share of each helper's core; throttle: share of each core "
                                           "allowed, percent")
    period_us: int = Field(default=100_000, ge=1000, le=1_000_000,
                           description="throttle: CFS period the quota is set against, us")

    def quota_us(self) -> int:
        """The throttle quota: ``cores`` x ``cpu_percent`` % of ``period_us`` (at least 1000 us)."""
        return max(MIN_QUOTA_US, round(self.period_us * self.cores * self.cpu_percent / 100))


__all__ = ["CpuSpec", "MIN_HELPER_CPU_S", "MIN_QUOTA_US"]
