"""How long the harness waits on the Docker engine, in one leaf module: the faults, the stack's
lifecycle and the timeline all bound their waits by these numbers (it imports nothing of the
harness, so any room may read it).
"""

from __future__ import annotations

from datetime import datetime, timezone

DOCKER_TIMEOUT_S = 30
"""Timeout of each Docker engine API call, s; a hung engine makes the run inconclusive. A
``docker stop`` with the default 10 s grace fits in it with room to spare."""

MIN_UP_S = 2.0
"""A container without a health check counts as ready once it has been running this long, s, so
one that crashes right after starting is not mistaken for a healthy one."""

PULL_TIMEOUT_S = 300
"""Longest wait for pulling the images a run's stack lacks, s."""


def up_for_s(started_at: str) -> float:
    """Seconds since Docker's ``State.StartedAt`` (RFC 3339 with nanoseconds, e.g.
    ``2026-12-06T10:00:00.123456789Z``); 0 when it cannot be parsed."""
    try:
        stamp = datetime.fromisoformat(started_at[:26].rstrip("Z") + "+00:00")
    except ValueError:
        return 0.0
    return (datetime.now(timezone.utc) - stamp).total_seconds()


__all__ = ["DOCKER_TIMEOUT_S", "MIN_UP_S", "PULL_TIMEOUT_S", "up_for_s"]
