"""The ``stop`` fault's spec: what a scenario's ``faults:`` entry of this kind may say.

How the fault acts, and what a client sees, is :mod:`harness.faults.stop`.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from harness.scenario.faults.effect_rules import ContainerEvents, EffectRule
from harness.scenario.faults.registry import register_fault_spec
from harness.scenario.faults.replica import ReplicaFaultSpec


@register_fault_spec
class StopSpec(ReplicaFaultSpec):
    """Parameters: ``service``, ``count`` or ``percent`` (default one replica) and ``timeout_s``,
    the grace period between SIGTERM and SIGKILL (``docker stop -t``)."""

    summary = "Service stopped: replicas shut down (SIGTERM, then SIGKILL after a grace period) and stay down."
    seed_section = "000 How Servers Fail, 4. Scenario 1: SSH Works but App Not Responding (Possible Causes: Service stopped)"

    effect_rules: ClassVar[tuple[EffectRule, ...]] = (ContainerEvents(("die",)),)

    kind: Literal["stop"] = "stop"
    timeout_s: int = Field(default=10, ge=0, le=300,
                           description="grace period between SIGTERM and SIGKILL, s (docker stop -t)")


__all__ = ["StopSpec"]
