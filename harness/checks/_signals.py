"""Signals of a pattern seen from outside the services: how much traffic reached the victims of
a fault, and how much crossed a proxy. Checks use them where the services export no metric of
their own (a user's stack need not): "traffic moved from the frozen replica to the other one",
"calls to the dependency stopped while the breaker was open".

Both read counters journalled during the run (a container's network bytes, from Docker stats;
the bytes on a proxy's open connections, from Toxiproxy's sockets) and return bytes per second
over an interval, or None when the counters were not read there. pandas is loaded lazily (see
:mod:`harness.checks._evidence_tools`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.analysis.evidence import Evidence


def received_bytes_per_s(evidence: Evidence, containers: list[str], start_s: float, end_s: float) -> float | None:
    """Bytes per second the ``containers`` received in ``[start_s, end_s)``, summed over them
    (:func:`harness.analysis.containers.counter_rate` of ``rx_bytes``: a container not running
    then received 0; None for an interval under two seconds or containers never sampled)."""
    from harness.analysis.containers import counter_rate

    return counter_rate(evidence.containers, containers, "rx_bytes", start_s, end_s)


def proxy_bytes_per_s(evidence: Evidence, proxy: str, start_s: float, end_s: float) -> float | None:
    """Bytes per second that crossed ``proxy``'s open connections (both directions) in
    ``[start_s, end_s)`` (readings pro-rated by overlap); None when Toxiproxy's sockets were not
    read during the run."""
    traffic = evidence.traffic
    if traffic is None or not traffic.available("sockets") or end_s <= start_s:
        return None
    return traffic.crossing(proxy, start_s, end_s, source="sockets").bytes / (end_s - start_s)
