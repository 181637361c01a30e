"""``harness sweep``: a grid of cells (:func:`run_grid`) or a bisection to a breaking point
(:func:`run_search`), each cell a normal run, ``sweep.json``/``.md`` rewritten after every cell
and ``sweep.html`` drawn again by an idle child process (:mod:`harness.run.idle_reports`), all
three written in-process at the end (so a Ctrl-C leaves the report of the cells done).

Order: every cell's scenario is validated first (a bad value is exit 2 and nothing starts);
the cells then run in order, on one shared stack when only load and fault parameters vary
(:func:`harness.sweep.grid.can_share_stack`, :mod:`harness.run.shared`) unless ``share`` is
False; the shared stack is taken down at the end whatever happened.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from harness.journal import utc_iso
from harness.report.status import decide_sweep_status
from harness.report.sweep import SearchResult, Sweep, Varied
from harness.run.idle_reports import IdleReports
from harness.run.prepare import DEFAULT_REPORTS_DIR, new_run_id
from harness.run.shared import SharedStack
from harness.run.signals import handle_signals, restore_signals
from harness.scenario import LoadedScenario
from harness.sweep.cells import CellRunner, verdict_for
from harness.sweep.grid import Axis, SearchRange, can_share_stack, grid, load_cell, value_text
from harness.sweep.search import Bracket, bisect

if TYPE_CHECKING:
    from rich.console import Console

    from harness.report.sweep import SweepCell

SEARCH_OUTCOME_STATUS = {"found": "measured", "held_throughout": "measured", "broken_throughout": "measured",
                         "inconclusive": "inconclusive", "interrupted": "interrupted"}
"""A search is a measurement: it ends ``measured`` (exit 0) when it ran to its end, whatever it
found; a step without a verdict makes it inconclusive (``error`` when that step errored)."""


@dataclass
class SweepOptions:
    """What every cell shares: the scenario ``path``, the ``--set`` ``overrides``, the output
    directory (``out_dir``, default ``reports/sweep-<id>``), ``seed``, ``repeat``/``quorum`` per
    cell, ``strict``, ``share`` (allow one stack for every cell), the ``console`` for progress,
    ``execute`` (:func:`harness.run.execute`, injectable), ``write`` (writes sweep.json, .md and
    .html: :func:`harness.report.sweep.write_sweep`, injectable), ``on_start`` (called with the
    cell's index, its values and the planned count as it starts) and ``on_cell`` (called with each
    cell as it ends, and the planned count): the progress lines. A search plans no count (None)."""

    path: Path
    overrides: list[str]
    out_dir: Path | None = None
    seed: int | None = None
    repeat: int = 1
    quorum: int = 1
    strict: bool = False
    share: bool = True
    console: Console | None = None
    execute: Callable[..., object] | None = None
    write: Callable[[Sweep, Path], dict[str, Path]] | None = None
    on_cell: Callable[[SweepCell, int | None], None] | None = None
    on_start: Callable[[int, dict[str, object], int | None], None] | None = None


def _out_dir(options: SweepOptions) -> Path:
    return (options.out_dir or DEFAULT_REPORTS_DIR / f"sweep-{new_run_id()}").resolve()


def _runner(options: SweepOptions, out: Path, shared: SharedStack | None) -> CellRunner:
    execute = options.execute
    if execute is None:
        from harness.run import execute
    return CellRunner(out, execute, seed=options.seed, console=options.console, strict=options.strict,  # type: ignore[arg-type]
                      repeat=options.repeat, quorum=options.quorum, shared=shared)


Writer = Callable[[Sweep, Path], dict[str, Path]]


def _writers(options: SweepOptions, pages: IdleReports) -> tuple[Writer, Writer]:
    """The final writer (every file, in this process) and the one after each cell: an injected
    ``options.write`` for both, else ``sweep.json`` and ``sweep.md`` written at once and
    ``sweep.html`` (its plots) drawn by an idle child (``pages``), so that the next cell need
    not wait for it.

    The report package (pandas, matplotlib: about 0.6 s of imports here) is imported when a
    writer is first called, not now: the first cell's run imports it in its health wait's
    shadow (its report warm-up), where it used to hold up the first cell's start."""
    if options.write is not None:
        return options.write, options.write

    def final(sweep: Sweep, out: Path) -> dict[str, Path]:
        from harness.report.sweep import write_sweep

        return write_sweep(sweep, out)

    def after_cell(sweep: Sweep, out: Path) -> dict[str, Path]:
        from harness.report.sweep import write_sweep

        paths = write_sweep(sweep, out, without=("html",))
        pages.submit(out)
        return paths

    return final, after_cell


