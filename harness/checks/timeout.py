"""``timeout``: during a latency fault, p99 is bounded by the configured timeout plus a margin,
not by the injected latency (seed 002, "2. No Timeouts": hanging requests consume resources)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.checks.base import CheckSpec, Verdict
from harness.checks.registry import register_check


@register_check
class TimeoutCheck(CheckSpec):
    """Parameters: ``timeout_ms`` (the service's configured timeout budget for the slow call,
    retries included), ``margin_ms`` (allowance for the rest of the request, default 250 ms),
    ``percentile`` (default ``p99_ms``). Fails when the percentile exceeds timeout + margin, or
    reaches the injected ``latency_ms`` of the window's fault (the timeout did not fire)."""

    summary = "Timeouts bound latency: p99 under a slow dependency stays near the timeout, not the delay."

    check: Literal["timeout"] = "timeout"
    timeout_ms: float = Field(gt=0, le=3_600_000, description="configured timeout budget, ms")
    margin_ms: float = Field(default=250, ge=0, le=3_600_000, description="allowance on top, ms")
    percentile: Literal["p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms"] = "p99_ms"

    def default_label(self) -> str:
        return f"timeout bounds {self.percentile} by {self.timeout_ms:g}+{self.margin_ms:g} ms in {self.window}"

    def judge_window(self, evidence, window) -> Verdict:
        bound = self.timeout_ms + self.margin_ms
        observed = getattr(evidence.metrics_of(window, self.request), self.percentile)
        if observed is None:
            return self.no_requests(window, bound, "<=", self.percentile)
        injected = getattr(evidence.faults.get(window.fault or ""), "latency_ms", None)
        held = observed <= bound and (injected is None or observed < injected)
        against = f"; the injected latency was {injected:g} ms" if injected is not None else ""
        return Verdict(
            held, observed, bound, "<=", self.percentile,
            f"{self.percentile} was {observed:g} ms in {window.name} against a {self.timeout_ms:g} ms timeout "
            f"(+{self.margin_ms:g} ms margin){against}: timeouts {'bounded' if held else 'did not bound'} latency.")
