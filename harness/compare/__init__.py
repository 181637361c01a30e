"""Before/after comparison of two runs (``harness compare``): see :mod:`harness.compare.core`
for what is compared and how a regression is decided, and :mod:`harness.compare.stats` for the
significance method."""

from __future__ import annotations

from pathlib import Path

from harness.compare.core import Comparison, Limit, LimitError, compare_reports, parse_limit
from harness.compare.latencies import LatenciesUnavailable, RecordFileError, RunLatencies, load_latencies
from harness.compare.render import render_compare_html, render_compare_md, write_comparison
from harness.journal import JournalFileError
from harness.report import ReportFileError, load_report, report_path

OUTCOME_EXIT = {"ok": 0, "regressed": 1, "inconclusive": 3}
"""Exit code of ``harness compare`` per outcome (2 is usage: a bad limit, an unreadable or damaged
report.json, journal.jsonl or requests.tsv, an unwritable ``--out``)."""


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


__all__ = ["OUTCOME_EXIT", "Comparison", "LatenciesUnavailable", "Limit", "LimitError", "RecordFileError",
           "RunLatencies", "compare_paths", "compare_reports", "default_out_dir", "load_latencies", "parse_limit",
           "render_compare_html", "render_compare_md", "write_comparison"]
