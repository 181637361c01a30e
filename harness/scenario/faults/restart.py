"""The ``restart`` fault's spec: what a scenario's ``faults:`` entry of this kind may say.

How the fault acts, and what a client sees, is :mod:`harness.faults.restart`.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from harness.scenario.faults.effect_rules import ContainerEvents, EffectRule
from harness.scenario.faults.registry import register_fault_spec
from harness.scenario.faults.replica import ReplicaFaultSpec


@register_fault_spec
class RestartSpec(ReplicaFaultSpec):
    """Parameters: ``service``, ``count`` or ``percent`` (default one replica), ``timeout_s`` (grace
    before SIGKILL, ``docker restart -t``) and ``ready_timeout_s`` (how long a restarted victim
    may take to be ready before the next one is restarted)."""

    summary = "Restart / rolling deployment: replicas are restarted one at a time, each back before the next."
    seed_section = "003 A critical production server goes down, 4. Immediate Mitigation: Restart Services"

    effect_rules: ClassVar[tuple[EffectRule, ...]] = (ContainerEvents(("die", "restart")),)

    kind: Literal["restart"] = "restart"
    timeout_s: int = Field(default=10, ge=0, le=300,
                           description="grace period between SIGTERM and SIGKILL, s (docker restart -t)")
    ready_timeout_s: float = Field(default=60, gt=0, le=600,
                                   description="max wait for a restarted victim to be ready before the next, s")


__all__ = ["RestartSpec"]
