"""``latency``: add delay to every chunk of data through a Toxiproxy proxy.

Toxiproxy's latency toxic delays each chunk by ``latency`` ms plus a uniform ``jitter`` of up to
+-``jitter`` ms. It applies to connections that are already open as well as new ones.

What the client sees: data arrives late (on ``downstream``, the default: the answers); the TCP
connect completes at once (Toxiproxy's listener accepts it before any toxic acts), so a connect
timeout never fires, only read or total timeouts do. Effect evidence: traffic crossed the proxy
while the toxic was there (``ProxyTraffic``).
"""

from __future__ import annotations

from harness.faults.registry import register
from harness.faults.toxic_fault import ToxicFault
from harness.scenario.faults.latency import LatencySpec


@register
class LatencyFault(ToxicFault):
    """Toxiproxy ``latency`` toxic: attributes ``latency`` and ``jitter`` in ms."""

    spec_type = LatencySpec
    toxic_type = "latency"
    spec: LatencySpec

    def attributes(self) -> dict[str, int | float]:
        return {"latency": self.spec.latency_ms, "jitter": self.spec.jitter_ms}
