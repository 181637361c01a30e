"""``timeout``: during a latency fault, p99 is bounded by the configured timeout plus a margin,
not by the injected latency (seed 002, "2. No Timeouts": hanging requests consume resources)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.checks.base import CheckSpec, Verdict, needed_requests
from harness.checks.registry import register_check


@register_check
class TimeoutCheck(CheckSpec):
    """Parameters: ``timeout_ms`` (the service's configured timeout budget for the slow call,
    retries included), ``margin_ms`` (allowance for the rest of the request, default 250 ms),
    ``percentile`` (default ``p99_ms``). Fails when the percentile exceeds timeout + margin, or
    reaches the injected ``latency_ms`` of the window's fault (the timeout did not fire).

    Evidence that the pattern acted: some request of the window waited at least
    ``exercised_ms`` (default half of ``timeout_ms``): the slow dependency really held requests
    up and the timeout, not a fast error, ended the wait. Without such a request the verdict is
    inconclusive: nothing hung (e.g. a ``timeout`` toxic against a server that closes after
    answering gives an immediate empty reply), so a bounded p99 says nothing about timeouts.
    """

    summary = "Timeouts bound latency: p99 under a slow dependency stays near the timeout, not the delay."

    check: Literal["timeout"] = "timeout"
    timeout_ms: float = Field(gt=0, le=3_600_000, description="configured timeout budget, ms")
    margin_ms: float = Field(default=250, ge=0, le=3_600_000, description="allowance on top, ms")
    percentile: Literal["p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms"] = "p99_ms"
    exercised_ms: float | None = Field(default=None, gt=0, le=3_600_000,
                                       description="a request this slow shows the timeout was reached, ms "
                                                   "(default timeout_ms / 2)")

    def default_label(self) -> str:
        return f"timeout bounds {self.percentile} by {self.timeout_ms:g}+{self.margin_ms:g} ms in {self.window}"

    def judge_window(self, evidence, window) -> Verdict:
        bound = self.timeout_ms + self.margin_ms
        metrics = evidence.metrics_of(window, self.request)
        observed = getattr(metrics, self.percentile)
        if observed is None:
            return self.no_requests(evidence, window, bound, "<=", self.percentile)
        injected = getattr(evidence.faults.get(window.fault or ""), "latency_ms", None)
        held = observed <= bound and (injected is None or observed < injected)
        against = f"; the injected latency was {injected:g} ms" if injected is not None else ""
        exercised = self.exercised_ms if self.exercised_ms is not None else self.timeout_ms / 2
        slowest = metrics.max_ms or 0.0
        verdict = Verdict(
            held, observed, bound, "<=", self.percentile,
            f"{self.percentile} was {observed:g} ms in {window.name} against a {self.timeout_ms:g} ms timeout "
            f"(+{self.margin_ms:g} ms margin){against}: timeouts {'bounded' if held else 'did not bound'} latency.",
            evidence=(f"the slowest of {metrics.requests} requests took {slowest:g} ms (a request of at least "
                      f"{exercised:g} ms shows the timeout was reached)",))
        if held and slowest < exercised:
            return verdict.unproven(f"no request waited {exercised:g} ms (the slowest took {slowest:g} ms), so the "
                                    "timeout was never exercised: nothing hung")
        return verdict.powered(metrics.requests, needed_requests(self.percentile, "<=", bound))
