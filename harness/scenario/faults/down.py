"""The ``down`` fault's spec: what a scenario's ``faults:`` entry of this kind may say.

How the fault acts, and what a client sees, is :mod:`harness.faults.down`.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from harness.scenario.faults.base import FaultSpec
from harness.scenario.faults.effect_rules import EffectRule, ProxyPathLive
from harness.scenario.faults.registry import register_fault_spec


@register_fault_spec
class DownSpec(FaultSpec):
    """Parameters: ``proxy``: name of a proxy declared under ``proxies:``. No ``stream`` or
    ``toxicity``: the whole proxy is down for every connection."""

    summary = ("Port closed in front of a dependency: its proxy stops listening; connects are refused at once "
               "(ECONNREFUSED), open ones closed. The dependency keeps running (a dead host would time out).")
    seed_section = "000 How Servers Fail, 4. Scenario 2: Ping Works but Port Closed"

    effect_rules: ClassVar[tuple[EffectRule, ...]] = (ProxyPathLive(),)

    kind: Literal["down"] = "down"
    proxy: str = Field(min_length=1, description="proxy to disable (declared under proxies:)")

    def proxy_refs(self) -> list[str]:
        return [self.proxy]


__all__ = ["DownSpec"]
