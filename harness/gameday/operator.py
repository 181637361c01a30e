"""The operator's timeline: faults injected and reverted on command, not on a schedule.

:class:`OperatorTimeline` is a :class:`~harness.run.timeline.Timeline` whose items are added
as the operator types ``inject``: the same injectors, the same :class:`FaultContext`, the same
worker threads, ledger lines and journal events (``fault.injecting``, ``fault.inject``,
``fault.revert``, ``..._failed``), so the analysis slices ``fault:NAME`` and
``recovery:NAME`` windows from them unchanged. An inject's revert is due "never" until the
operator types ``revert NAME`` (or the game ends: the teardown's ``revert_all`` reverts
whatever is still active, as for a run).

A fault injected again after its revert is a new occurrence: its events carry
``occurrence`` 2, 3... and its windows are ``fault:NAME#2``... (the selector ``fault:NAME``
of an expectation judges them all). A declared fault keeps its parameters but not its
schedule (``at_s``, ``duration_s``, ``every_s``/``until_s`` are ignored: it lasts from inject
to revert).

A failed inject is journalled (``fault.inject_failed``), reverted at once and told to the
operator; the game goes on. A failed revert ends the game day with an error (the stack is in
a state nobody chose), as it ends a run.
"""

from __future__ import annotations

import math
import queue
import random
from dataclasses import dataclass
from functools import cache
from typing import Callable

from pydantic import TypeAdapter, ValidationError

from harness.environment.ledger import Ledger
from harness.faults import fault_for
from harness.faults.host_needs import host_problems
from harness.gameday.commands import CommandError
from harness.journal import Journal
from harness.run.parts import ContextFactory
from harness.run.preflight import service_ref_problem
from harness.run.timeline import Scheduled, Timeline
from harness.scenario.faults import FaultSpec, fault_kinds
from harness.scenario.models import FaultEntry, Scenario

SCHEDULE_FIELDS = ("at_s", "duration_s", "every_s", "until_s")
"""A scenario fault's schedule: a game day ignores it (a fault lasts from inject to revert)."""



@cache
def _fault_adapter() -> TypeAdapter:
    """Validates one ``faults:`` entry (built on first use: nothing runs at import)."""
    return TypeAdapter(FaultEntry)


@dataclass(frozen=True)
class Outcome:
    """What an inject or revert call did, for the operator's echo: the fault's ``label``
    (``name`` or ``name#k``), ``action`` (``inject`` / ``revert``), ``ok``, what it
    ``touched`` (or the ``error``, one line), ``t`` (epoch s, when the call started) and
    ``took_ms``."""

    label: str
    action: str
    ok: bool
    touched: tuple[str, ...]
    error: str
    t: float
    took_ms: float


