"""The seeds' diagnosis map, applied to a window: what a client's symptoms say about the server.

From seed 000 ("How Servers Fail", 5. Step-by-step troubleshooting) and its scenarios:

- mostly ``connection_refused`` -> "cannot connect: network or service down";
- mostly ``timeout`` -> "connects but no answer: service hung";
- mostly ``connection_reset`` -> "connection dropped: service crashed or reset connections";
- mostly ``dns`` -> "name does not resolve: DNS failure";
- mostly ``http_429`` -> "rejected: rate limiting";
- mostly fast ``http_503`` -> "refused fast: load shedding, or a dependency is down";
- mostly ``http_5xx`` -> "server errors: the service or a dependency fails";
- no errors to speak of but p95 over twice the baseline's -> "slow: resource bottleneck".

"Mostly" is the largest error class when errors are at least 1 % of requests.
"""

from __future__ import annotations

from harness.analysis.metrics import WindowMetrics

ERROR_RATE_FLOOR = 0.01
SLOW_FACTOR = 2.0


def diagnose(metrics: WindowMetrics, baseline: WindowMetrics | None, fast_ms: float = 100.0) -> str | None:
    """One line naming the likely failure, or None when the window looks healthy."""
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
        return "slow: resource bottleneck"
    return None
