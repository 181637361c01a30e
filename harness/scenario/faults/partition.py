"""The ``partition`` fault's spec: what a scenario's ``faults:`` entry of this kind may say.

How the fault acts, and what a client sees, is :mod:`harness.faults.partition`.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from harness.scenario.faults.base import FaultSpec
from harness.scenario.faults.effect_rules import EffectRule, Reported
from harness.scenario.faults.registry import register_fault_spec
from harness.scenario.faults.validators import validate_services

MAX_PORTS = 15
"""``-m multiport`` takes at most 15 ports per rule."""


@register_fault_spec
class PartitionSpec(FaultSpec):
    """Parameters: ``services_a`` and ``services_b`` (compose services, disjoint, each side at
    least one; every running container of each is partitioned) and optionally ``ports_b`` (TCP
    ports of side B: cut only those, for an edge through a proxy)."""

    host_needs: ClassVar[tuple[str, ...]] = ("netns",)

    summary = "Network partition / server unreachable: two groups of services lose each other (packets vanish, connects time out)."
    seed_section = "001 What Happens When Servers Crash, 1. Anatomy of a Server Crash: Network Partition; 000 How Servers Fail, 3. Network Layer: Server unreachable"

    effect_rules: ClassVar[tuple[EffectRule, ...]] = (Reported("matched_packets"),)

    kind: Literal["partition"] = "partition"
    services_a: list[str] = Field(min_length=1, max_length=50, description="one side: compose services (all their running containers)")
    services_b: list[str] = Field(min_length=1, max_length=50, description="the other side: compose services (all their running containers)")
    ports_b: list[int] = Field(
        default_factory=list, max_length=MAX_PORTS,
        description="only cut TCP traffic to these ports of side B (and the replies); empty: every packet both ways")

    @field_validator("services_a", "services_b")
    @classmethod
    def _unique(cls, services: list[str]) -> list[str]:
        return validate_services(services)

    @field_validator("ports_b")
    @classmethod
    def _ports(cls, ports: list[int]) -> list[int]:
        if any(not 1 <= p <= 65_535 for p in ports):
            raise ValueError("ports must be in 1..65535")
        if len(set(ports)) != len(ports):
            raise ValueError("ports must be unique")
        return ports

    @model_validator(mode="after")
    def _disjoint(self) -> "PartitionSpec":
        both = sorted(set(self.services_a) & set(self.services_b))
        if both:
            raise ValueError(f"a service cannot be on both sides of a partition: {', '.join(both)}")
        return self

    def service_refs(self) -> list[str]:
        return [*self.services_a, *self.services_b]

__all__ = ["MAX_PORTS", "PartitionSpec"]