def run_grid(options: SweepOptions, axes: list[Axis]) -> tuple[Sweep, dict[str, Path]]:
    """Run every cell of the grid of ``axes`` (first axis slowest); return the sweep and its
    written files.

    Raises:
        ScenarioError: an axis is malformed or a cell's scenario invalid (nothing started).
        OutputDirError: a cell's directory cannot be written (the cells before it are reported).
        harness.report.ReportWriteError: sweep.json could not be written.
    """
    plan = grid(axes)
    loaded = [load_cell(options.path, options.overrides, values) for values in plan]
    typed = {a.path: dict(zip(a.texts, a.values)) for a in axes}
    out, pages = _out_dir(options), IdleReports()
    shared = (SharedStack(out / "stack", pages) if options.share and len(loaded) > 1 and can_share_stack(loaded)
              else None)
    sweep = _new_sweep(options, loaded[0], [Varied(path=a.path, values=list(a.values)) for a in axes], "grid", shared)
    runner, (write, after_cell) = _runner(options, out, shared), _writers(options, pages)
    previous = handle_signals(_interrupt)
    try:
        for index, (cell_scenario, values) in enumerate(zip(loaded, plan)):
            typed_values = {p: typed[p][t] for p, t in values.items()}
            _announce(options, len(runner.cells) + 1, typed_values, len(plan))
            if shared is not None:  # no load child is spawned ahead for the last run
                shared.more_runs = index < len(plan) - 1 or options.repeat > 1
            cell = runner.run(cell_scenario, typed_values)
            _record(sweep, runner, after_cell, out, options, len(plan))
            if cell.status == "interrupted":
                break
    except KeyboardInterrupt:
        pass
    finally:
        _close(shared, previous, pages, out)
    sweep.status, sweep.reason = decide_sweep_status([c.status for c in runner.cells], len(plan))  # type: ignore[assignment]
    return sweep, _finish(sweep, write, out)


def run_search(options: SweepOptions, search: SearchRange, expectation: str,
               tolerance: float) -> tuple[Sweep, dict[str, Path]]:
    """Bisect ``search``'s parameter to the breaking point of ``expectation`` (within the
    relative ``tolerance``; :func:`harness.sweep.search.bisect`), a cell per probe; return the
    sweep (with its :class:`~harness.report.sweep.SearchResult`) and its files.

    Raises:
        ScenarioError: either end of the range makes the scenario invalid, or the scenario has
            no expectation called ``expectation`` (nothing started).
        OutputDirError, harness.report.ReportWriteError: as :func:`run_grid`.
    """
    ends = [load_cell(options.path, options.overrides, {search.path: value_text(v, search.integer)})
            for v in (search.lo, search.hi)]
    _check_expectation(ends[0], expectation)
    out, pages = _out_dir(options), IdleReports()
    shared = SharedStack(out / "stack", pages) if options.share and can_share_stack(ends) else None
    sweep = _new_sweep(options, ends[0], [Varied(path=search.path, values=[search.lo, search.hi])], "search", shared)
    runner, (write, after_cell) = _runner(options, out, shared), _writers(options, pages)

    def probe(value: float) -> str:
        text = value_text(value, search.integer)
        loaded = load_cell(options.path, options.overrides, {search.path: text})
        values = {search.path: int(text) if search.integer else float(text)}
        _announce(options, len(runner.cells) + 1, values, None)
        cell = runner.run(loaded, values)
        _record(sweep, runner, after_cell, out, options, None)
        return verdict_for(cell, expectation)

    bracket = Bracket(outcome="interrupted")
    previous = handle_signals(_interrupt)
    try:
        bracket = bisect(search, probe, tolerance)  # type: ignore[arg-type]
    except KeyboardInterrupt:
        pass
    finally:
        _close(shared, previous, pages, out)
    sweep.search = _search_result(search, expectation, tolerance, bracket)
    sweep.status, sweep.reason = _search_status(sweep.search, runner.cells)  # type: ignore[assignment]
    return sweep, _finish(sweep, write, out)


