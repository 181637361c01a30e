"""The ``node_loss`` fault's spec: what a scenario's ``faults:`` entry of this kind may say.

How the fault acts, and what a client sees, is :mod:`harness.faults.node_loss`.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from harness.scenario.faults.base import FaultSpec
from harness.scenario.faults.effect_rules import EffectRule, Reported
from harness.scenario.faults.registry import register_fault_spec
from harness.scenario.faults.validators import validate_services


@register_fault_spec
class NodeLossSpec(FaultSpec):
    """Parameters: ``services``, the compose services that share the lost "node" (all their
    running containers are cut off)."""

    host_needs: ClassVar[tuple[str, ...]] = ("netns",)

    summary = ("Node NotReady: every container of a group of services drops all packets in and out at once "
               "(peers' connects and open requests time out; Docker still says running).")
    seed_section = "000 How Servers Fail, 4. Scenario 4: Kubernetes Node NotReady"

    effect_rules: ClassVar[tuple[EffectRule, ...]] = (Reported("matched_packets"),)

    kind: Literal["node_loss"] = "node_loss"
    services: list[str] = Field(min_length=1, max_length=50,
                                description="compose services on the lost node; every running container of each")

    @field_validator("services")
    @classmethod
    def _unique(cls, services: list[str]) -> list[str]:
        return validate_services(services)

    def service_refs(self) -> list[str]:
        return list(self.services)


__all__ = ["NodeLossSpec"]
