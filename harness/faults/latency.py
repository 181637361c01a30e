"""``latency``: add delay to every chunk of data through a Toxiproxy proxy.

Toxiproxy's latency toxic delays each chunk by ``latency`` ms plus a uniform ``jitter`` of up to
+-``jitter`` ms. It applies to connections that are already open as well as new ones.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.faults.base import Fault, NetworkFaultSpec
from harness.faults.registry import register
from harness.toxiproxy.client import ToxicConfig


class LatencySpec(NetworkFaultSpec):
    """Parameters: ``latency_ms`` (0..600000) and ``jitter_ms`` (0..600000, <= latency is usual)."""

    kind: Literal["latency"] = "latency"
    latency_ms: int = Field(ge=0, le=600_000)
    jitter_ms: int = Field(default=0, ge=0, le=600_000)


def toxic_streams(stream: str) -> list[Literal["upstream", "downstream"]]:
    """Expand a scenario stream (``both`` included) into Toxiproxy streams."""
    return ["upstream", "downstream"] if stream == "both" else [stream]  # type: ignore[list-item]


@register
class LatencyFault(Fault):
    """Adds one latency toxic per stream, named ``harness-<fault name>-<stream>``."""

    spec_type = LatencySpec
    spec: LatencySpec

    def _toxics(self) -> list[ToxicConfig]:
        return [
            ToxicConfig(
                name=f"harness-{self.spec.name}-{stream}",
                type="latency",
                stream=stream,
                toxicity=self.spec.toxicity,
                attributes={"latency": self.spec.latency_ms, "jitter": self.spec.jitter_ms},
            )
            for stream in toxic_streams(self.spec.stream)
        ]

    def inject(self) -> list[str]:
        touched = []
        for toxic in self._toxics():
            self.ctx.toxiproxy.add_toxic(self.spec.proxy, toxic)
            touched.append(f"{self.spec.proxy}/{toxic.name}")
        return touched

    def revert(self) -> list[str]:
        return [
            f"{self.spec.proxy}/{t.name}" for t in self._toxics() if self.ctx.toxiproxy.remove_toxic(self.spec.proxy, t.name)
        ]
