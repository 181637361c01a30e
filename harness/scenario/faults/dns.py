"""The ``dns`` fault's spec: what a scenario's ``faults:`` entry of this kind may say.

How the fault acts, and what a client sees, is :mod:`harness.faults.dns`.
"""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import Field, field_validator

from harness.scenario.faults.base import FaultSpec
from harness.scenario.faults.effect_rules import EffectRule, Reported
from harness.scenario.faults.registry import register_fault_spec
from harness.scenario.faults.validators import validate_services

_LABEL = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")


def dns_wire(hostname: str) -> bytes:
    """``hostname`` in DNS wire format without the root label: each label prefixed by its length,
    e.g. ``"a.bc"`` -> ``b"\\x01a\\x02bc"``. A trailing dot is ignored.

    Raises:
        ValueError: an empty label, a label over 63 bytes or with characters outside
            ``A-Za-z0-9_-``, or a name over 253 characters.
    """
    name = hostname[:-1] if hostname.endswith(".") else hostname
    if not name or len(name) > 253:
        raise ValueError("hostname must have 1..253 characters")
    out = b""
    for label in name.split("."):
        if not _LABEL.match(label):
            raise ValueError(f"invalid DNS label {label!r} (1..63 of A-Za-z0-9_-, not starting or ending with -)")
        out += bytes([len(label)]) + label.encode("ascii")
    return out


@register_fault_spec
class DnsSpec(FaultSpec):
    """Parameters: ``hostname`` (the name that stops resolving: a compose service name or any DNS
    name), ``for_services`` (the clients: every running container of each), and ``mode``
    (``timeout``: no answer, ~10 s then failure; ``error``: failure at once)."""

    host_needs: ClassVar[tuple[str, ...]] = ("netns",)

    summary = ("DNS resolution failure: one name stops resolving for some clients (timeout or immediate EAI_AGAIN); "
               "only new resolutions fail: pooled connections and cached answers never notice.")
    seed_section = "000 How Servers Fail, 3. What Actually Fails: Network Layer (DNS resolution failure)"

    effect_rules: ClassVar[tuple[EffectRule, ...]] = (Reported("matched_packets"),)

    kind: Literal["dns"] = "dns"
    hostname: str = Field(min_length=1, max_length=254,
                          description="name whose resolution fails (a compose service name, alias or any DNS name)")
    for_services: list[str] = Field(min_length=1, max_length=50,
                                    description="client services for which the name stops resolving")
    mode: Literal["timeout", "error"] = Field(
        default="timeout",
        description="timeout: answers are dropped (resolver waits, glibc ~10 s, then fails); error: queries fail at once")

    @field_validator("hostname")
    @classmethod
    def _hostname(cls, hostname: str) -> str:
        dns_wire(hostname)  # raises ValueError with the reason
        return hostname

    @field_validator("for_services")
    @classmethod
    def _unique(cls, services: list[str]) -> list[str]:
        return validate_services(services)

    def service_refs(self) -> list[str]:
        # hostname is not required to be a compose service (it may be an alias or external name)
        return list(self.for_services)

__all__ = ["DnsSpec", "dns_wire"]
