"""Resilience building blocks used by the api in the ``resilient`` profile.

* :func:`backoff_delay` / :func:`retry` -- bounded retries with exponential
  backoff and full jitter, for idempotent calls only.
* :class:`CircuitBreaker` -- consecutive-failure breaker with a single
  half-open probe.
* :class:`InFlightLimiter` -- bound on concurrent requests (load shedding).

The numbers (attempts, base/cap delays, failure threshold, open duration,
in-flight limit) come from :class:`shop.config.Settings`; all durations here
are in seconds.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Awaitable, Callable, TypeVar

T = TypeVar("T")


def backoff_delay(retry_index: int, base_s: float, cap_s: float, rng: random.Random | None = None) -> float:
    """Full-jitter delay in seconds before retry number ``retry_index`` (0 = first retry).

    ``uniform(0, min(cap_s, base_s * 2**retry_index))``, so with the defaults
    (base 50 ms, cap 500 ms) the first retry waits 0-50 ms, the second 0-100 ms, ...
    """
    rng = rng or random
    return rng.uniform(0.0, min(cap_s, base_s * (2 ** retry_index)))


async def retry(
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int,
    base_s: float,
    cap_s: float,
    retry_on: tuple[type[BaseException], ...],
    on_retry: Callable[[], None] | None = None,
) -> T:
    """Await ``call()`` up to ``attempts`` times in total (first try included).

    Only exceptions in ``retry_on`` are retried; anything else, and the error of
    the last attempt, propagates. ``on_retry`` is called before each retry
    (used to count retries in metrics). Never use this for non-idempotent calls.
    """
    for attempt in range(attempts):
        try:
            return await call()
        except retry_on:
            if attempt + 1 >= attempts:
                raise
            if on_retry is not None:
                on_retry()
            await asyncio.sleep(backoff_delay(attempt, base_s, cap_s))
    raise AssertionError("attempts must be >= 1")  # pragma: no cover


class BreakerOpen(Exception):
    """Raised instead of calling a dependency while its breaker rejects calls."""


class CircuitBreaker:
    """Consecutive-failure circuit breaker.

    * CLOSED: calls pass; ``failure_threshold`` consecutive failures -> OPEN.
    * OPEN: calls are rejected for ``open_s`` seconds, then -> HALF_OPEN.
    * HALF_OPEN: exactly one probe call passes (others are rejected); its
      success -> CLOSED, its failure (or cancellation) -> OPEN again.

    State values match the ``shop_circuit_breaker_state`` gauge:
    0 closed, 1 open, 2 half-open. ``on_transition(old, new)`` is called on
    every state change. Not thread-safe; meant for one asyncio event loop.
    """

    CLOSED, OPEN, HALF_OPEN = 0, 1, 2
    NAMES = {CLOSED: "closed", OPEN: "open", HALF_OPEN: "half_open"}

    def __init__(
        self,
        failure_threshold: int,
        open_s: float,
        on_transition: Callable[[int, int], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.open_s = open_s
        self._on_transition = on_transition
        self._clock = clock
        self._state = self.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probe_in_flight = False

    @property
    def state(self) -> int:
        """Current state; an OPEN breaker whose ``open_s`` has elapsed reports HALF_OPEN."""
        if self._state == self.OPEN and self._clock() - self._opened_at >= self.open_s:
            self._set(self.HALF_OPEN)
        return self._state

    def acquire(self) -> bool:
        """Ask to make one call. Returns True if this call is the half-open probe.

        Raises :class:`BreakerOpen` if the call must not be made.
        """
        state = self.state
        if state == self.CLOSED:
            return False
        if state == self.HALF_OPEN and not self._probe_in_flight:
            self._probe_in_flight = True
            return True
        raise BreakerOpen()

    def record_success(self, probe: bool) -> None:
        if probe:
            self._probe_in_flight = False
            self._set(self.CLOSED)
        elif self._state == self.CLOSED:
            self._failures = 0

    def record_failure(self, probe: bool) -> None:
        """Count a failed call; ``probe`` is what :meth:`acquire` returned for it.

        Results of calls that started before the breaker opened are ignored
        while it is OPEN/HALF_OPEN: only the probe decides.
        """
        if probe:
            self._probe_in_flight = False
            self._open()
        elif self._state == self.CLOSED:
            self._failures += 1
            if self._failures >= self.failure_threshold:
                self._open()

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._set(self.OPEN)

    def _set(self, new: int) -> None:
        old, self._state = self._state, new
        if new == self.CLOSED:
            self._failures = 0
        if old != new and self._on_transition is not None:
            self._on_transition(old, new)


class InFlightLimiter:
    """At most ``limit`` requests in progress at once; the excess is refused, not queued."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0

    def try_acquire(self) -> bool:
        if self.in_flight >= self.limit:
            return False
        self.in_flight += 1
        return True

    def release(self) -> None:
        self.in_flight -= 1
