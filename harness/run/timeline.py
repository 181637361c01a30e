"""Inject and revert faults at their scheduled offsets from the load's start.

Each inject and revert runs in a worker thread of its own, so a slow one (a ``stop`` waiting out
its grace period, a rolling ``restart``) never blocks the scheduler loop: abort conditions,
progress and the other faults keep their clock. One scheduled item (one occurrence of a fault)
has at most one action in flight; its revert starts once its own inject has ended.

Journal events (every one with ``fault``, ``kind``, ``occurrence`` and ``offset_s``, the offset in
seconds of its ``t`` from the load's start):

- ``fault.injecting``: the item is marked injected and its inject is about to start (written
  *before* the call, so that an interrupt, an abort or an error during the inject still reverts
  it: every ``Fault.revert`` is idempotent and safe after a partial inject);
- ``fault.inject`` / ``fault.revert``: the call succeeded; ``t`` = when the call started (UTC),
  ``took_ms`` = how long it took (so ``t + took_ms/1000`` is when the fault was fully in place,
  or fully undone), ``touched`` = what it touched; reverts (also failed ones) carry ``effect``,
  what the fault measured of its own effect right before the revert
  (:meth:`~harness.faults.Fault.effect_counters`, ``{}`` when nothing);
- ``fault.inject_failed`` / ``fault.revert_failed``: the call raised; ``t`` = when it started,
  ``took_ms``, ``error``; a failed inject is reverted at once, in the same worker;
- ``timeline.wait_timeout``: teardown waited :data:`IN_FLIGHT_WAIT_S` for in-flight actions and
  some were still running (``faults``: their names); they are reverted anyway.

Victim choices come from one RNG per fault, seeded with ``"<seed>:<fault name>"``, so a seed
reproduces them whatever the order of faults.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import Callable

from harness.environment.ledger import Ledger
from harness.environment.timing import DOCKER_TIMEOUT_S
from harness.errors import EnvironmentFailure
from harness.faults import Fault, FaultContext, fault_for
from harness.scenario.faults import FaultSpec
from harness.journal import Journal

IN_FLIGHT_WAIT_S = 2 * DOCKER_TIMEOUT_S + 30.0
"""Seconds :meth:`Timeline.revert_all` and :meth:`Timeline.settle` wait, in all, for in-flight
injects and reverts to end (and teardown for each of its reverts): more than a Docker call's
timeout (``DOCKER_TIMEOUT_S``) plus a ``stop``'s default 10 s grace, twice over."""


@dataclass
class _Scheduled:
    """One occurrence of a fault (intermittent faults have several, each its own Fault).

    ``injected`` is set *before* the inject call (a partial inject counts: revert is safe after
    one), ``reverted`` once a revert succeeded. ``worker`` is the thread of the item's latest
    action; ``failure`` the error it raised, until :meth:`Timeline.step` surfaces it.
    """

    spec: FaultSpec
    fault: Fault
    inject_at_s: float
    revert_at_s: float
    occurrence: int | None = None
    injected: bool = False
    reverted: bool = False
    revert_started: bool = False
    worker: threading.Thread | None = None
    failure: Exception | None = None

    @property
    def busy(self) -> bool:
        """True while an inject or revert of this item is in flight."""
        return self.worker is not None and self.worker.is_alive()

    @property
    def label(self) -> str:
        """``name`` or ``name#k`` for an occurrence of an intermittent fault."""
        return self.spec.name + (f"#{self.occurrence}" if self.occurrence else "")  # type: ignore[operator]


Scheduled = _Scheduled
"""One fault occurrence on a timeline (public name, for timelines built on :class:`Timeline`,
such as ``harness gameday``'s operator timeline)."""


