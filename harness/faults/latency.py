"""``latency``: add delay to every chunk of data through a Toxiproxy proxy.

Toxiproxy's latency toxic delays each chunk by ``latency`` ms plus a uniform ``jitter`` of up to
+-``jitter`` ms. It applies to connections that are already open as well as new ones.

What the client sees: data arrives late (on ``downstream``, the default: the answers); the TCP
connect completes at once (Toxiproxy's listener accepts it before any toxic acts), so a connect
timeout never fires, only read or total timeouts do. Effect evidence: traffic crossed the proxy
while the toxic was there (``ProxyTraffic``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.faults.base import NetworkFaultSpec
from harness.faults.registry import register
from harness.faults.toxic_fault import ToxicFault


class LatencySpec(NetworkFaultSpec):
    """Parameters: ``latency_ms`` (0..600000) and ``jitter_ms`` (0..600000, <= latency is usual)."""

    summary = ("Slow dependency: every chunk through the proxy is delayed by latency_ms (answers, by default); the "
               "TCP connect itself is not delayed, so connect timeouts never fire.")
    seed_section = "000 How Servers Fail, 4. Scenario 3: High Latency"

    kind: Literal["latency"] = "latency"
    latency_ms: int = Field(ge=0, le=600_000, description="added delay per chunk, ms")
    jitter_ms: int = Field(default=0, ge=0, le=600_000, description="uniform +- jitter, ms")


@register
class LatencyFault(ToxicFault):
    """Toxiproxy ``latency`` toxic: attributes ``latency`` and ``jitter`` in ms."""

    spec_type = LatencySpec
    toxic_type = "latency"
    spec: LatencySpec

    def attributes(self) -> dict[str, int | float]:
        return {"latency": self.spec.latency_ms, "jitter": self.spec.jitter_ms}
