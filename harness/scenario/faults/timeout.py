"""The ``timeout`` fault's spec: what a scenario's ``faults:`` entry of this kind may say.

How the fault acts, and what a client sees, is :mod:`harness.faults.timeout`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.scenario.faults.base import NetworkFaultSpec
from harness.scenario.faults.registry import register_fault_spec


@register_fault_spec
class TimeoutSpec(NetworkFaultSpec):
    """Parameters: ``timeout_ms`` (0..600000): idle time after which the connection is closed;
    0 = never close, drop data until revert."""

    summary = ("Answers swallowed: data is dropped, the connection closed after timeout_ms idle (0: never). A server "
               "that closes after answering (HTTP/1.0, Connection: close) gives an immediate EMPTY reply, not a hang: "
               "use blackhole.")
    seed_section = "002 Production Failures, 2. No Timeouts"

    kind: Literal["timeout"] = "timeout"
    timeout_ms: int = Field(ge=0, le=600_000,
                            description="close the connection after this long without data, ms; 0 = never")


__all__ = ["TimeoutSpec"]
