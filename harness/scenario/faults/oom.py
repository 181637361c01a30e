"""The ``oom`` fault's spec: what a scenario's ``faults:`` entry of this kind may say.

How the fault acts, and what a client sees, is :mod:`harness.faults.oom`.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from harness.scenario.faults.effect_rules import ContainerEvents, EffectRule
from harness.scenario.faults.registry import register_fault_spec
from harness.scenario.faults.replica import ReplicaFaultSpec


@register_fault_spec
class OomSpec(ReplicaFaultSpec):
    """Parameters: ``service``, ``count`` or ``percent`` (default one replica), ``limit_mib`` (the
    memory limit imposed for the fault, 16..65536 MiB) and ``kill_timeout_s`` (how long inject
    waits for the OOM kill, 1..300 s)."""

    host_needs: ClassVar[tuple[str, ...]] = ("root", "local_engine", "cgroup_v1")

    summary = "RAM exhausted: a replica's memory fills up until the kernel's OOM killer kills it (OOMKilled)."
    seed_section = "001 What Happens When Servers Crash, 1. Anatomy of a Server Crash: OOM (Out of Memory)"

    effect_rules: ClassVar[tuple[EffectRule, ...]] = (ContainerEvents(("oom",)),)

    kind: Literal["oom"] = "oom"
    limit_mib: int = Field(default=128, ge=16, le=65_536,
                           description="memory limit imposed on the container's memory cgroup when it has none or a "
                                       "larger one, MiB (never below current usage + 8 MiB); the helper fills it")
    kill_timeout_s: float = Field(default=20, ge=1, le=300,
                                  description="how long inject waits for the engine to report the OOM kill, s")


__all__ = ["OomSpec"]
