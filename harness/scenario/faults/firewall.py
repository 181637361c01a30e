"""The ``firewall`` fault's spec: what a scenario's ``faults:`` entry of this kind may say.

How the fault acts, and what a client sees, is :mod:`harness.faults.firewall`.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from harness.scenario.faults.effect_rules import EffectRule, Reported
from harness.scenario.faults.registry import register_fault_spec
from harness.scenario.faults.replica import ReplicaFaultSpec
from harness.scenario.faults.validators import validate_services


@register_fault_spec
class FirewallSpec(ReplicaFaultSpec):
    """Parameters: ``service`` and ``count`` or ``percent`` (which replicas get the firewall;
    default one, chosen by the seed), ``port`` (TCP port inside the container, 1..65535),
    ``action`` (``drop``: hang; ``reject``: refused), ``from_services`` (only these services'
    containers are blocked; default: every source but loopback) and ``new_connections_only``
    (open connections keep working)."""

    host_needs: ClassVar[tuple[str, ...]] = ("netns",)

    summary = ("Firewall blocking a port: packets to one TCP port of some replicas are dropped (connects and open "
               "connections hang until the client's timeout) or rejected (refused at once).")
    seed_section = "000 How Servers Fail, 3. What Actually Fails: Network Layer (Firewall blocking traffic) / 4. Scenario 2: Ping Works but Port Closed"

    effect_rules: ClassVar[tuple[EffectRule, ...]] = (Reported("matched_packets"),)
    victim_in_path: ClassVar[bool] = False  # the matched packets are traffic to the victims

    kind: Literal["firewall"] = "firewall"
    port: int = Field(ge=1, le=65_535, description="TCP port the service listens on inside its container")
    action: Literal["drop", "reject"] = Field(
        default="drop", description="drop: silently discard (clients hang); reject: TCP RST (connection refused)")
    from_services: list[str] | None = Field(
        default=None, min_length=1, max_length=50,
        description="block only packets from these services' containers (default: every non-loopback source)")
    new_connections_only: bool = Field(
        default=False, description="match only new connections (conntrack NEW): open connections keep working")

    @field_validator("from_services")
    @classmethod
    def _unique(cls, services: list[str] | None) -> list[str] | None:
        return None if services is None else validate_services(services)

    def service_refs(self) -> list[str]:
        return [self.service, *(self.from_services or [])]

__all__ = ["FirewallSpec"]
