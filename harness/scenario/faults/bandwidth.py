"""The ``bandwidth`` fault's spec: what a scenario's ``faults:`` entry of this kind may say.

How the fault acts, and what a client sees, is :mod:`harness.faults.bandwidth`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.scenario.faults.base import NetworkFaultSpec
from harness.scenario.faults.registry import register_fault_spec


@register_fault_spec
class BandwidthSpec(NetworkFaultSpec):
    """Parameters: ``rate_kbps`` (0..10000000 KB/s, 1 KB = 1000 bytes; 0 stalls the stream)."""

    summary = ("Slow network / congested link: each connection's throughput through the proxy is capped at "
               "rate_kbps (0 stalls it); small answers mostly just arrive later.")
    seed_section = "000 How Servers Fail, 4. Scenario 3: High Latency"

    kind: Literal["bandwidth"] = "bandwidth"
    rate_kbps: int = Field(ge=0, le=10_000_000,
                           description="throughput cap per connection, KB/s (1 KB = 1000 bytes); 0 = stall")


__all__ = ["BandwidthSpec"]
