"""Inject and revert faults at their scheduled offsets from the load's start.

Each step is journalled as ``fault.inject``/``fault.revert`` once it succeeded, or as
``fault.inject_failed``/``fault.revert_failed`` with the error, stamped with the time it started
(UTC), its offset from the load's start and what it touched. Victim choices come from one RNG per fault, seeded with
``"<seed>:<fault name>"``, so a seed reproduces them whatever the order of faults.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

from harness.errors import EnvironmentFailure
from harness.faults import Fault, FaultContext, FaultSpec, fault_for
from harness.environment.ledger import Ledger
from harness.journal import Journal


@dataclass
class _Scheduled:
    """One occurrence of a fault (intermittent faults have several, each its own Fault)."""

    spec: FaultSpec
    fault: Fault
    inject_at_s: float
    revert_at_s: float
    occurrence: int | None = None
    injected: bool = False
    reverted: bool = False


class Timeline:
    """The run's faults on the clock.

    Args:
        specs: validated fault specs (non-overlapping, named).
        make_context: builds a :class:`FaultContext` given the fault's seeded RNG.
        journal: where every step is recorded.
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
        for spec in specs:
            occurrences = spec.occurrences()
            for k, (inject_s, revert_s) in enumerate(occurrences, start=1):
                numbered = len(occurrences) > 1
                rng = random.Random(f"{seed}:{spec.name}" + (f"#{k}" if numbered else ""))
                fault = fault_for(spec)(spec, make_context(rng))
                self.items.append(_Scheduled(spec, fault, inject_s, revert_s, k if numbered else None))
        self.items.sort(key=lambda i: i.inject_at_s)

    def active(self) -> list[str]:
        """Names of faults injected and not yet reverted."""
        return sorted({i.spec.name for i in self.items if i.injected and not i.reverted})  # type: ignore[misc]

    def next_due_s(self) -> float | None:
        """Offset of the next pending inject or revert, or None when all are done."""
        times = [i.inject_at_s for i in self.items if not i.injected] + [
            i.revert_at_s for i in self.items if i.injected and not i.reverted
        ]
        return min(times) if times else None

    def step(self, t0: float) -> None:
        """Perform every inject and revert due at ``clock() - t0``.

        Raises:
            EnvironmentFailure: an inject or revert failed (after journalling it; a failed
                inject is reverted at once, which is safe).
        """
        for item in self.items:
            if item.injected and not item.reverted and self.clock() - t0 >= item.revert_at_s:
                self._act(item, "revert", t0)
        for item in self.items:
            if not item.injected and self.clock() - t0 >= item.inject_at_s:
                self._act(item, "inject", t0)

    def _act(self, item: _Scheduled, action: str, t0: float) -> None:
        spec = item.spec
        if action == "inject" and self.ledger is not None:
            self.ledger.record("inside_run", what=f"fault {spec.name} ({spec.kind}) injected")
        started = self.clock()
        try:
            touched = item.fault.inject() if action == "inject" else item.fault.revert()
        except EnvironmentFailure as exc:
            self.journal.record(f"fault.{action}_failed", t=started, fault=spec.name, kind=spec.kind,
                                occurrence=item.occurrence, offset_s=round(started - t0, 3), touched=[],
                                error=str(exc))
            if action == "inject":
                item.injected = True
                self._revert_quietly(item, t0)
            raise
        if action == "inject":
            item.injected = True
        else:
            item.reverted = True
        self.journal.record(f"fault.{action}", t=started, fault=spec.name, kind=spec.kind,
                            occurrence=item.occurrence, offset_s=round(started - t0, 3), touched=touched,
                            took_ms=round((self.clock() - started) * 1000, 1))

    def _revert_quietly(self, item: _Scheduled, t0: float) -> None:
        try:
            self._act(item, "revert", t0)
        except EnvironmentFailure:
            pass

    def revert_all(self, t0: float) -> None:
        """Revert every fault still injected (teardown path; never raises, failures journalled)."""
        for item in self.items:
            if item.injected and not item.reverted:
                self._revert_quietly(item, t0)
