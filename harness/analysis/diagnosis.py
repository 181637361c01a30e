"""The seeds' diagnosis map, applied to a window: what a client's symptoms say about the server.

From seed 000 ("How Servers Fail", 5. Step-by-step troubleshooting) and its scenarios:

- mostly ``connection_refused`` -> "cannot connect: network or service down";
- mostly ``timeout`` -> "connects but no answer: service hung";
- mostly ``connection_reset`` -> "connection dropped: service crashed or reset connections";
- mostly ``dns`` -> "name does not resolve: DNS failure";
- mostly ``http_429`` -> "rejected: rate limiting";
- mostly fast ``http_503`` -> "refused fast: load shedding, or a dependency is down";
- mostly ``http_5xx`` -> "server errors: the service or a dependency fails";
- no errors to speak of but p95 over twice the baseline's -> "slow", and why, by the evidence
  seen in the window: a fault that acted on a proxy on the path is a slow dependency (not a
  resource bottleneck); a service at :data:`CPU_BUSY_PCT` or more of a core is a CPU
  bottleneck; otherwise the cause was not seen, and the line says so.

"Mostly" is the largest error class when errors are at least 1 % of requests. A diagnosis made
while a fault acted names the fault (the symptom is then no mystery).
"""

from __future__ import annotations

from typing import Any

from harness.analysis.metrics import WindowMetrics

ERROR_RATE_FLOOR = 0.01
SLOW_FACTOR = 2.0
CPU_BUSY_PCT = 90.0
"""A service whose containers used this much of a core on average was the bottleneck."""


def diagnose(metrics: WindowMetrics, baseline: WindowMetrics | None, fast_ms: float = 100.0, fault: Any = None,
             acted: str | None = None, telemetry: dict[str, Any] | None = None) -> str | None:
    """One line naming the likely failure, or None when the window looks healthy.

    Args:
        metrics, baseline: the window's and the baseline's metrics.
        fast_ms: a 503 answered faster than this (p50) is a fast refusal.
        fault: the spec of the fault that acted in this window (None: none did), and ``acted``
            the evidence that it did (:class:`harness.analysis.fault_effect.FaultEffect`'s).
        telemetry: service -> :class:`harness.analysis.containers.ServiceTelemetry` of the window.
    """
    line = _symptom(metrics, baseline, fast_ms, fault, acted, telemetry or {})
    if line is None or fault is None or "fault " in line:
        return line
    return f"{line} (during fault {fault.name}: {fault.kind})"


def _symptom(metrics: WindowMetrics, baseline: WindowMetrics | None, fast_ms: float, fault: Any, acted: str | None,
             telemetry: dict[str, Any]) -> str | None:
    if metrics.requests and metrics.error_rate >= ERROR_RATE_FLOOR and metrics.errors:
        top = max(metrics.errors, key=lambda k: metrics.errors[k])
        if top == "connection_refused":
            return "cannot connect: network or service down"
        if top == "timeout":
            return "connects but no answer: service hung"
        if top == "connection_reset":
            return "connection dropped: service crashed or reset connections"
        if top == "dns":
            return "name does not resolve: DNS failure"
        if top == "http_429":
            return "rejected: rate limiting"
        if top == "http_503" and (metrics.p50_ms or 0) < fast_ms:
            return "refused fast: load shedding, or a dependency is down"
        if top.startswith("http_5"):
            return "server errors: the service or a dependency fails"
        return f"failing: mostly {top}"
    if baseline and baseline.p95_ms and metrics.p95_ms and metrics.p95_ms > SLOW_FACTOR * baseline.p95_ms:
        return _slow_because(metrics, baseline, fault, acted, telemetry)
    return None


def _slow_because(metrics: WindowMetrics, baseline: WindowMetrics, fault: Any, acted: str | None,
                  telemetry: dict[str, Any]) -> str:
    slow = f"p95 {metrics.p95_ms:g} ms against {baseline.p95_ms:g} ms in the baseline"
    proxy = getattr(fault, "proxy", None)
    if fault is not None and proxy:
        return f"slow dependency: fault {fault.name} ({fault.kind}) on proxy {proxy} acted ({acted}); {slow}"
    busy = sorted(((t.cpu_pct_mean or 0.0, svc) for svc, t in telemetry.items() if (t.cpu_pct_mean or 0) >= CPU_BUSY_PCT),
                  reverse=True)
    if busy:
        cpu, svc = busy[0]
        return f"slow: CPU bottleneck in {svc} ({cpu:.0f}% of a core on average); {slow}"
    if fault is not None:
        return f"slow: during fault {fault.name} ({fault.kind}); {slow}"
    return f"slow, cause not seen (no fault acted, no service at {CPU_BUSY_PCT:.0f}% CPU); {slow}"
