"""The ``failover`` check's spec: what a scenario's expectation of this kind may say.

How it is judged, and on what evidence, is :mod:`harness.checks.failover`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.scenario.checks.base import CheckSpec
from harness.scenario.checks.registry import register_check_spec


@register_check_spec
class FailoverCheck(CheckSpec):
    """Parameters: ``within_s``: the last failed *or* slow request (slower than ``slow_ms``,
    default 2000) must start within this many seconds of the fault taking effect.

    Evidence that the pattern acted: the traffic moved from the victims (the containers the
    fault touched) to the other replicas of their service: from ``within_s`` on the victims
    received at most :data:`harness.checks.failover.MOVED_AWAY_SHARE` of the bytes per second
    they received in the ``harness.analysis.fault_effect.IN_PATH_LOOKBACK_S`` seconds before the
    inject, and the other replicas received at least
    :data:`harness.checks.failover.TAKEN_OVER_SHARE` of that much more than they did (Docker's
    network counters, which keep counting while a container is frozen). Without network samples
    of the victims, or without another replica: inconclusive. ``within_s`` must be shorter than
    the fault (the scenario is rejected otherwise: such a check could never fail). A held verdict needs
    at least :data:`harness.scenario.checks.base.MIN_REQUESTS` requests in the window."""

    summary = "The load balancer routes around a lost replica: errors stop within N s."
    fault_windows_only = True

    check: Literal["failover"] = "failover"
    within_s: float = Field(gt=0, le=3600, description="seconds from inject")
    slow_ms: float = Field(default=2000, gt=0, description="a request this slow counts as a symptom, ms")

    def default_label(self) -> str:
        return f"{self.check}: errors stop within {self.within_s:g} s in {self.window}"


@register_check_spec
class HealthCheckCheck(FailoverCheck):
    """``failover``, plus the health check's own mark: a victim was marked unhealthy during
    the window, seen as Docker's ``health_status: unhealthy`` event for a victim, or as growth
    of ``unhealthy_metric`` (a counter scraped from the load balancer; default HAProxy's
    ``haproxy_server_check_up_down_total``, UP to DOWN transitions by its health checks;
    ``balancer`` names the service exporting it, default any scraped one).
    Neither seen while the balancer is scraped: failed (nobody checked). Not scraped and no
    Docker mark: inconclusive."""

    summary = "Health checks take a failed replica out of rotation: errors stop within N s."

    check: Literal["health_check"] = "health_check"  # type: ignore[assignment]
    unhealthy_metric: str = "haproxy_server_check_up_down_total"
    balancer: str | None = Field(default=None, min_length=1,
                                 description="the service exporting unhealthy_metric (default: any scraped one)")
