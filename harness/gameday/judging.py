"""What a game day's report judges: the faults the operator injected, and the expectations on
the windows they made.

A scenario's expectations on ``fault:NAME`` / ``recovery:NAME`` of a declared fault that was
never injected are left out (the operator chose not to play it: its windows do not exist),
and listed as not judged (``gameday.end``'s ``unjudged``, echoed at the end). When no fault was
injected at all, or when leaving them out would leave nothing to judge, every expectation stays
(and the run is inconclusive, not passed): a game day in which nothing acted cannot pass on its
baseline alone.
"""

from __future__ import annotations

import dataclasses

from harness.scenario import LoadedScenario
from harness.scenario.faults import FaultSpec
from harness.scenario.models import Scenario


def unjudged(scenario: Scenario, injected: list[FaultSpec]) -> list[str]:
    """Labels of the expectations the game day does not judge, each with why, e.g.
    ``few errors while a replica is down (window fault:api-replica-killed: never injected)``."""
    return [f"{exp.label} (window {exp.window}: never injected)" for exp in _skipped(scenario, injected)]


def judged_scenario(loaded: LoadedScenario, injected: list[FaultSpec]) -> LoadedScenario:
    """``loaded`` with the scenario its report builds on: ``faults`` the ``injected`` ones
    (declared or ad hoc, as injected: without a schedule), ``expectations`` without the
    :func:`unjudged` ones. Not validated again (the faults' schedules no longer apply)."""
    scenario = loaded.scenario
    skipped = _skipped(scenario, injected)
    kept = [exp for exp in scenario.expectations if all(exp is not s for s in skipped)]
    judged = scenario.model_copy(update={"faults": list(injected), "expectations": kept})
    return dataclasses.replace(loaded, scenario=judged)


def _skipped(scenario: Scenario, injected: list[FaultSpec]) -> list:
    """The expectations on windows of declared faults never injected ([] when nothing was
    injected, or when that is all of them)."""
    if not injected:
        return []
    names = {spec.name for spec in injected}
    declared = {f.name for f in scenario.faults}
    skipped = []
    for exp in scenario.expectations:
        kind, _, name = exp.window.partition(":")
        if kind in ("fault", "recovery") and name in declared and name not in names:
            skipped.append(exp)
    return [] if len(skipped) == len(scenario.expectations) else skipped
