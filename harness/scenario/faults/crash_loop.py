"""The ``crash_loop`` fault's spec: what a scenario's ``faults:`` entry of this kind may say.

How the fault acts, and what a client sees, is :mod:`harness.faults.crash_loop`.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from harness.scenario.faults.effect_rules import ContainerEvents, EffectRule
from harness.scenario.faults.registry import register_fault_spec
from harness.scenario.faults.replica import ReplicaFaultSpec, Signal


@register_fault_spec
class CrashLoopSpec(ReplicaFaultSpec):
    """Parameters: ``service``, ``count`` or ``percent`` (default one replica), ``signal``,
    ``restart_after_s`` (emulated restart policy's first delay), ``backoff_factor`` (its growth)
    and ``crash_after_s`` (how long a restarted victim lives)."""

    summary = "Crash loop (CrashLoopBackOff): replicas are killed again each time they are restarted."
    seed_section = "000 How Servers Fail, 3. What Actually Fails: Cluster Layer (Pod CrashLoopBackOff)"

    effect_rules: ClassVar[tuple[EffectRule, ...]] = (ContainerEvents(("die",)),)

    kind: Literal["crash_loop"] = "crash_loop"
    signal: Signal = Field(default="SIGKILL", description="signal of every crash (docker kill --signal)")
    restart_after_s: float = Field(default=2.0, ge=0.1, le=300,
                                   description="seconds from a crash until the emulated orchestrator starts the container")
    backoff_factor: float = Field(default=1.0, ge=1, le=4,
                                  description="each further restart delay is multiplied by this (1: constant; "
                                              "kubelet: 2), capped at 300 s")
    crash_after_s: float = Field(default=0.5, ge=0, le=300,
                                 description="seconds a victim runs after it comes back before it crashes again")


__all__ = ["CrashLoopSpec"]
