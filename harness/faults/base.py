"""The fault contract every kind implements: ``validate -> inject -> revert``.

A kind is two modules of the same name, one per layer (the shape of Toxiproxy's ``toxics/``):

- its *spec*, in :mod:`harness.scenario.faults` (a frozen pydantic model, subclass of
  :class:`~harness.scenario.faults.FaultSpec`, with the parameters and units in their names);
  a scenario is read and validated with specs alone;
- its *fault*, here (subclass of :class:`Fault`), built from the spec and a
  :class:`~harness.faults.context.FaultContext`, with ``inject()`` and ``revert()``.
  ``revert()`` is idempotent and safe after a failed or partial ``inject()``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from harness.faults.context import FaultContext
from harness.scenario.faults import FaultSpec


class Fault(ABC):
    """One injected fault. Built per run from its spec; holds what it changed so it can revert.

    Subclasses set ``spec_type`` to their spec class and implement :meth:`inject` and
    :meth:`revert`. Both return the names of what they touched (containers or ``proxy/toxic``),
    which the journal records. Both raise :class:`harness.errors.EnvironmentFailure` when Docker or
    Toxiproxy fails.
    """

    spec_type: ClassVar[type[FaultSpec]]

    def __init__(self, spec: FaultSpec, ctx: FaultContext):
        self.spec = spec
        self.ctx = ctx

    @abstractmethod
    def inject(self) -> list[str]:
        """Apply the fault; return what was touched."""

    @abstractmethod
    def revert(self) -> list[str]:
        """Undo the fault; idempotent, safe after a failed inject; return what was restored."""

    def effect_counters(self) -> dict[str, float]:
        """What the fault measured of its own effect while in place, read right before the
        revert and journalled with it (``fault.revert`` field ``effect``): e.g.
        ``{"matched_packets": 1234}`` for iptables rules. Names carry their unit; values are
        numbers. Default: nothing measured (``{}``). Never raises: a failed read gives ``{}``."""
        return {}


__all__ = ["Fault"]
