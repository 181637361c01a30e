"""Shared mechanics of the faults that are one Toxiproxy toxic per stream on one proxy.

A kind subclasses :class:`ToxicFault`, sets ``toxic_type`` and implements ``attributes()`` (the
toxic's attributes in Toxiproxy's own units). Toxics are named ``harness-<fault>-<stream>``;
inject adds them (and drops open connections when ``reset_connections`` is set); revert removes
them and ignores any that are already gone.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from harness.faults.base import Fault
from harness.scenario.faults import NetworkFaultSpec
from harness.toxiproxy.client import ToxicConfig


def toxic_streams(stream: str) -> list[Literal["upstream", "downstream"]]:
    """Expand a scenario stream (``both`` included) into Toxiproxy streams."""
    return ["upstream", "downstream"] if stream == "both" else [stream]  # type: ignore[list-item]


class ToxicFault(Fault):
    """One toxic of ``toxic_type`` per stream of the spec's proxy."""

    toxic_type: ClassVar[str]
    spec: NetworkFaultSpec

    def attributes(self) -> dict[str, int | float]:
        """The toxic's attributes, in Toxiproxy's units."""
        raise NotImplementedError

    def streams(self) -> list[Literal["upstream", "downstream"]]:
        """Toxiproxy streams the toxic goes on."""
        return toxic_streams(self.spec.stream)

    def toxics(self) -> list[ToxicConfig]:
        """The toxics this fault adds."""
        return [
            ToxicConfig(
                name=f"harness-{self.spec.name}-{stream}",
                type=self.toxic_type,
                stream=stream,
                toxicity=self.spec.toxicity,
                attributes=self.attributes(),
            )
            for stream in self.streams()
        ]

    def inject(self) -> list[str]:
        touched = []
        for toxic in self.toxics():
            self.ctx.toxiproxy.add_toxic(self.spec.proxy, toxic)
            touched.append(f"{self.spec.proxy}/{toxic.name}")
        if self.spec.reset_connections:
            self.ctx.toxiproxy.drop_connections(self.spec.proxy)
        return touched

    def revert(self) -> list[str]:
        proxy = self.spec.proxy
        return [f"{proxy}/{t.name}" for t in self.toxics() if self.ctx.toxiproxy.remove_toxic(proxy, t.name)]
