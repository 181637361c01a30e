"""Requests in flight in the load child: sent, not answered yet.

A request counts in the record stream only once it ends, so a hung target shows as "errors
0.0 %" until the timeouts fire. :class:`InFlight` counts the requests between send and answer,
and knows when the oldest of them was sent; the child reports it every IN_FLIGHT_EVERY_S as an
``inflight`` event (see :mod:`harness.load.worker`), the live view shows it.

Bookkeeping is O(1) per request: a dict keyed by a ticket, in send order, so the oldest open
request is the first key (looked up only when a snapshot is taken, twice a second).

Plain Python (no locust, no gevent), unit-tested in the orchestrator's process.
"""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Callable
from typing import Any

IN_FLIGHT_EVERY_S = 0.5
"""How often the child (and each worker) reports its requests in flight."""


class InFlight:
    """Requests of this process between send and answer.

    Args:
        clock: epoch seconds now (``time.time``; tests pass a fake).

    Attributes:
        killed: requests sent before the stop (:meth:`stopping`) whose greenlet was killed before
            they ended (a user still in a request when the stop timeout ran out): they have no
            record, and the run says so.
        killed_after_stop: requests sent at or after the stop and killed at once: Locust kills a
            user that was waiting between tasks when the stop came, and gevent delivers that kill
            at the user's next switch, which may be inside a request it had just begun. Such a
            request was never part of the load's duration (and its answer, if any, is never read).
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.killed = 0
        self.killed_after_stop = 0
        self.stop_at_s: float | None = None
        self._open: dict[int, float] = {}
        self._tickets = itertools.count()

    def stopping(self) -> None:
        """The load's stop was asked for now: a request killed from now on that began after it
        counts in :attr:`killed_after_stop`, not in :attr:`killed`."""
        self.stop_at_s = self.clock()

    def begin(self) -> int:
        """A request is being sent now; returns its ticket for :meth:`end`."""
        ticket = next(self._tickets)
        self._open[ticket] = self.clock()
        return ticket

    def end(self, ticket: int) -> None:
        """The request of ``ticket`` ended (answered, failed or killed); unknown tickets are ignored."""
        self._open.pop(ticket, None)

    @property
    def n(self) -> int:
        """Requests in flight now."""
        return len(self._open)

    def oldest_start_s(self) -> float | None:
        """Epoch seconds the oldest request in flight was sent; None when none is."""
        return next(iter(self._open.values()), None)

    def snapshot(self, offset_s: float = 0.0) -> dict:
        """``{"n": int, "oldest_start_s": epoch_s | None}``, the oldest start shifted by
        ``offset_s`` (a remote worker's clock correction into its master's clock)."""
        oldest = self.oldest_start_s()
        return {"n": len(self._open), "oldest_start_s": None if oldest is None else oldest + offset_s}

    def call(self, request: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``request(*args, **kwargs)``, counted in flight while it runs; returns its result and
        lets its exceptions through. A ``BaseException`` that is not an ``Exception``
        (gevent's ``GreenletExit``: the user was killed mid-request) counts in :attr:`killed`,
        or in :attr:`killed_after_stop` when the request began at or after :meth:`stopping`."""
        ticket = next(self._tickets)  # begin(), inlined: this runs once per request
        self._open[ticket] = self.clock()
        try:
            return request(*args, **kwargs)
        except Exception:
            raise
        except BaseException:
            self.count_killed(ticket)
            raise
        finally:
            self._open.pop(ticket, None)

    def count_killed(self, ticket: int) -> None:
        """The request of ``ticket`` (still open) was killed: count it in :attr:`killed`, or in
        :attr:`killed_after_stop` when it began at or after the stop. An unknown ticket counts
        in :attr:`killed`."""
        began = self._open.get(ticket)
        if self.stop_at_s is not None and began is not None and began >= self.stop_at_s:
            self.killed_after_stop += 1
        else:
            self.killed += 1

    def wrap(self, request: Callable[..., Any]) -> Callable[..., Any]:
        """``request`` wrapped so that every call counts in this tracker, as :meth:`call` does,
        in a single frame (no method call per request: the wrapper runs on every request).
        The wrapper returns what ``request`` returns and raises what it raises."""
        tickets, open_requests, clock = self._tickets, self._open, self.clock

        def request_in_flight(*args: Any, **kwargs: Any) -> Any:
            ticket = next(tickets)
            open_requests[ticket] = clock()
            try:
                return request(*args, **kwargs)
            except Exception:
                raise
            except BaseException:  # killed mid-request (gevent's GreenletExit): counted, then on its way
                self.count_killed(ticket)
                raise
            finally:
                open_requests.pop(ticket, None)

        return request_in_flight


def tracked(request: Callable[..., Any], tracker: InFlight) -> Callable[..., Any]:
    """``request`` (a client session's ``request`` method, unbound) wrapped so that every call
    counts in ``tracker`` (see :meth:`InFlight.call`; one frame per call: :meth:`InFlight.wrap`).
    Wrapping an already wrapped method replaces the previous tracker instead of counting twice."""
    original = getattr(request, "__harness_untracked__", request)
    request_in_flight = functools.wraps(original)(tracker.wrap(original))
    request_in_flight.__harness_untracked__ = original  # type: ignore[attr-defined]
    return request_in_flight


def merge_snapshots(snapshots: list[dict]) -> dict:
    """Several processes' snapshots (all in one clock) as one: ``n`` summed, the oldest start
    the earliest known (None when no process has a request in flight)."""
    starts = [s["oldest_start_s"] for s in snapshots if s.get("oldest_start_s") is not None]
    return {"n": sum(int(s.get("n") or 0) for s in snapshots), "oldest_start_s": min(starts) if starts else None}
