"""Collect the matrix's cells: for each tagged scenario, its newest report, or a new run.

The policy (``harness matrix``'s ``--run`` / ``--no-run``):

- ``missing`` (default): read the newest existing report of each scenario
  (:func:`harness.matrix.reports.newest_report`); run the scenario only when it has none;
- ``always``: run every scenario (``--run``);
- ``never``: never run (``--no-run``); a scenario without a report is a ``not run`` cell.

A run is :func:`harness.run.execute`, the same as ``harness run``, into
``REPORTS/<run id>/`` (so the next matrix finds it). A run whose preflight refuses it (a bad
compose reference, an unwritable directory) or that fails in the harness itself becomes a
``not run`` cell with status ``error`` and its one-line reason, and the next scenario runs;
Ctrl-C (a run that ends ``interrupted``, or a KeyboardInterrupt between runs) stops the runs,
and the cells done so far, plus the rest read from reports, are drawn.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal

from harness.errors import HarnessError
from harness.matrix.reports import ReportIndex, index_reports, newest_report
from harness.matrix.scenarios import Tagged
from harness.report import Report
from harness.report.matrix import Matrix, MatrixCell, assemble, blank_cell, report_cell
from harness.report.repeat import now_iso
from harness.run.orchestrate import RunResult
from harness.run.orchestrate import execute as run_once
from harness.run.prepare import new_run_id

if TYPE_CHECKING:
    from rich.console import Console

RunPolicy = Literal["missing", "always", "never"]
"""When a scenario is run (see the module docstring)."""

DEFAULT_MAX_AGE_S = 7 * 86_400.0
"""A report older than this (7 days) makes a stale cell, unless ``--max-age`` says otherwise."""


@dataclass(frozen=True)
class MatrixSettings:
    """Where and how: ``reports_dir`` (read, and where runs go), ``out_dir`` (where the matrix
    files go: its links are relative to it), ``policy``, ``max_age_s`` (seconds), and the
    ``scenario_dir`` as given (recorded in matrix.json)."""

    scenario_dir: Path
    reports_dir: Path
    out_dir: Path
    policy: RunPolicy = "missing"
    max_age_s: float = DEFAULT_MAX_AGE_S


def default_out_dir(reports_dir: Path) -> Path:
    """Where the matrix files go without ``--out``: ``REPORTS/matrix-<run id>``
    (``matrix-20260101t120000z-1a2b3c``: sortable, one directory per matrix drawn, no report.json
    in it, so the next matrix does not read it as a run)."""
    return reports_dir / f"matrix-{new_run_id()}"


Progress = Callable[[str], None]
"""Receives one line per step (``scenario k of n: NAME: running``); the CLI prints them on stderr."""


def collect_matrix(tagged: list[Tagged], settings: MatrixSettings, console: Console | None = None,
                   progress: Progress | None = None, execute: Callable[..., RunResult] | None = None,
                   clock: Callable[[], float] = time.time) -> tuple[Matrix, list[str]]:
    """The matrix of ``tagged`` (see the module docstring), and the notes worth telling the user
    (damaged report files skipped: one line each). ``execute`` is :func:`harness.run.execute`
    (injectable for tests); ``console`` receives each run's live status; ``clock`` gives the
    matrix's time in seconds since the epoch (ages are measured from it)."""
    index = index_reports(settings.reports_dir)
    found = {t.place.path: newest_report(index, t.loaded) for t in tagged}
    to_run = [t for t in tagged if settings.policy == "always" or (settings.policy == "missing"
                                                                     and found[t.place.path] is None)]
    ran, interrupted = _run_all(to_run, settings, console, progress or (lambda line: None), execute or run_once)
    now_s = clock()
    cells: list[MatrixCell] = []
    for t in tagged:
        outcome = ran.get(t.place.path)
        if isinstance(outcome, str):
            cells.append(blank_cell(t.place, outcome))
        elif outcome is not None:
            cells.append(report_cell(t.place, outcome[0], outcome[1], settings.out_dir, now_s, settings.max_age_s,
                                     ran=True))
        elif found[t.place.path] is not None:
            report, run_dir = found[t.place.path]
            cells.append(report_cell(t.place, report, run_dir, settings.out_dir, now_s, settings.max_age_s))
        else:
            cells.append(blank_cell(t.place))
    matrix = assemble(cells, str(settings.scenario_dir), str(settings.reports_dir),
                      now_iso(), settings.max_age_s, interrupted)
    return matrix, _notes(index)


def _run_all(to_run: list[Tagged], settings: MatrixSettings, console: Console | None, progress: Progress,
             execute: Callable[..., RunResult]) -> tuple[dict[str, tuple[Report, Path] | str], bool]:
    """Run each of ``to_run`` in order into ``REPORTS/<run id>``; return, by scenario path, its
    ``(report, run directory)`` or the one-line reason it could not run, and whether Ctrl-C
    stopped the runs."""
    ran: dict[str, tuple[Report, Path] | str] = {}
    for k, t in enumerate(to_run, start=1):
        where = f"scenario {k} of {len(to_run)}: {t.place.name} ({t.place.dependency} x {t.place.failure_mode})"
        progress(f"{where}: running")
        try:
            result = execute(t.loaded, out_dir=settings.reports_dir / new_run_id(), console=console)
        except KeyboardInterrupt:
            progress(f"{where}: interrupted")
            return ran, True
        except HarnessError as exc:
            lines = getattr(exc, "problems", None) or [str(exc)]
            ran[t.place.path] = "; ".join(lines)
            progress(f"{where}: could not run: {ran[t.place.path]}")
            continue
        except Exception as exc:  # noqa: BLE001 - a harness bug costs one cell, not the matrix
            ran[t.place.path] = f"internal error: {type(exc).__name__}: {exc}"
            progress(f"{where}: {ran[t.place.path]}")
            continue
        ran[t.place.path] = (result.report, result.run_dir)
        progress(f"{where}: {result.report.status} ({result.run_dir})")
        if result.report.status == "interrupted":
            return ran, True
    return ran, False


def _notes(index: ReportIndex) -> list[str]:
    """What the user should hear about the reports directory: each damaged report.json skipped."""
    return [f"skipped: {line}" for line in dict.fromkeys(index.skipped)]
