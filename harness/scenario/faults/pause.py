"""The ``pause`` fault's spec: what a scenario's ``faults:`` entry of this kind may say.

How the fault acts, and what a client sees, is :mod:`harness.faults.pause`.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from harness.scenario.faults.effect_rules import ContainerEvents, EffectRule
from harness.scenario.faults.registry import register_fault_spec
from harness.scenario.faults.replica import ReplicaFaultSpec


@register_fault_spec
class PauseSpec(ReplicaFaultSpec):
    """Parameters: ``service`` and ``count`` or ``percent`` (default one replica)."""

    summary = ("App not responding: replicas frozen (cgroup freezer); TCP connects still succeed (the kernel completes "
               "them), requests hang until the client's own timeout.")
    seed_section = "000 How Servers Fail, 4. Scenario 1: SSH Works but App Not Responding"

    effect_rules: ClassVar[tuple[EffectRule, ...]] = (ContainerEvents(("pause",)),)

    kind: Literal["pause"] = "pause"


__all__ = ["PauseSpec"]
