"""The open load model: requests arrive at a fixed rate whatever the target does.

Why
---
Locust's users form a *closed* model: a user sends its next request only after the previous one
returned (plus think time). When the target stalls, the users wait with it and simply send less;
the slow period contributes a handful of samples instead of the thousands a real client
population would have produced, and percentiles look healthy. That is coordinated omission.

With ``load.rate_rps`` the load is *open*: a scheduler fixes the intended send time of request
``k`` at ``start + offset + k / rate_rps`` (computed from the start, never accumulated, so the
spacing is exactly ``1 / rate_rps`` and does not drift). A pool of ``users`` Locust users takes
intended times from a queue and sends; at most ``users`` requests are in flight. Each record's
``start_s`` is the *intended* send time and its ``duration_ms`` runs from that intended time to
completion. If the target stalls, the pool fills up, intended times wait in the queue, and every
one of them shows its wait as latency. Locust's own statistics keep measuring from the actual
send, so ``report.json`` holds both views.

Why not HdrHistogram's corrected recording
------------------------------------------
``recordCorrectedValue(value, expected_interval)`` keeps the closed model and back-fills
synthetic samples (``value - interval``, ``value - 2 * interval``, ...) for requests that were
never sent. It needs one known, constant interval per user (ours have random think times and a
weighted request mix), the synthetic samples have no request name, status or error class, and
the target never saw the load the report describes: no queueing, no errors, no recovery under
that load. The open model sends the requests for real, so every record is a real request and
windows, per-request metrics and error rates stay consistent. The price: when the pool is
exhausted the queue grows; requests still queued when the load ends are never sent and are
reported as ``unsent``.

Distributed (``workers``): each worker schedules its share of the rate, proportional to the
users the master gave it, with its own offset so equal shares interleave into one sequence
spaced ``1 / rate_rps`` apart.

This module is pure arithmetic (no gevent, no locust): the child's scheduler greenlet drives it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class ArrivalSchedule:
    """Intended send times ``start_s + offset_s + k / rate_rps`` for ``k = 0, 1, 2, ...``.

    Args:
        rate_rps: arrivals per second (> 0).
        start_s: epoch seconds of arrival 0 (before the offset).
        offset_s: shift of every arrival, seconds (>= 0), to interleave several schedules.
        end_s: no arrival at or after this epoch second (the load's end), so a load of
            ``duration_s`` schedules exactly ``rate_rps * duration_s`` arrivals.
    """

    rate_rps: float
    start_s: float
    offset_s: float = 0.0
    end_s: float = math.inf
    emitted: int = field(default=0, init=False)
    """Arrivals handed out so far (over every rate segment)."""
    _k: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.rate_rps > 0:
            raise ValueError(f"rate_rps must be > 0, got {self.rate_rps}")

    def at(self, k: int) -> float:
        """Intended time of arrival ``k`` of the current rate segment, epoch seconds."""
        return self.start_s + self.offset_s + k / self.rate_rps

    def next_at(self) -> float:
        """Intended time of the next arrival not yet handed out (``inf`` once the schedule is
        over)."""
        t = self.at(self._k)
        return t if t < self.end_s else math.inf

    def due(self, now_s: float) -> list[float]:
        """Every arrival with intended time <= ``now_s`` not handed out yet, in order."""
        out = []
        k = self._k
        while (t := self.at(k)) <= now_s and t < self.end_s:
            out.append(t)
            k += 1
        self.emitted += k - self._k
        self._k = k
        return out

    def retarget(self, rate_rps: float) -> None:
        """Change the rate from the next arrival on: it keeps its intended time, the ones after
        it are spaced ``1 / rate_rps``."""
        if not rate_rps > 0:
            raise ValueError(f"rate_rps must be > 0, got {rate_rps}")
        if rate_rps == self.rate_rps:
            return
        self.start_s, self.offset_s, self._k = self.at(self._k), 0.0, 0
        self.rate_rps = rate_rps


def worker_rate_rps(rate_rps: float, worker_users: int, total_users: int) -> float:
    """A worker's share of the total rate: proportional to its share of the users (the master
    dispatches users evenly, so equal workers get equal rates). 0 when it has no users."""
    if worker_users <= 0 or total_users <= 0:
        return 0.0
    return rate_rps * min(worker_users, total_users) / total_users


def interleave_offset_s(rate_rps: float, worker_rate: float, worker_index: int) -> float:
    """Offset of worker ``worker_index``'s schedule so that ``M = rate / worker_rate`` equal
    schedules interleave: worker ``i`` sends at ``(i mod M) / rate`` past each multiple of its
    own period. 0 for a single process."""
    if worker_rate <= 0 or worker_rate >= rate_rps:
        return 0.0
    m = max(1, round(rate_rps / worker_rate))
    return (worker_index % m) / rate_rps


def expected_arrivals(rate_rps: float, start_s: float, end_s: float, offset_s: float = 0.0) -> int:
    """How many arrivals a schedule starting at ``start_s`` puts in ``[start_s, end_s)``."""
    if end_s <= start_s + offset_s:
        return 0
    schedule = ArrivalSchedule(rate_rps, start_s, offset_s)
    n = int((end_s - start_s - offset_s) * rate_rps)
    while schedule.at(n) >= end_s and n > 0:
        n -= 1
    while schedule.at(n) < end_s:
        n += 1
    return n
