"""Running a sweep's cells: each cell is a normal run (:func:`harness.run.execute`, or
``--repeat``'s :func:`harness.run.repeat.run_repeated`) into ``OUT/cell-<k>/``, summarised as a
:class:`~harness.report.sweep.SweepCell` from its report.

:class:`CellRunner` owns what the cells share: the output directory, the ``--set`` overrides,
the seed, the console, and the stack when the cells may share one (:mod:`harness.run.shared`).
After every cell the caller rewrites ``sweep.json``, so a sweep cut short still leaves a
complete report of the cells done.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from harness.report.sweep import CellExpectation, SweepCell
from harness.run.shared import SharedStack
from harness.scenario import LoadedScenario

if TYPE_CHECKING:
    from rich.console import Console

    from harness.checks.base import ExpectationResult
    from harness.report import Report
    from harness.run import RunResult

VERDICTS = ("held", "failed", "inconclusive")


def verdict_of(result: ExpectationResult) -> str:
    """``held``, ``failed`` or ``inconclusive`` (an inconclusive verdict never counts as held)."""
    return "held" if result.held else "inconclusive" if result.inconclusive else "failed"


def summarise(reports: list[Report], quorum: int) -> list[CellExpectation]:
    """Per expectation (and window), its verdict across the cell's runs (one, or the repeats):
    held in at least ``quorum`` runs: held; failed in more than ``len(reports) - quorum``:
    failed; else inconclusive. ``observed`` is the median of the runs' observed values."""
    grouped: dict[tuple[str, str], list[ExpectationResult]] = {}
    for report in reports:
        for e in report.expectations:
            grouped.setdefault((e.name, e.window), []).append(e)
    out = []
    for (name, window), results in grouped.items():
        verdicts = [verdict_of(r) for r in results]
        verdict = ("held" if verdicts.count("held") >= quorum
                   else "failed" if verdicts.count("failed") > len(reports) - quorum else "inconclusive")
        observed = [r.observed for r in results if r.observed is not None]
        first = results[0]
        out.append(CellExpectation(name=name, metric=first.metric, window=window,
                                   observed=statistics.median(observed) if observed else None,
                                   threshold=first.threshold, operator=first.operator, verdict=verdict))
    return out


def verdict_for(cell: SweepCell, name: str) -> str:
    """The cell's verdict on the expectation ``name`` over every window it judged: failed if
    failed in one, else inconclusive if inconclusive in one (or never judged), else held; a
    cell ``interrupted`` says ``interrupted``."""
    if cell.status == "interrupted":
        return "interrupted"
    verdicts = [e.verdict for e in cell.expectations if e.name == name]
    if "failed" in verdicts:
        return "failed"
    return "held" if verdicts and all(v == "held" for v in verdicts) else "inconclusive"


@dataclass
class CellRunner:
    """Runs cells into ``out_dir/cell-<k>`` (k from 1, two digits at least).

    ``execute`` is :func:`harness.run.execute` (injectable for tests; it takes ``loaded``,
    ``out_dir``, ``seed``, ``console``, ``strict`` and ``shared``); ``repeat``/``quorum`` run each
    cell that many times (:func:`harness.run.repeat.run_repeated`); ``shared`` is the stack the
    cells share, or None for a stack per cell.
    """

    out_dir: Path
    execute: Callable[..., RunResult]
    seed: int | None = None
    console: Console | None = None
    strict: bool = False
    repeat: int = 1
    quorum: int = 1
    shared: SharedStack | None = None
    cells: list[SweepCell] = field(default_factory=list)

    def run(self, loaded: LoadedScenario, values: dict[str, object]) -> SweepCell:
        """Run one cell (``loaded``, the scenario at ``values``) and append its summary to
        :attr:`cells`. A KeyboardInterrupt between the cell's repeats ends the cell
        ``interrupted``.

        Raises:
            ScenarioError, OutputDirError: the cell's preflight failed (nothing started).
        """
        index = len(self.cells) + 1
        name = f"cell-{index:02d}"
        started = time.monotonic()
        if self.seed is None:
            self.seed = loaded.scenario.seed
        reports = self._reports(loaded, self.out_dir / name)
        if self.seed is None and reports:  # the first cell drew one: keep it for the others
            self.seed = reports[0].seed
        status, error = self._status(reports)
        cell = SweepCell(index=index, values=values, status=status, error=error, dir=name,
                         run_id=reports[0].run_id if reports else None,
                         duration_s=round(time.monotonic() - started, 3),
                         expectations=summarise(reports, min(self.quorum, len(reports))) if reports else [])
        self.cells.append(cell)
        return cell

    def _reports(self, loaded: LoadedScenario, out: Path) -> list[Report]:
        if self.repeat == 1:
            result = self.execute(loaded, out_dir=out, seed=self.seed, console=self.console, strict=self.strict,
                                  shared=self.shared)
            return [result.report]
        from harness.run.repeat import run_repeated

        reports: list[Report] = []
        try:
            run_repeated(loaded, self.repeat, self.quorum, out_dir=out, seed=self.seed, console=self.console,
                         execute=self._bound_execute, on_result=lambda _i, r: reports.append(r.report),
                         strict=self.strict)
        except KeyboardInterrupt:
            pass
        return reports

    def _bound_execute(self, loaded: LoadedScenario, **kwargs: object) -> RunResult:
        return self.execute(loaded, shared=self.shared, **kwargs)

    def _status(self, reports: list[Report]) -> tuple[str, str | None]:
        """One run: its status. Repeats: the quorum's status (as ``harness run --repeat``)."""
        if not reports:
            return "interrupted", "interrupted before the cell's first run ended"
        if self.repeat == 1:
            return reports[0].status, reports[0].error
        from harness.report.status import decide_aggregate_status

        status, reason = decide_aggregate_status([r.status for r in reports], self.repeat, self.quorum)
        return status, None if status == "passed" else reason
