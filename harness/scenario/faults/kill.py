"""The ``kill`` fault's spec: what a scenario's ``faults:`` entry of this kind may say.

How the fault acts, and what a client sees, is :mod:`harness.faults.kill`.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from harness.scenario.faults.effect_rules import ContainerEvents, EffectRule
from harness.scenario.faults.registry import register_fault_spec
from harness.scenario.faults.replica import ReplicaFaultSpec, Signal


@register_fault_spec
class KillSpec(ReplicaFaultSpec):
    """Parameters: ``service``, ``count`` or ``percent`` (default one replica), and ``signal``
    (default SIGKILL)."""

    summary = ("Container crashed: replicas die by a signal (SIGKILL: no graceful shutdown) and stay down until revert; "
               "new connects to them time out or find no route (not refused).")
    seed_section = "001 What Happens When Servers Crash, 1. Anatomy of a Server Crash"

    effect_rules: ClassVar[tuple[EffectRule, ...]] = (ContainerEvents(("die",)),)

    kind: Literal["kill"] = "kill"
    signal: Signal = Field(default="SIGKILL", description="signal sent to each victim's PID 1 by the engine")


__all__ = ["KillSpec"]
