"""What a scenario's ``faults:`` entries may say: the envelope every fault shares
(:class:`FaultSpec`, :class:`NetworkFaultSpec`, :class:`ReplicaFaultSpec`), the effect rules by
which analysis proves a fault acted, and one spec module per fault kind.

Nothing here imports engine code: the injectors live in :mod:`harness.faults`, one module per
kind of the same name, and import their spec from here.
"""

from harness.scenario.faults.base import FaultSpec, NetworkFaultSpec, Stream
from harness.scenario.faults.effect_rules import ContainerEvents, EffectRule, ProxyPathLive, ProxyTraffic, Reported
from harness.scenario.faults.registry import fault_kinds, fault_spec_types, register_fault_spec
from harness.scenario.faults.replica import ReplicaFaultSpec, Signal

__all__ = [
    "ContainerEvents", "EffectRule", "FaultSpec", "NetworkFaultSpec", "ProxyPathLive", "ProxyTraffic", "Reported",
    "ReplicaFaultSpec", "Signal", "Stream", "fault_kinds", "fault_spec_types", "register_fault_spec",
]
