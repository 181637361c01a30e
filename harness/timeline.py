"""Inject and revert faults at their scheduled offsets from the load's start.

Each step is journalled *before* it is attempted as ``fault.inject``/``fault.revert`` only once
it succeeded (``fault.inject_failed``/``fault.revert_failed`` otherwise), with the UTC time, the
offset and what was touched. Victim choices come from one RNG per fault, seeded with
``"<seed>:<fault name>"``, so a seed reproduces them whatever the order of faults.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

from harness.errors import EnvironmentFailure
from harness.faults import Fault, FaultContext, FaultSpec, fault_for
from harness.journal import Journal


@dataclass
class _Scheduled:
    spec: FaultSpec
    fault: Fault
    injected: bool = False
    reverted: bool = False

    @property
    def revert_at_s(self) -> float:
        return self.spec.at_s + self.spec.duration_s


class Timeline:
    """The run's faults on the clock.

    Args:
        specs: validated fault specs (non-overlapping, named).
        make_context: builds a :class:`FaultContext` given the fault's seeded RNG.
        journal: where every step is recorded.
        seed: the run's seed.
        clock: epoch seconds (injected for tests).
    """

    def __init__(
        self,
        specs: list[FaultSpec],
        make_context: Callable[[random.Random], FaultContext],
        journal: Journal,
        seed: int,
        clock: Callable[[], float],
    ):
        self.journal = journal
        self.clock = clock
        self.items = [
            _Scheduled(spec, fault_for(spec)(spec, make_context(random.Random(f"{seed}:{spec.name}"))))
            for spec in sorted(specs, key=lambda s: s.at_s)
        ]

    def active(self) -> list[str]:
        """Names of faults injected and not yet reverted."""
        return [i.spec.name for i in self.items if i.injected and not i.reverted]  # type: ignore[misc]

    def next_due_s(self) -> float | None:
        """Offset of the next pending inject or revert, or None when all are done."""
        times = [i.spec.at_s for i in self.items if not i.injected] + [
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
            offset = self.clock() - t0
            if not item.injected and offset >= item.spec.at_s:
                self._act(item, "inject", t0)
            offset = self.clock() - t0
            if item.injected and not item.reverted and offset >= item.revert_at_s:
                self._act(item, "revert", t0)

    def _act(self, item: _Scheduled, action: str, t0: float) -> None:
        started = self.clock()
        spec = item.spec
        try:
            touched = item.fault.inject() if action == "inject" else item.fault.revert()
        except EnvironmentFailure as exc:
            self.journal.record(f"fault.{action}_failed", t=started, fault=spec.name, kind=spec.kind,
                                offset_s=round(started - t0, 3), touched=[], error=str(exc))
            if action == "inject":
                item.injected = True
                self._revert_quietly(item, t0)
            raise
        if action == "inject":
            item.injected = True
        else:
            item.reverted = True
        self.journal.record(f"fault.{action}", t=started, fault=spec.name, kind=spec.kind,
                            offset_s=round(started - t0, 3), touched=touched,
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
