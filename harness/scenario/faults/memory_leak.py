"""The ``memory_leak`` fault's spec: what a scenario's ``faults:`` entry of this kind may say.

How the fault acts, and what a client sees, is :mod:`harness.faults.memory_leak`.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from harness.scenario.faults.effect_rules import ContainerEvents, EffectRule, Reported
from harness.scenario.faults.registry import register_fault_spec
from harness.scenario.faults.replica import ReplicaFaultSpec


@register_fault_spec
class MemoryLeakSpec(ReplicaFaultSpec):
    """Parameters: ``service``, ``count`` or ``percent`` (default one replica), ``rate_mib_s``
    (growth, 0.1..1024 MiB/s) and ``limit_mib`` (where growth stops, 1..65536 MiB)."""

    host_needs: ClassVar[tuple[str, ...]] = ("root", "local_engine", "cgroup_v1")

    summary = ("Memory leak: a replica's memory use grows at rate_mib_s up to limit_mib; the app notices only if that "
               "reaches the container's memory limit (then an OOM kill).")
    seed_section = "000 How Servers Fail, 3. What Actually Fails: Application Layer: Memory leak"

    effect_rules: ClassVar[tuple[EffectRule, ...]] = (ContainerEvents(("oom",)), Reported("leaked_mib", 1.0))

    kind: Literal["memory_leak"] = "memory_leak"
    rate_mib_s: float = Field(default=10, ge=0.1, le=1024, description="memory added per second, MiB/s")
    limit_mib: float = Field(default=256, ge=1, le=65_536,
                             description="the leak stops growing once it holds this much, MiB")


__all__ = ["MemoryLeakSpec"]