def _interrupt(signum: int, _frame: object) -> None:
    """SIGINT or SIGTERM between cells (a cell's run handles them itself while it runs): end the
    sweep as Ctrl-C does, so the shared stack still goes down and the report is written."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _close(shared: SharedStack | None, previous: dict, pages: IdleReports, out: Path) -> None:
    """The end of the cells: the shared stack down (it handles a signal meanwhile itself), every
    cell's report page drawn (:meth:`harness.run.idle_reports.IdleReports.finish`; the sweep's
    own page is not waited for: the final write follows), then the signal handlers as they
    were before the sweep."""
    try:
        if shared is not None:
            shared.close()
    finally:
        try:
            pages.cancel(out)
            pages.finish()
        finally:
            restore_signals(previous)


def _check_expectation(loaded: LoadedScenario, name: str) -> None:
    from harness.errors import ScenarioError

    names = [e.label for e in loaded.scenario.expectations]
    if name not in names:
        raise ScenarioError([f"{loaded.path}: --expectation {name!r}: no such expectation (the scenario's: "
                             f"{', '.join(repr(n) for n in names) or 'none'})"])


def _new_sweep(options: SweepOptions, first: LoadedScenario, varied: list[Varied], mode: str,
               shared: SharedStack | None) -> Sweep:
    return Sweep(scenario=first.scenario.name, scenario_path=str(options.path), overrides=list(options.overrides),
                 varied=varied, mode=mode, repeat=options.repeat, shared_stack=shared is not None,  # type: ignore[arg-type]
                 status="interrupted", reason="running", started_at=utc_iso(time.time()), ended_at=utc_iso(time.time()))


def _record(sweep: Sweep, runner: CellRunner, write: Callable[[Sweep, Path], dict[str, Path]], out: Path,
            options: SweepOptions, planned: int | None) -> None:
    """After a cell: the sweep's cells and end time updated, sweep.json rewritten, progress."""
    sweep.cells, sweep.ended_at = list(runner.cells), utc_iso(time.time())
    write(sweep, out)
    if options.on_cell is not None:
        options.on_cell(runner.cells[-1], planned)


def _announce(options: SweepOptions, index: int, values: dict[str, object], planned: int | None) -> None:
    if options.on_start is not None:
        options.on_start(index, values, planned)


def _finish(sweep: Sweep, write: Callable[[Sweep, Path], dict[str, Path]], out: Path) -> dict[str, Path]:
    sweep.ended_at = utc_iso(time.time())
    return write(sweep, out)


def _search_result(search: SearchRange, expectation: str, tolerance: float, bracket: Bracket) -> SearchResult:
    return SearchResult(path=search.path, expectation=expectation, lo=search.lo, hi=search.hi, tolerance=tolerance,
                        outcome=bracket.outcome, holds_at=bracket.holds_at, breaks_at=bracket.breaks_at,  # type: ignore[arg-type]
                        steps=bracket.steps)


def _search_status(result: SearchResult, cells: list[SweepCell]) -> tuple[str, str]:
    status = SEARCH_OUTCOME_STATUS[result.outcome]
    if status == "inconclusive" and cells and cells[-1].status == "error":
        status = "error"
    what = {"found": f"breaks between {result.holds_at:g} and {result.breaks_at:g}" if result.outcome == "found" else "",
            "held_throughout": f"held up to {result.hi:g}: no breaking point in the range",
            "broken_throughout": f"failed already at {result.lo:g}",
            "inconclusive": "a step proved nothing either way; the bracket so far is kept",
            "interrupted": "interrupted; the bracket so far is kept"}[result.outcome]
    return status, f"{result.expectation!r} over {result.path}: {what} ({result.steps} steps)"