class OperatorTimeline(Timeline):
    """Faults on command (see the module docstring).

    Args:
        scenario: the validated scenario: its ``faults`` are the names ``inject NAME`` may
            use; its proxies, target and load bound the ad-hoc ones.
        services: the compose project's services (an ad-hoc fault may name only these).
        make_context, journal, seed, clock, ledger: as :class:`Timeline`.
    """

    def __init__(self, scenario: Scenario, services: set[str], make_context: ContextFactory, journal: Journal,
                 seed: int, clock: Callable[[], float], ledger: Ledger | None = None):
        super().__init__([], make_context, journal, seed, clock, ledger)
        self.scenario = scenario
        self.services = services
        self.declared: dict[str, FaultSpec] = {f.name: _unscheduled(f, scenario) for f in scenario.faults}
        self.ad_hoc: dict[str, FaultSpec] = {}
        self.outcomes: queue.Queue[Outcome] = queue.Queue()
        self._make_context = make_context
        self._seed = seed

    # -- the operator's side (main thread) ---------------------------------------------------

    def spec_for(self, name: str, params: dict[str, object]) -> FaultSpec:
        """The spec ``inject NAME`` (no ``params``) or ``inject KIND key=value...`` names,
        validated like a scenario's fault (its kind's model, declared proxies, compose
        services, the host's needs). An ad-hoc fault is named by ``name=`` or ``KIND-N``.

        Raises:
            CommandError: unknown name or kind, invalid parameters, a schedule field, a name
                already used by another fault; one line.
        """
        if not params:
            if name in self.declared:
                return self.declared[name]
            if name in self.ad_hoc:
                return self.ad_hoc[name]
            known = ", ".join(sorted(self.declared)) or "none declared"
            raise CommandError(f"no fault named {name!r} (declared: {known}); ad hoc: inject KIND key=value...")
        if name in self.declared:
            raise CommandError(f"{name!r} is a declared fault: inject {name} (its parameters are the scenario's)")
        return self._ad_hoc(name, params)

    def _ad_hoc(self, kind: str, params: dict[str, object]) -> FaultSpec:
        """Validate ``inject KIND key=value...``. Raises CommandError (one line)."""
        if kind not in fault_kinds():
            raise CommandError(f"unknown fault kind {kind!r} (kinds: {', '.join(fault_kinds())})")
        scheduled = [key for key in SCHEDULE_FIELDS if key in params]
        if scheduled:
            raise CommandError(f"inject {kind}: {', '.join(scheduled)}: a game day's fault lasts from inject to revert")
        name = params.get("name")
        if name is None:
            name = next(f"{kind}-{n}" for n in range(1, 10_000) if f"{kind}-{n}" not in self._names())
        data = {**params, "kind": kind, "name": str(name), "at_s": 0, "duration_s": _hold_s(self.scenario)}
        try:
            spec = _fault_adapter().validate_python(data)
        except ValidationError as exc:
            raise CommandError(f"inject {kind}: {_one_line(exc)}") from None
        problems = [f"unknown proxy {ref!r} (proxies: {', '.join(sorted(p.name for p in self.scenario.proxies)) or 'none'})"
                    for ref in spec.proxy_refs() if ref not in {p.name for p in self.scenario.proxies}]
        problems += [m for ref in spec.service_refs() if (m := service_ref_problem(self.scenario, ref, self.services))]
        problems += [m for _i, m in host_problems([spec])]
        if spec.name in self.declared or (spec.name in self.ad_hoc and self.ad_hoc[spec.name] != spec):
            problems.append(f"the name {spec.name!r} is taken by another fault; give name=...")
        if problems:
            raise CommandError(f"inject {kind}: {'; '.join(problems)}")
        return spec

    def inject(self, spec: FaultSpec, t0: float) -> str:
        """Start injecting ``spec`` now (in a worker thread; its end comes as an
        :class:`Outcome` on :attr:`outcomes`); returns its label (``name`` or ``name#k``).

        Raises:
            CommandError: a fault of that name is active (or its inject or revert is in
                flight); nothing was changed.
        """
        if spec.name in self.active() or any(i.busy for i in self.items if i.spec.name == spec.name):
            raise CommandError(f"{spec.name} is active already (revert {spec.name} first)")
        if spec.name not in self.declared:
            self.ad_hoc[spec.name] = spec  # type: ignore[index]
        k = 1 + sum(1 for i in self.items if i.spec.name == spec.name)
        rng = random.Random(f"{self._seed}:{spec.name}" + (f"#{k}" if k > 1 else ""))
        fault = fault_for(spec)(spec, self._make_context(rng))
        # due a millisecond ago, so that step() starts it whatever the clock reads next
        item = Scheduled(spec, fault, self.clock() - t0 - 0.001, math.inf, k if k > 1 else None)
        self.items.append(item)
        self.step(t0)
        return item.label

    def revert(self, name: str, t0: float) -> str:
        """Start reverting the active fault ``name`` now (in a worker thread); returns its
        label.

        Raises:
            CommandError: no fault of that name is active, or its inject is still in flight
                (revert again once it landed); nothing was changed.
        """
        items = [i for i in self.items if i.spec.name == name and i.injected and not i.reverted]
        if not items:
            active = ", ".join(self.active()) or "none"
            raise CommandError(f"{name} is not active (active: {active})")
        item = items[-1]
        if item.revert_started:
            raise CommandError(f"{item.label} is being reverted already")
        if item.busy:
            raise CommandError(f"{item.label} is still being injected; revert it once that ended")
        item.revert_at_s = self.clock() - t0 - 0.001  # due now (see inject)
        self.step(t0)
        return item.label

    def injected_specs(self) -> list[FaultSpec]:
        """Every fault injected during the game (declared or ad hoc, once each, in the order
        of their first inject): the faults the report judges."""
        seen: dict[str, FaultSpec] = {}
        for item in self.items:
            seen.setdefault(item.spec.name, item.spec)  # type: ignore[arg-type]
        return list(seen.values())

    def _names(self) -> set[str]:
        return set(self.declared) | set(self.ad_hoc)

    def _raise_failure(self) -> None:
        """A failed inject was journalled, reverted and told: the game goes on. A failed
        revert is raised (by :meth:`step`), as in a run."""
        for item in self.items:
            if item.failure is not None and not item.busy and not item.revert_started:
                item.failure = None
        super()._raise_failure()

    # -- the workers' side ---------------------------------------------------------------------

    def _call(self, item: Scheduled, action: str, t0: float) -> list[str]:
        started = self.clock()
        try:
            touched = super()._call(item, action, t0)
        except Exception as exc:
            self.outcomes.put(Outcome(item.label, action, False, (), _one_line(exc), started,
                                      round((self.clock() - started) * 1000, 1)))
            raise
        self.outcomes.put(Outcome(item.label, action, True, tuple(touched), "", started,
                                  round((self.clock() - started) * 1000, 1)))
        return touched


def _unscheduled(spec: FaultSpec, scenario: Scenario) -> FaultSpec:
    """A declared fault without its schedule: one occurrence from inject to revert."""
    return spec.model_copy(update={"at_s": 0.0, "duration_s": _hold_s(scenario), "every_s": None, "until_s": None})


def _hold_s(scenario: Scenario) -> float:
    """The ``duration_s`` a game day's fault carries (the load's cap: it may last the game)."""
    return min(float(scenario.load.duration_s), 86_400.0)


def _one_line(exc: Exception) -> str:
    """An exception's message on one line: a pydantic error as ``field: message; ...``."""
    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors():
            loc = ".".join(str(p) for p in error["loc"][1:] or error["loc"])  # [0] is the kind's tag
            parts.append(f"{loc}: {error['msg']}" if loc else error["msg"])
        return "; ".join(parts)
    return " ".join(str(exc).split())
