"""How analysis proves that a fault acted: the rules a fault kind declares in
:attr:`harness.scenario.faults.FaultSpec.effect_rules` (any one of them proves it), judged by
:mod:`harness.analysis.fault_effect` on what the run journalled.

A leaf module (it imports nothing of the harness), so that specs, analysis and checks can read
the rules without importing the fault implementations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class ProxyTraffic:
    """Effect rule: the fault acted when traffic crossed its proxy *while it was injected*:
    a connection accepted by the proxy (Toxiproxy's own "Accepted client" log line) or bytes
    received on one of its connections (the TCP counters of Toxiproxy's sockets) inside the
    fault window. A toxic that no byte reached changed nothing."""

    kind: ClassVar[str] = "proxy_traffic"


@dataclass(frozen=True)
class ProxyPathLive:
    """Effect rule for faults that stop all traffic through a proxy (``down``): the fault acted
    when the proxy carried traffic in the ``before_s`` seconds before the inject (the path was
    live, and the fault cut it). Nothing can cross a disabled proxy, so its own window cannot
    show it."""

    kind: ClassVar[str] = "proxy_path"
    before_s: float = 10.0


@dataclass(frozen=True)
class ContainerEvents:
    """Effect rule: the fault acted when Docker reported one of ``actions`` (``die``, ``oom``,
    ``pause``, ``restart``, ``health_status: unhealthy``...) for a container it touched, from
    the start of the inject call to the end of the fault window."""

    kind: ClassVar[str] = "container_events"
    actions: tuple[str, ...] = ("die",)


@dataclass(frozen=True)
class Reported:
    """Effect rule: the fault acted when its own measurement, journalled with its revert
    (``fault.revert`` field ``effect``, from :meth:`Fault.effect_counters`), has ``key`` at
    least ``at_least`` (e.g. ``matched_packets``: packets an iptables rule of the fault
    matched; ``throttled_periods``: CFS periods in which a CPU quota held the app back)."""

    kind: ClassVar[str] = "reported"
    key: str = "matched_packets"
    at_least: float = 1.0


EffectRule = ProxyTraffic | ProxyPathLive | ContainerEvents | Reported
"""One way analysis can prove that a fault acted (see :attr:`FaultSpec.effect_rules`)."""

__all__ = ["ContainerEvents", "EffectRule", "ProxyPathLive", "ProxyTraffic", "Reported"]
