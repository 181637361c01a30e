"""One run, end to end: the phases in order (:func:`execute`).

1. prepare (:mod:`harness.run.prepare`): preflight, run directory, journal, ledger, ``run.start``;
2. start (:mod:`harness.run.start`): stack up, proxies, load child spawned, healthy, monitor,
   timeline, watchdog, ``load.start``; each part's undo pushed as it starts;
3. drive (:mod:`harness.run.drive`): the scheduler loop until the load's end, read-back,
   ``load.stop``;
4. teardown (:mod:`harness.run.teardown`): always, also after an error, an abort or
   Ctrl-C/SIGTERM: every undo step, last started first, whatever the others raised; then
   ``run.end`` with the status;
5. report (:mod:`harness.run.report`): built from the journal alone, always written.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from harness.errors import HarnessError
from harness.progress import Progress
from harness.run.drive import Aborted, drive
from harness.run.harness_log import write_traceback
from harness.run.parts import Phases, Started
from harness.run.prepare import Prepared, prepare
from harness.run.report import PlotsAhead, RunInfo, warm_up_reports, write_report
from harness.run.shared import SharedStack
from harness.run.signals import Interrupted, handle_signals, raise_interrupted, restore_signals
from harness.run.start import start
from harness.run.teardown import unwind
from harness.run.undo import UndoStack
from harness.scenario import LoadedScenario

if TYPE_CHECKING:
    from harness.report import Report


@dataclass
class RunResult:
    """The report and where its files were written."""

    report: Report
    run_dir: Path
    paths: dict[str, Path]


def execute(loaded: LoadedScenario, out_dir: Path | None = None, seed: int | None = None,
            console: Console | None = None, strict: bool = False, shared: SharedStack | None = None,
            phases: Phases | None = None) -> RunResult:
    """Run a validated scenario and write its reports.

    Args:
        loaded: the scenario (validated; nothing has been touched yet).
        out_dir: report directory (default ``reports/<run id>``).
        seed: overrides the scenario's seed; with neither, a random seed is drawn and recorded.
        console: where progress goes (stderr by default).
        strict: an inconclusive run is reported ``failed`` (exit 1).
        shared: a stack kept across runs (a sweep's cells, :mod:`harness.run.shared`): the run
            uses it (or brings it up and keeps it) and resets it at its end instead of taking
            it down; the caller closes it.
        phases: what this kind of run does differently (its drive phase, its fault timeline,
            the scenario its report judges; :class:`~harness.run.parts.Phases`): ``harness
            gameday``. None: a run.

    Returns:
        The report (status ``passed``, ``failed``, ``inconclusive``, ``measured``, ``error``,
        ``aborted`` or ``interrupted``; see :func:`harness.report.status.decide_status`) and its
        paths. Errors of the environment never raise: they end the run with status ``error``.

    Raises:
        ScenarioError: the preflight found the compose file or a service reference invalid;
            nothing was started.
        OutputDirError: ``out_dir`` is not a writable directory; nothing was started.
    """
    console = console or Console(stderr=True)
    phases = phases or Phases()
    run = prepare(loaded, out_dir, seed, shared.compose_config if shared is not None else None)
    previous = handle_signals(raise_interrupted)
    started, undo = Started(), UndoStack()
    # The health wait mostly waits on Docker: the analysis and the report renderer load
    # meanwhile (started once `up` returned: during `up` it slowed compose down; joined before
    # the report is built, since matplotlib is not thread-safe).
    warming = threading.Thread(target=warm_up_reports, name="report-warm-up", daemon=True)

    def judged() -> LoadedScenario:  # the scenario the report judges, as it stands when asked
        return phases.report_scenario(loaded) if phases.report_scenario else loaded

    ahead = PlotsAhead(run.run_dir, judged, run.redact, after=warming)
    with Progress(console, run.scenario.name) as progress:
        status, error = "completed", None
        try:
            start(run, started, undo, progress, on_up=warming.start, shared=shared, make_timeline=phases.timeline,
                  before_down=ahead.start)
            (phases.drive or drive)(run, started, progress)
            if shared is not None:  # the next run's load child imports Locust during this teardown
                shared.prewarm_load()
        except Exception as exc:  # noqa: BLE001 - every failure ends the run with its status
            status, error = outcome(exc, run)
        finally:
            status, error = unwind(undo, run.journal, progress, status, error)
            run.journal.record("run.end", status=status, error=error,
                               environment={k: v for k, v in started.environment.items() if v})
            run.journal.close()
            restore_signals(previous)
    if shared is not None:  # (when the drive phase failed: spawned now)
        shared.prewarm_load()
    if warming.ident is not None:  # started
        warming.join()
    ahead.join()
    later = shared is not None and shared.more_runs  # the next run follows at once: its page is drawn aside
    report, paths = write_report(run.run_dir, judged(), run.redact,
                                 RunInfo(run.run_id, run.seed, run.started_t, status, error), strict,
                                 without=("html",) if later else ())
    if later and "junit" in paths:  # the full report, its page left out (a minimal one is json and md only)
        shared.idle_reports.submit(run.run_dir)  # type: ignore[union-attr]
    return RunResult(report, run.run_dir, paths)


def outcome(exc: Exception, run: Prepared) -> tuple[str, str]:
    """The run's ``(status, error)`` when the start or drive phase raised ``exc``:
    ``interrupted`` (a signal), ``aborted`` (journalled as ``run.abort``), ``error`` (the
    environment or the harness failed; a harness bug's traceback goes to ``harness.log``, and a
    bug is never a pass)."""
    if isinstance(exc, Interrupted):
        return "interrupted", f"interrupted by {exc}"
    if isinstance(exc, Aborted):
        run.journal.record("run.abort", condition=str(exc))
        return "aborted", f"abort condition tripped: {exc}"
    if isinstance(exc, HarnessError):
        return "error", str(exc)
    write_traceback(run.run_dir)
    return "error", f"internal error: {type(exc).__name__}: {exc}"

