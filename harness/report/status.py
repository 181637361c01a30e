"""Every status rule, in one place: a run's status (:func:`decide_status`) and, for ``harness run
--repeat N --quorum K``, the aggregate's (:func:`decide_aggregate_status`).

Pure functions of what the analysis found; they read no file. ``docs/reports.md`` ("Statuses and
the evidence behind them") lists the same rules for users.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.analysis.fault_effect import FaultEffect
    from harness.checks import ExpectationResult
    from harness.report.model import SteadyStateReport

NO_RUN_END = "the run ended without a run.end record"
"""The error of a run whose journal has no ``run.end`` (the harness was killed)."""

PASSING = ("passed", "measured")
"""Statuses of a repeat that count towards the quorum."""
FAILING = ("failed", "aborted")
"""Statuses of a repeat that count against it (an expectation failed, an abort tripped)."""


def decide_status(ended: str | None, error: str | None, *, measure: bool = False,
                  results: Sequence[ExpectationResult] = (), steady: SteadyStateReport | None = None,
                  effects: Sequence[FaultEffect] = (), lost: str | None = None, unbuilt: str | None = None,
                  strict: bool = False) -> tuple[str, str | None]:
    """Every status rule of a run, in order; returns ``(status, error)``.

    Args:
        ended, error: ``run.end``'s status (``completed``, ``error``, ``interrupted``,
            ``aborted``; None: the journal has no ``run.end``) and its error.
        measure: the scenario is a measurement (``mode: measure``).
        results: the expectations' verdicts; ``steady``: the steady-state verdicts (None: not
            judged); ``effects``: whether each fault occurrence acted.
        lost: why the request records cannot be trusted (:func:`harness.report.build.record_loss`).
        unbuilt: why the report could not be built (the minimal report's case).
        strict: ``inconclusive`` becomes ``failed`` (the reason says so).

    Rules:

    1. the report could not be built (``unbuilt``): ``error``, but ``interrupted`` and
       ``aborted`` are kept, so that the exit code still says so; the error names the failure
       after the run's own;
    2. no ``run.end`` in the journal: ``error``;
    3. a run cut short keeps what ``run.end`` said: ``error``, ``interrupted``, ``aborted``;
    4. ``error``: request records were lost;
    5. ``inconclusive``: a stated steady state did not hold on the baseline (nothing to compare with);
    6. ``measured``: the scenario is a measurement: nothing is judged;
    7. ``failed``: an expectation failed, or a stated steady state failed at the end;
    8. ``inconclusive``: an expectation could not be judged, or a fault never took effect;
    9. ``passed``: every expectation held on evidence.
    """
    if unbuilt is not None:
        status = ended if ended in ("interrupted", "aborted") else "error"
        return status, "; ".join(filter(None, [error, f"the report could not be built: {unbuilt}"]))
    if ended is None:
        return "error", NO_RUN_END
    if ended != "completed":
        return ended, error
    if lost:
        return "error", lost
    if steady is not None and any(not r.held for r in steady.at_start):
        failed = "; ".join(r.explanation for r in steady.at_start if not r.held)
        return _strict("inconclusive", f"the steady-state hypothesis did not hold on the baseline: {failed}", strict)
    if measure:
        return "measured", None
    judged = [*results, *(steady.at_end if steady and not steady.derived else [])]
    if any(not r.held and not r.inconclusive for r in judged):
        return "failed", None
    unproven = [f"{r.name}: {r.explanation}" for r in judged if r.inconclusive]
    unproven += [f"fault {e.window} never took effect: {e.evidence}" for e in effects if not e.seen]
    if unproven:
        return _strict("inconclusive", "; ".join(unproven), strict)
    return "passed", None


def _strict(status: str, reason: str, strict: bool) -> tuple[str, str]:
    return ("failed", f"strict: inconclusive counts as failed: {reason}") if strict else (status, reason)


def decide_aggregate_status(statuses: Sequence[str], repeat: int, quorum: int) -> tuple[str, str]:
    """The status of ``repeat`` repeats of which ``statuses`` ran (in order; fewer means the rest
    never ran), against a ``quorum``; returns ``(status, reason)``.

    Rules, in order:

    1. ``interrupted``: a repeat was interrupted, or not every repeat ran;
    2. ``passed``: at least ``quorum`` repeats passed (``passed`` or ``measured``);
    3. ``failed``: the repeats that failed (``failed`` or ``aborted``) put the quorum out of
       reach: more than ``repeat - quorum`` of them;
    4. ``error`` if a repeat ended in an error, else ``inconclusive``: the quorum was missed only
       because some repeats proved nothing either way, so neither does the aggregate.
    """
    passed = sum(1 for s in statuses if s in PASSING)
    failed = sum(1 for s in statuses if s in FAILING)
    if "interrupted" in statuses or len(statuses) < repeat:
        return "interrupted", f"interrupted after {len(statuses)} of {repeat} repeats"
    if passed >= quorum:
        return "passed", f"{passed} of {repeat} repeats passed (quorum {quorum})"
    if failed > repeat - quorum:
        return "failed", (f"{passed} of {repeat} repeats passed, quorum {quorum}: {failed} failed, "
                          f"so the quorum was out of reach")
    status = "error" if "error" in statuses else "inconclusive"
    return status, (f"{passed} of {repeat} repeats passed, quorum {quorum}: {repeat - passed - failed} repeats that "
                    "proved nothing (inconclusive or error) decide nothing")


def decide_sweep_status(statuses: Sequence[str], planned: int) -> tuple[str, str]:
    """The status of a grid sweep whose cells ended with ``statuses`` (in order) out of
    ``planned`` cells; returns ``(status, reason)``. As ``harness run`` reads one run:

    1. ``interrupted``: a cell was interrupted, or not every cell ran;
    2. ``failed``: a cell failed or was aborted (an expectation broke somewhere in the grid);
    3. ``error``: a cell ended in an error (nothing failed, but a cell proved nothing);
    4. ``inconclusive``: a cell was inconclusive;
    5. ``passed``: every cell passed (or measured).
    """
    count = {s: sum(1 for x in statuses if x == s) for s in set(statuses)}
    failed = sum(count.get(s, 0) for s in FAILING)
    if "interrupted" in count or len(statuses) < planned:
        return "interrupted", f"interrupted after {len(statuses)} of {planned} cells"
    if failed:
        return "failed", f"{failed} of {planned} cells failed"
    if "error" in count:
        return "error", f"{count['error']} of {planned} cells ended in an error"
    if "inconclusive" in count:
        return "inconclusive", f"{count['inconclusive']} of {planned} cells were inconclusive"
    return "passed", f"all {planned} cells passed"