class Timeline:
    """The run's faults on the clock.

    Args:
        specs: validated fault specs (non-overlapping, named).
        make_context: builds a :class:`FaultContext` given the fault's seeded RNG.
        journal: where every step is recorded (thread-safe: workers write to it).
        seed: the run's seed.
        clock: epoch seconds (injected for tests).
        ledger: each inject is written to the run's cleanup ledger before it is made.
    """

    def __init__(
        self,
        specs: list[FaultSpec],
        make_context: Callable[[random.Random], FaultContext],
        journal: Journal,
        seed: int,
        clock: Callable[[], float],
        ledger: Ledger | None = None,
    ):
        self.journal = journal
        self.ledger = ledger
        self.clock = clock
        self.items: list[_Scheduled] = []
        self._closing = False  # set by revert_all: a worker not yet started skips its inject
        for spec in specs:
            occurrences = spec.occurrences()
            for k, (inject_s, revert_s) in enumerate(occurrences, start=1):
                numbered = len(occurrences) > 1
                rng = random.Random(f"{seed}:{spec.name}" + (f"#{k}" if numbered else ""))
                fault = fault_for(spec)(spec, make_context(rng))
                self.items.append(_Scheduled(spec, fault, inject_s, revert_s, k if numbered else None))
        self.items.sort(key=lambda i: i.inject_at_s)

    def active(self) -> list[str]:
        """Names of faults injected (or being injected) and not yet reverted."""
        return sorted({i.spec.name for i in self.items if i.injected and not i.reverted})  # type: ignore[misc]

    def in_flight(self) -> list[str]:
        """Labels (``name`` or ``name#k``) of the items with an inject or revert in flight."""
        return [i.label for i in self.items if i.busy]

    def next_due_s(self) -> float | None:
        """Offset (s from the load's start) of the next pending inject or revert, or None when
        nothing is pending. A revert waiting for its item's in-flight inject is not counted (it
        is not startable yet: the caller ticks as usual)."""
        times = [i.inject_at_s for i in self.items if not i.injected] + [
            i.revert_at_s for i in self.items if i.injected and not i.revert_started and not i.busy
        ]
        return min(times) if times else None

    def step(self, t0: float) -> None:
        """Start every inject and revert due at ``clock() - t0`` (epoch s ``t0``: the load's
        start) in its own worker thread, and return at once (it never waits for one).

        Raises:
            EnvironmentFailure: an inject or revert that ended since the last step failed (it was
                journalled; a failed inject was reverted at once, which is safe). Any other
                exception a fault raised is re-raised the same way (a harness bug).
        """
        self._raise_failure()
        for item in self.items:
            if (item.injected and not item.revert_started and not item.busy
                    and self.clock() - t0 >= item.revert_at_s):
                item.revert_started = True
                self._launch(item, self._revert_worker, t0, True)
        for item in self.items:
            if not item.injected and self.clock() - t0 >= item.inject_at_s:
                self._mark_injecting(item, t0)
                self._launch(item, self._inject_worker, t0)

    def settle(self, t0: float, wait_s: float = IN_FLIGHT_WAIT_S) -> None:
        """Start what is due, wait (at most ``wait_s`` seconds in all) for every in-flight action
        to end, and surface its failure: the end of the load's schedule.

        Raises:
            EnvironmentFailure: as :meth:`step`.
        """
        self.step(t0)
        self.wait_idle(wait_s)
        self._raise_failure()

    def revert_all(self, t0: float, wait_s: float = IN_FLIGHT_WAIT_S) -> None:
        """Teardown: wait (at most ``wait_s`` seconds) for in-flight injects and reverts to end,
        then revert, one after the other, every item marked injected and not reverted (also
        those whose inject failed or was cut short: revert is safe after a partial inject).
        Each revert is waited for at most ``wait_s`` seconds. Idempotent.

        Never raises for a fault's error: failures are journalled (``fault.revert_failed``), and
        actions still running after the wait are journalled (``timeline.wait_timeout``) and
        reverted anyway. What a signal handler raises while it waits (a second Ctrl-C) passes.
        """
        self._closing = True
        self.wait_idle(wait_s)
        self._journal_stuck(wait_s)
        for item in self.items:
            if item.injected and not item.reverted:
                self._revert_in_teardown(item, t0, wait_s)

    def _revert_in_teardown(self, item: _Scheduled, t0: float, wait_s: float) -> None:
        """Revert one item at teardown. A revert of it still in flight is waited for, never
        doubled. An inject still in flight gets its revert now (the inject may be hung), and,
        should it land after that revert, a second one once it ended (each wait at most
        ``wait_s`` seconds)."""
        stuck = item.worker if item.busy else None
        if stuck is not None and item.revert_started:
            stuck.join(wait_s)
            if item.reverted or stuck.is_alive():
                return
            stuck = None
        for _attempt in range(2):
            worker = self._launch(item, self._revert_worker, t0, False)
            worker.join(wait_s)
            if worker.is_alive():
                self._journal_stuck(wait_s)
                return
            if stuck is None:
                return
            stuck.join(wait_s)  # the inject that was hung: once it ends, whatever it did is undone again
            if stuck.is_alive():
                return
            item.reverted, stuck = False, None

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait at most ``timeout_s`` seconds in all for every in-flight inject and revert to
        end; True when none is left in flight. Failures stay for :meth:`step` to raise."""
        deadline = time.monotonic() + timeout_s
        for item in self.items:
            worker = item.worker
            if worker is not None and worker.ident is not None:
                worker.join(max(0.0, deadline - time.monotonic()))
        return not self.in_flight()

    # -- the main thread's side ------------------------------------------------------------

    def _raise_failure(self) -> None:
        for item in self.items:
            if item.failure is not None and not item.busy:
                failure, item.failure = item.failure, None
                raise failure

    def _mark_injecting(self, item: _Scheduled, t0: float) -> None:
        """Mark the item injected, then ledger and journal it, all before the inject starts."""
        item.injected = True
        spec = item.spec
        if self.ledger is not None:
            self.ledger.record("inside_run", what=f"fault {spec.name} ({spec.kind}) injected")
        now = self.clock()
        self.journal.record("fault.injecting", t=now, fault=spec.name, kind=spec.kind, occurrence=item.occurrence,
                            offset_s=round(now - t0, 3))

    def _launch(self, item: _Scheduled, target: Callable[..., None], *args: object) -> threading.Thread:
        worker = threading.Thread(target=target, args=(item, *args), daemon=True,
                                  name=f"fault-{item.label}-{target.__name__.strip('_')}")
        item.worker = worker
        worker.start()
        return worker


    def _journal_stuck(self, wait_s: float) -> None:
        stuck = self.in_flight()
        if stuck:
            self.journal.record("timeline.wait_timeout", faults=stuck, waited_s=wait_s)

    # -- the workers' side -------------------------------------------------------------------

    def _inject_worker(self, item: _Scheduled, t0: float) -> None:
        if self._closing:  # teardown began before this worker ran: revert_all reverts the item
            return
        try:
            self._call(item, "inject", t0)
        except Exception as exc:  # noqa: BLE001 - journalled, then surfaced by step()
            self._call_quietly(item, "revert", t0)
            item.failure = exc

    def _revert_worker(self, item: _Scheduled, t0: float, surface: bool) -> None:
        try:
            self._call(item, "revert", t0)
        except Exception as exc:  # noqa: BLE001 - journalled; surfaced by step() when scheduled
            if surface:
                item.failure = exc

    def _call(self, item: _Scheduled, action: str, t0: float) -> list[str]:
        """Run ``fault.<action>()`` and journal it (``fault.<action>`` or
        ``fault.<action>_failed``); marks the item reverted after a successful revert.

        Raises:
            Exception: whatever the fault raised, after journalling it.
        """
        spec = item.spec
        extra = {"effect": _effect_of(item.fault)} if action == "revert" else {}  # measured while in place
        started = self.clock()
        common = dict(t=started, fault=spec.name, kind=spec.kind, occurrence=item.occurrence,
                      offset_s=round(started - t0, 3), **extra)
        try:
            touched = item.fault.inject() if action == "inject" else item.fault.revert()
        except Exception as exc:
            error = str(exc) if isinstance(exc, EnvironmentFailure) else f"{type(exc).__name__}: {exc}"
            self.journal.record(f"fault.{action}_failed", **common, touched=[], error=error,
                                took_ms=round((self.clock() - started) * 1000, 1))
            raise
        if action == "revert":
            item.reverted = True
        self.journal.record(f"fault.{action}", **common, touched=touched,
                            took_ms=round((self.clock() - started) * 1000, 1))
        return touched

    def _call_quietly(self, item: _Scheduled, action: str, t0: float) -> None:
        try:
            self._call(item, action, t0)
        except Exception:  # noqa: BLE001 - journalled by _call
            pass


def _effect_of(fault: Fault) -> dict[str, float]:
    """:meth:`Fault.effect_counters`, read right before a revert; {} if it cannot be read."""
    try:
        return dict(fault.effect_counters())
    except Exception:  # noqa: BLE001 - documented never to raise; a fake or a bug gives {}
        return {}
