"""What an export reads from a run directory: ``report.json`` (through the report package's
loader, so a damaged file gets the same one line as ``harness report``) and the operator's notes
from ``journal.jsonl`` beside it, with every time as integer epoch nanoseconds.

The report gives window bounds in seconds from the load's start; the load's start itself is the
journal's ``load.start`` event when the journal is there, else it is derived from the timeline
(an entry's UTC ``at`` minus its ``offset_s``), else the run's ``started_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from harness.journal import Event, read_events
from harness.report import Report, ReportFileError, load_report, report_path

NS_PER_S = 1_000_000_000
MAX_NOTE_CHARS = 4000
"""Longest note text exported; a longer one is cut with ``…`` (an annotation is not a document)."""


@dataclass(frozen=True)
class Note:
    """An operator's note from the journal (a ``note`` event): ``t_ns`` epoch nanoseconds and
    its ``text``."""

    t_ns: int
    text: str


@dataclass(frozen=True)
class RunSource:
    """One run, ready to export: its ``report``, its ``notes`` in journal order (empty without a
    journal or without notes), ``load_start_ns`` (epoch ns, the origin of the windows'
    ``start_s``/``end_s``) and the ``run_dir`` it was read from."""

    report: Report
    notes: tuple[Note, ...]
    load_start_ns: int
    run_dir: Path

    def at_ns(self, offset_s: float) -> int:
        """Epoch nanoseconds of ``offset_s`` seconds from the load's start."""
        return self.load_start_ns + round(offset_s * NS_PER_S)

    @property
    def started_ns(self) -> int:
        """The run's start (``started_at``), epoch ns."""
        return iso_ns(self.report.started_at)

    @property
    def ended_ns(self) -> int:
        """The run's end (``ended_at``), epoch ns; never before its start."""
        return max(iso_ns(self.report.ended_at), self.started_ns)


def iso_ns(text: str) -> int:
    """Epoch nanoseconds of an ISO-8601 time (``2026-01-01T00:00:00.123Z``; no zone means UTC).

    Raises:
        ValueError: not an ISO-8601 time.
    """
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    whole = int(moment.replace(microsecond=0).timestamp())
    return whole * NS_PER_S + moment.microsecond * 1000


def epoch_ns(t_s: float) -> int:
    """Epoch nanoseconds of a journal time (epoch seconds with microseconds)."""
    return round(t_s * 1_000_000) * 1000


def read_run(path: Path) -> RunSource:
    """Read a run directory (or its ``report.json``) for export.

    Raises:
        ReportFileError: ``report.json`` is missing or damaged (as :func:`harness.report.load_report`),
            a time in it is not ISO-8601, or ``journal.jsonl`` exists but cannot be read; one line
            naming the file. A missing journal is not an error: the run exports no notes.
    """
    file = report_path(path)
    report = load_report(file)
    events = _journal_events(file.parent)
    try:
        load_start_ns = _load_start_ns(report, events)
        iso_ns(report.ended_at)
    except ValueError:
        raise ReportFileError(f"{file}: not a harness report.json: a time is not ISO-8601") from None
    return RunSource(report=report, notes=tuple(_notes(events)), load_start_ns=load_start_ns, run_dir=file.parent)


def _journal_events(run_dir: Path) -> list[Event]:
    """The journal's events, or none when there is no journal."""
    journal = run_dir / "journal.jsonl"
    if not journal.exists() and not journal.is_symlink():
        return []
    try:
        return read_events(run_dir)
    except OSError as exc:
        raise ReportFileError(f"{journal}: cannot read ({exc.strerror or exc})") from None


def _load_start_ns(report: Report, events: list[Event]) -> int:
    """The load's start: the journal's ``load.start``, else the timeline's, else the run's start."""
    for event in events:
        if event.name == "load.start":
            return epoch_ns(event.t)
    for entry in report.timeline:
        return iso_ns(entry.at) - round(entry.offset_s * NS_PER_S)
    return iso_ns(report.started_at)


def _notes(events: list[Event]) -> list[Note]:
    """The ``note`` events with a string ``text``, cut to :data:`MAX_NOTE_CHARS`."""
    notes = []
    for event in events:
        text = event.fields.get("text")
        if event.name == "note" and isinstance(text, str) and text.strip():
            if len(text) > MAX_NOTE_CHARS:
                text = text[: MAX_NOTE_CHARS - 1] + "…"
            notes.append(Note(t_ns=epoch_ns(event.t), text=text))
    return notes
