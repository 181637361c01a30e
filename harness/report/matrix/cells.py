"""A matrix cell from a report (or from nothing), and the matrix from its cells: pure functions of
the report model, the scenario's tag and the clock."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from harness.checks import ExpectationResult
from harness.report.matrix.model import VERDICT_OF_STATUS, Matrix, MatrixCell, decide_matrix_status
from harness.report.model import Report
from harness.scenario.matrix import FAILURE_MODES


@dataclass(frozen=True)
class CellPlace:
    """What the scenario file says about its cell: ``dependency`` and ``failure_mode`` (the
    place), ``key`` (the key expectation's name, None: the default), the scenario's ``name``,
    its ``path`` as found, and the ``sha256`` of the file now (to tell a report of an older
    version of it)."""

    dependency: str
    failure_mode: str
    key: str | None
    name: str
    path: str
    sha256: str


def key_result(report: Report, key: str | None) -> ExpectationResult | None:
    """The verdict whose observed value is the cell's key number: the one named ``key`` (or its
    first window's, ``key [window]``, when it judged several), else the first judged in a fault
    window, else the first; None when the report judged nothing (or nothing of that name)."""
    results = report.expectations
    if key is not None:
        return next((e for e in results if e.name == key or e.name.startswith(key + " [")), None)
    return next((e for e in results if e.window.startswith("fault")), results[0] if results else None)


def parse_utc(text: str) -> float | None:
    """Seconds since the epoch of an ISO-8601 UTC time as the reports write it
    (``2026-01-01T00:00:00.000Z``); None when it cannot be read."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def report_cell(place: CellPlace, report: Report, report_dir: Path, out_dir: Path, now_s: float,
                max_age_s: float, ran: bool = False) -> MatrixCell:
    """The cell of ``place`` from its ``report`` (read from, or written to, ``report_dir``).

    ``now_s`` is the matrix's time (seconds since the epoch); the cell is stale when the report
    ended more than ``max_age_s`` seconds before it, or was made from a different version of the
    scenario file (its sha256). The link is report.html's path relative to ``out_dir``."""
    result = key_result(report, place.key)
    ended_s = parse_utc(report.ended_at)
    age_s = round(now_s - ended_s, 1) if ended_s is not None else None
    stale_reason = None
    if age_s is None:
        stale_reason = f"its end time {report.ended_at!r} cannot be read"
    elif age_s > max_age_s:
        stale_reason = f"{describe_age(age_s)} old (more than {describe_age(max_age_s)})"
    elif report.scenario.sha256 and place.sha256 and report.scenario.sha256 != place.sha256:
        stale_reason = "the scenario file changed since this run"
    return MatrixCell(
        dependency=place.dependency, failure_mode=place.failure_mode, scenario=place.name, scenario_path=place.path,
        verdict=VERDICT_OF_STATUS.get(report.status, "inconclusive"), status=report.status, error=report.error,
        key=result.name if result else place.key, metric=result.metric if result else None,
        observed=result.observed if result else None, threshold=result.threshold if result else None,
        operator=result.operator if result else None,
        report=Path(os.path.relpath(report_dir / "report.html", out_dir)).as_posix(), run_id=report.run_id,
        ended_at=report.ended_at, age_s=age_s, stale=stale_reason is not None, stale_reason=stale_reason, ran=ran)


def blank_cell(place: CellPlace, error: str | None = None) -> MatrixCell:
    """The cell of a scenario with no report: ``not run``; with ``error`` (its run could not
    start: one line), status ``error``."""
    return MatrixCell(dependency=place.dependency, failure_mode=place.failure_mode, scenario=place.name,
                      scenario_path=place.path, verdict="not run", status="error" if error else None, error=error,
                      key=place.key)


def describe_age(age_s: float) -> str:
    """An age for people: ``45 s``, ``12 min``, ``5.5 h``, ``3.2 d`` (one unit, at most one
    decimal)."""
    for unit, size_s in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if age_s >= size_s:
            return f"{age_s / size_s:.1f}".removesuffix(".0") + f" {unit}"
    return f"{age_s:.0f} s"


def assemble(cells: list[MatrixCell], scenario_dir: str, reports_dir: str, generated_at: str, max_age_s: float,
             interrupted: bool = False) -> Matrix:
    """The matrix of ``cells``: rows sorted by dependency, columns in the order of
    :data:`~harness.scenario.matrix.FAILURE_MODES` (a mode outside it, from a newer vocabulary,
    comes last), the status from :func:`~harness.report.matrix.model.decide_matrix_status`."""
    order = {mode: i for i, mode in enumerate(FAILURE_MODES)}
    modes = sorted({c.failure_mode for c in cells}, key=lambda m: (order.get(m, len(order)), m))
    status, reason = decide_matrix_status(cells, interrupted)
    return Matrix(scenario_dir=scenario_dir, reports_dir=reports_dir, generated_at=generated_at, max_age_s=max_age_s,
                  status=status, reason=reason, dependencies=sorted({c.dependency for c in cells}),
                  failure_modes=modes, cells=cells)
