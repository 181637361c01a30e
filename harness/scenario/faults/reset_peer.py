"""The ``reset_peer`` fault's spec: what a scenario's ``faults:`` entry of this kind may say.

How the fault acts, and what a client sees, is :mod:`harness.faults.reset_peer`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.scenario.faults.base import NetworkFaultSpec
from harness.scenario.faults.registry import register_fault_spec


@register_fault_spec
class ResetPeerSpec(NetworkFaultSpec):
    """Parameters: ``timeout_ms`` (0..600000): delay between a connection's first data and its
    reset; 0 resets at once."""

    summary = ("Connection reset by peer: connections opened after inject get a TCP RST on their first data; pooled "
               "ones already open get a plain close (empty read) instead, unless reset_connections.")
    seed_section = "002 Production Failures, 1. No Retries (a network glitch fails the call)"

    kind: Literal["reset_peer"] = "reset_peer"
    timeout_ms: int = Field(default=0, ge=0, le=600_000,
                            description="delay from a connection's first data to the reset, ms; 0 = at once")


__all__ = ["ResetPeerSpec"]
