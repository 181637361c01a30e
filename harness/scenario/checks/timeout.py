"""The ``timeout`` check's spec: what a scenario's expectation of this kind may say.

How it is judged, and on what evidence, is :mod:`harness.checks.timeout`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.scenario.checks.base import CheckSpec
from harness.scenario.checks.registry import register_check_spec


@register_check_spec
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
