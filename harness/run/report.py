"""The report phase: the report is built from the run's journal alone and always written (a
minimal one when building it fails).

This module leaves the analysis and the renderers (pandas, numpy, matplotlib) out of its own
imports, so that a run starts its stack sooner; :func:`warm_up_reports` loads them in a thread
during the health wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from harness.redact import Redactor
from harness.run.harness_log import append_traceback
from harness.scenario import LoadedScenario

if TYPE_CHECKING:
    from harness.report import Report


@dataclass(frozen=True)
class RunInfo:
    """What a minimal report needs when the full one cannot be built: the run's id and seed,
    ``started_t`` (epoch s of ``run.start``), and its ``status`` and ``error`` at ``run.end``."""

    run_id: str
    seed: int
    started_t: float
    status: str
    error: str | None


def warm_up_reports() -> None:
    """:func:`harness.report.warm_up`, for a background thread: it imports the analysis and the
    renderers. Errors are left to the report step, which meets them again."""
    try:
        from harness.report import warm_up

        warm_up()
    except Exception:  # noqa: BLE001 - see the docstring
        pass


AHEAD_MAX_RECORDS_BYTES = 20 * 2**20
""":class:`PlotsAhead` draws nothing for a run whose ``requests.tsv`` is larger (about 400,000
records): its provisional report would take longer than ``compose down`` (the analysis reads
every record: ~1 s per million, ``bench/analysis_5m.py``), and the final one would wait for it."""


class PlotsAhead:
    """Draws the report's plots while the stack goes down, so that the report after the
    teardown mostly finds them drawn.

    :meth:`start` is the teardown's ``report.ahead`` step (:func:`harness.run.teardown.push_stack`):
    by then the load, the faults and the container samples are over, and ``compose down``
    keeps the main thread waiting for seconds. A thread builds a provisional report from the
    journal so far (:func:`harness.report.build_report` with ``provisional``: judged as if the
    run completed) and draws its plots into :data:`harness.report.plots.DRAWN`. The final report
    reuses a plot only when its inputs are the same (:class:`harness.report.plots.PlotMemo`);
    any other plot is drawn again, so the report is what it would have been without this.
    ``bench/run_overhead.py`` measures what it saves (the plots are most of the report's time).

    Args:
        run_dir: the run's directory (journal, records).
        judged: gives the scenario the report judges (``harness gameday``'s depends on what the
            operator injected), asked for when the drawing starts.
        redact: the run's redactor (the final report is redacted before it is drawn).
        after: the report warm-up thread (:func:`warm_up_reports`), joined first when it was
            started (matplotlib is not thread-safe).
    """

    def __init__(self, run_dir: Path, judged: Callable[[], LoadedScenario], redact: Redactor,
                 after: threading.Thread) -> None:
        self.run_dir, self.judged, self.redact, self.after = run_dir, judged, redact, after
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start drawing in a daemon thread (once; not for a run with more than
        :data:`AHEAD_MAX_RECORDS_BYTES` of records); never raises."""
        try:
            if self._thread is not None or (self.run_dir / "requests.tsv").stat().st_size > AHEAD_MAX_RECORDS_BYTES:
                return
        except OSError:  # no records: nothing to plot
            return
        self._thread = threading.Thread(target=self._draw, name="report-plots-ahead", daemon=True)
        self._thread.start()

    def join(self) -> None:
        """Wait until the drawing is over (at once if it never started)."""
        if self._thread is not None:
            self._thread.join()

    def _draw(self) -> None:
        try:
            if self.after.ident is not None:
                self.after.join()
            from harness.report import Report, build_report
            from harness.report.plots import report_plots

            report = build_report(self.run_dir, self.judged().scenario, provisional=True)
            if self.redact:
                report = Report.model_validate_json(self.redact(report.model_dump_json()))
            report_plots(report)
        except Exception:  # noqa: BLE001 - only a head start: the report draws what is missing
            pass


def minimal_report(loaded: LoadedScenario, info: RunInfo, failure: str) -> Report:
    """A report with no analysis; its status and error follow
    :func:`harness.report.status.decide_status` for a report that could not be built
    (``error``, but ``interrupted`` and ``aborted`` are kept; the error names ``failure`` after
    the run's own)."""
    from harness.journal import utc_iso
    from harness.report.model import MatrixInfo, Report, ScenarioInfo
    from harness.report.status import decide_status

    status, error = decide_status(info.status, info.error, unbuilt=failure)
    return Report(
        run_id=info.run_id, seed=info.seed, status=status, error=error,  # type: ignore[arg-type]
        scenario=ScenarioInfo(name=loaded.scenario.name, path=str(loaded.path), sha256=loaded.sha256,
                              overrides=list(loaded.overrides), profile=loaded.scenario.target.profile,
                              matrix=MatrixInfo(**matrix.model_dump()) if (matrix := loaded.scenario.matrix) else None),
        started_at=utc_iso(info.started_t), ended_at=utc_iso(time.time()),
    )


def _write_minimal(report: Report, run_dir: Path) -> dict[str, Path]:
    """Write ``report.json`` and a short ``report.md`` for :func:`minimal_report`, each whole or
    not at all (:func:`harness.report.files.write_atomic`). Raises ``OSError``."""
    from harness.report.files import write_atomic

    paths = {"json": run_dir / "report.json", "md": run_dir / "report.md"}
    write_atomic(paths["json"], report.model_dump_json(indent=2) + "\n")
    write_atomic(paths["md"],
                 f"# {report.scenario.name}: run {report.run_id}\n\n**Status: {report.status.upper()}**: {report.error}\n\n"
                 "The full report could not be built (the traceback is in harness.log); journal.jsonl holds "
                 "everything the run did.\n")
    return paths


def write_report(run_dir: Path, loaded: LoadedScenario, redact: Redactor, info: RunInfo,
                 strict: bool = False, without: Collection[str] = ()) -> tuple[Report, dict[str, Path]]:
    """Build the report from the run's journal and write it (json, md, html, junit);
    ``strict``: inconclusive counts as failed; ``without``: formats left for later (``html``
    when a child process draws the page, :mod:`harness.run.idle_reports`).

    If building or writing it raises, a :func:`minimal_report` is written instead (report.json
    and report.md; the traceback appended to ``harness.log``). Never raises for the report's
    own errors (an unwritable ``run_dir`` still raises OSError).

    Returns:
        The report (redacted) and its paths by format.
    """
    try:
        from harness.report import Report, build_report, write_reports

        report = build_report(run_dir, loaded.scenario, strict=strict)
        if redact:
            report = Report.model_validate_json(redact(report.model_dump_json()))
        return report, write_reports(report, run_dir, without)
    except Exception as exc:  # noqa: BLE001 - a harness bug: the run is inconclusive, its report minimal
        append_traceback(run_dir, "building the report")
        report = minimal_report(loaded, info, f"{type(exc).__name__}: {exc}")
        if redact:
            report = type(report).model_validate_json(redact(report.model_dump_json()))
        return report, _write_minimal(report, run_dir)
