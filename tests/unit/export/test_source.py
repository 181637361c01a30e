"""Reading a run for export: the load's start, the notes, and damaged input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.export import read_run
from harness.export.source import MAX_NOTE_CHARS, iso_ns
from harness.report import ReportFileError
from tests.unit.export.conftest import LOAD_START_S, NOTES, write_run
from tests.unit.report.conftest import make_report


def test_the_load_start_comes_from_the_journal(tmp_path: Path) -> None:
    run = read_run(write_run(tmp_path))
    assert run.load_start_ns == round(LOAD_START_S * 1e6) * 1000
    assert run.at_ns(10.0) == run.load_start_ns + 10 * 10**9


def test_without_a_journal_the_load_start_comes_from_the_timeline_and_there_are_no_notes(tmp_path: Path) -> None:
    run = read_run(write_run(tmp_path, journal=False))
    first = run.report.timeline[0]
    assert run.load_start_ns == iso_ns(first.at) - round(first.offset_s * 1e9)
    assert run.notes == ()


def test_without_journal_or_timeline_the_load_start_is_the_runs_start(tmp_path: Path) -> None:
    run = read_run(write_run(tmp_path, make_report(faults=()), journal=False))
    assert run.load_start_ns == iso_ns("2026-01-01T00:00:00.000Z") == run.started_ns


def test_notes_are_read_in_order_and_other_events_or_damaged_lines_are_not(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path)
    with (run_dir / "journal.jsonl").open("a", encoding="utf-8") as f:
        f.write("not json at all\n")
        f.write(json.dumps({"event": "note", "t": LOAD_START_S + 40, "text": 42}) + "\n")
        f.write(json.dumps({"event": "note", "t": LOAD_START_S + 41, "text": "  "}) + "\n")
        f.write(json.dumps({"event": "fault.inject", "t": LOAD_START_S + 42, "text": "not a note"}) + "\n")
        f.write(json.dumps({"event": "note", "t": LOAD_START_S + 43, "text": "x" * (MAX_NOTE_CHARS + 10)}) + "\n")
    notes = read_run(run_dir).notes
    assert [n.text for n in notes[:2]] == [text for _, text in NOTES]
    assert [n.t_ns for n in notes[:2]] == [round(t * 1e6) * 1000 for t, _ in NOTES]
    assert len(notes) == 3 and len(notes[2].text) == MAX_NOTE_CHARS and notes[2].text.endswith("…")


@pytest.mark.parametrize("content", [b"", b"{", b"[]", b'{"run_id": 1}', b"\xff\xfe"])
def test_a_damaged_report_is_one_line_naming_the_file(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "report.json").write_bytes(content)
    with pytest.raises(ReportFileError) as caught:
        read_run(tmp_path)
    assert str(tmp_path / "report.json") in str(caught.value) and "\n" not in str(caught.value)


def test_an_unreadable_journal_is_one_line_naming_it(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path, journal=False)
    (run_dir / "journal.jsonl").mkdir()
    with pytest.raises(ReportFileError, match=r"journal\.jsonl: cannot read"):
        read_run(run_dir)
