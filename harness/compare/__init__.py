"""Before/after comparison of two runs (``harness compare``): see :mod:`harness.compare.core`
for what is compared and how a regression is decided, and :mod:`harness.compare.stats` for the
significance method. Two sweeps are compared cell by cell instead (:mod:`harness.compare.sweeps`):
:func:`sweep_inputs` tells which the two inputs are."""

from __future__ import annotations

from pathlib import Path

from harness.compare.core import Comparison, Limit, LimitError, compare_reports, parse_limit
from harness.compare.latencies import LatenciesUnavailable, RecordFileError, RunLatencies, load_latencies
from harness.compare.render import render_compare_html, render_compare_md, write_comparison
from harness.compare.sweep_render import write_sweep_comparison
from harness.compare.sweeps import SweepComparison, compare_sweeps
from harness.journal import JournalFileError
from harness.report import ReportFileError, load_report, report_path
from harness.report.sweep import is_sweep, load_sweep, sweep_file

OUTCOME_EXIT = {"ok": 0, "regressed": 1, "inconclusive": 3}
"""Exit code of ``harness compare`` per outcome (2 is usage: a bad limit, an unreadable or damaged
report.json, journal.jsonl or requests.tsv, an unwritable ``--out``)."""


class CompareInputError(ValueError):
    """BEFORE and AFTER are not of one kind: one a sweep, the other a run (one line naming both)."""


def sweep_inputs(before: Path, after: Path) -> bool:
    """Whether BEFORE and AFTER are sweeps (a directory holding ``sweep.json``, or such a file);
    False when neither is (two runs, or inputs that are missing: the run path says so).

    Raises:
        CompareInputError: one is a sweep and the other a run (a ``report.json``).
    """
    sweeps = is_sweep(before), is_sweep(after)
    if sweeps[0] != sweeps[1]:
        sweep, other = (before, after) if sweeps[0] else (after, before)
        if report_path(other).is_file():
            raise CompareInputError(f"{sweep_file(sweep)} is a sweep and {report_path(other)} a run: compare a sweep "
                                    "with a sweep, or a run with a run")
    return any(sweeps)


def compare_sweep_paths(before: Path, after: Path, out_dir: Path | None = None
                        ) -> tuple[SweepComparison, dict[str, Path]]:
    """Load both sweeps (:func:`harness.report.sweep.load_sweep`), compare them
    (:func:`harness.compare.sweeps.compare_sweeps`) and write compare.json/.md/.html into
    ``out_dir`` (default: the directory holding AFTER's sweep.json); return the comparison and
    the written paths by format.

    Raises:
        harness.report.ReportFileError: a sweep.json is missing, unreadable or damaged, or
            ``out_dir`` cannot be written; one line naming the file.
    """
    b, a = load_sweep(before), load_sweep(after)
    comparison = compare_sweeps(b, a, str(sweep_file(before)), str(sweep_file(after)))
    return comparison, write_sweep_comparison(comparison, out_dir or sweep_file(after).parent)


def default_out_dir(after: Path) -> Path:
    """Where compare files go without ``--out``: the directory holding AFTER's report.json."""
    return report_path(after).parent


def compare_paths(before: Path, after: Path, limits: list[Limit], out_dir: Path | None = None,
                  ignore_significance: bool = False) -> tuple[Comparison, dict[str, Path]]:
    """Load both reports (and each run's raw latencies, when ``requests.tsv`` and
    ``journal.jsonl`` sit next to its report.json: the latency percentiles' significance),
    compare them, write compare.json/.md/.html; return the comparison and the written paths.

    A ``requests.tsv`` or ``journal.jsonl`` that is missing (or not a regular file) costs the
    latency percentiles their significance (a note); one that is damaged is refused: a line
    that is not a record or an event would silently change the requests a window holds (a
    torn last line, a run killed mid-write, is skipped).

    Raises:
        harness.report.ReportFileError: a report.json is unreadable (see
            :func:`harness.report.load_report`), a journal.jsonl or requests.tsv is damaged or
            unreadable, or ``out_dir`` cannot be written (:class:`~harness.report.ReportWriteError`);
            one line naming the file.
    """
    b, a = load_report(before), load_report(after)
    notes: list[str] = []
    try:
        latencies = [_latencies(side, report_path(path), report, notes) for side, path, report in
                     (("BEFORE", before, b), ("AFTER", after, a))]
    except (JournalFileError, RecordFileError) as exc:
        raise ReportFileError(str(exc)) from None
    comparison = compare_reports(b, a, limits, ignore_significance, report_path(before), report_path(after),
                                 *latencies, notes=notes)
    paths = write_comparison(comparison, b, a, out_dir or default_out_dir(after))
    return comparison, paths


def _latencies(side: str, report_file: Path, report, notes: list[str]) -> RunLatencies | None:  # noqa: ANN001
    """``side``'s raw latencies, or None with the reason appended to ``notes``."""
    try:
        return load_latencies(report_file, report)
    except LatenciesUnavailable as exc:
        notes.append(f"{side}: {exc}: latency percentiles get no significance verdict")
        return None


__all__ = ["OUTCOME_EXIT", "CompareInputError", "Comparison", "LatenciesUnavailable", "Limit", "LimitError",
           "RecordFileError", "RunLatencies", "SweepComparison", "compare_paths", "compare_reports",
           "compare_sweep_paths", "compare_sweeps", "default_out_dir", "load_latencies", "parse_limit",
           "render_compare_html", "render_compare_md", "sweep_inputs", "write_comparison", "write_sweep_comparison"]
