"""A run's raw request latencies, for the compare's latency significance.

``report.json`` holds each window's exact percentiles and a per-second series, but no statistic
of a *resampled* window can be recomputed exactly from those (the p99 of a set of seconds is not
a function of their p99s, nor of any compact per-second summary: a p50 needs half of every
second's latencies). The run directory can: ``requests.tsv`` (every request's start and
duration) and ``journal.jsonl`` (the load's start, from which offsets count) sit next to
``report.json`` after every run. :func:`load_latencies` reads them back exactly as the report
builder did (:func:`harness.analysis.metrics.load_records`, offsets ``start_s - t0``), so the
requests of a window are the ones its metrics were computed from.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from harness.analysis.percentile import GroupedDurations
from harness.report.model import Report

SECOND_S = 1.0
"""The block unit of the bootstrap: a window's requests are grouped by the second (counted from
the window's start) they started in."""


class LatenciesUnavailable(Exception):
    """The raw latencies of a run cannot be used: missing files, or files of another run.
    The message says which and why."""


class RecordFileError(ValueError):
    """A ``requests.tsv`` next to a report is damaged (a line that is not a request record,
    other than a torn last line) or cannot be read: ``FILE:LINE: not a request record (N of M
    lines unreadable)`` or ``FILE: cannot read (reason)``; one line."""


class RunLatencies:
    """Every request of a run: ``offsets_s`` (start, seconds from the load's start, ascending)
    and the aligned ``durations_ms`` (float64, shape (n,) each). ``source`` names the file."""

    def __init__(self, offsets_s: np.ndarray, durations_ms: np.ndarray, source: str = ""):
        order = np.argsort(offsets_s, kind="stable")
        self.offsets_s = np.asarray(offsets_s, dtype=np.float64)[order]
        self.durations_ms = np.asarray(durations_ms, dtype=np.float64)[order]
        self.source = source
        self._last: tuple[tuple[float, float], GroupedDurations] | None = None
        self._by_duration: np.ndarray | None = None

    def durations_in(self, start_s: float, end_s: float) -> np.ndarray:
        """Durations (ms) of the requests that started in ``[start_s, end_s)`` (the window's
        requests, as :func:`harness.analysis.metrics.frame_of` selects them)."""
        lo, hi = np.searchsorted(self.offsets_s, [start_s, end_s], side="left")
        return self.durations_ms[int(lo):int(hi)]

    def seconds(self, start_s: float, end_s: float) -> GroupedDurations:
        """The window's requests grouped by second: group ``s`` holds those that started in
        ``[start_s + s, start_s + s + 1)`` (the last one cut at ``end_s``), ``ceil(end_s -
        start_s)`` groups, empty ones included. The last window asked for is cached (the
        compare asks for each window's percentiles one after the other)."""
        key = (start_s, end_s)
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        lo, hi = (int(i) for i in np.searchsorted(self.offsets_s, [start_s, end_s], side="left"))
        count = max(0, math.ceil((end_s - start_s) / SECOND_S))
        sec = np.clip(np.floor((self.offsets_s[lo:hi] - start_s) / SECOND_S).astype(np.int64), 0, max(0, count - 1))
        # the run's durations are sorted once; a window's sorted durations are a filter of them
        order = self._sorted_positions()
        mine = order[(order >= lo) & (order < hi)]
        grouped = GroupedDurations.from_sorted(self.durations_ms[mine], sec[mine - lo], count)
        self._last = (key, grouped)
        return grouped

    def _sorted_positions(self) -> np.ndarray:
        """Positions of the non-NaN durations, by ascending duration (computed once)."""
        if self._by_duration is None:
            order = np.argsort(self.durations_ms)
            self._by_duration = order[~np.isnan(self.durations_ms[order])]
        return self._by_duration


def _t0(run_dir: Path, report: Report) -> float:
    """The load's start (epoch s) from the journal, as the report builder takes it.

    Raises:
        LatenciesUnavailable: no journal, or it belongs to another run.
        harness.journal.JournalFileError: a line of the journal is not an event (a torn last
            line is skipped), or the journal cannot be read.
    """
    from harness.journal import read_events

    if not (run_dir / "journal.jsonl").is_file():
        raise LatenciesUnavailable(f"no journal.jsonl in {run_dir}")
    events = read_events(run_dir, strict=True)
    start = next((e for e in events if e.name == "run.start"), None)
    if start is None or start.fields.get("run_id") != report.run_id:
        raise LatenciesUnavailable(f"{run_dir / 'journal.jsonl'} is not the journal of run {report.run_id}")
    load = next((e for e in events if e.name == "load.start"), None)
    return load.t if load is not None else start.t


def load_latencies(report_file: Path, report: Report) -> RunLatencies:
    """The raw latencies of ``report``'s run, from ``requests.tsv`` and ``journal.jsonl`` in the
    directory of ``report_file``.

    Raises:
        LatenciesUnavailable: a file is missing (or not a regular file), the journal is another
            run's, or the number of records differs from the report's ``load.recorded`` (a torn
            last line of ``requests.tsv`` is left out of that number).
        harness.journal.JournalFileError: ``journal.jsonl`` is damaged or unreadable.
        RecordFileError: ``requests.tsv`` is damaged or unreadable.
    """
    run_dir = Path(report_file).parent
    path = run_dir / "requests.tsv"
    if not path.is_file():
        raise LatenciesUnavailable(f"no requests.tsv in {run_dir}")
    t0 = _t0(run_dir, report)
    records = read_records(path)
    recorded = report.load.recorded if report.load else None
    if recorded is not None and len(records) != recorded:
        raise LatenciesUnavailable(f"{path} holds {len(records)} records, the report counted {recorded}")
    offsets = records["start_s"].to_numpy(dtype=np.float64) - t0
    durations = records["duration_ms"].to_numpy(dtype=np.float64)
    return RunLatencies(offsets, durations, str(path))


def read_records(path: Path):  # noqa: ANN201 (a pandas DataFrame; pandas is imported lazily)
    """:func:`harness.analysis.metrics.load_records` of ``path``, refusing a damaged file.

    Raises:
        RecordFileError: a line that is not a request record, other than a torn last line
            (``FILE:LINE: not a request record (N of M lines unreadable)``, LINE the first such
            line, N every unreadable line, M the lines of the file), or ``FILE: cannot read
            (reason)``.
    """
    from harness.analysis.metrics import load_records

    try:
        records = load_records(path)
    except OSError as exc:
        raise RecordFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    bad = list(records.attrs.get("bad_lines", []))
    damage = bad[:-1] if records.attrs.get("torn_tail") else bad
    if damage:
        lines = _line_count(path)
        raise RecordFileError(f"{path}:{damage[0]}: not a request record ({len(bad)} of {lines} lines unreadable)")
    return records


def _line_count(path: Path) -> int:
    """Lines of a file, a last one without newline included (for a message)."""
    count, last = 0, b"\n"
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")
