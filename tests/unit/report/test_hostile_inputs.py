"""Issue 14: `harness report`, `compare` and `cleanup` meet damaged, hostile and huge inputs.

Every class of damage gets exit 2 (report/compare) or 3 (cleanup: a damaged ledger) and one
line naming the file, never a traceback; output files are written whole or not at all.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.environment.ledger import Ledger, replay
from harness.report import write_reports
from harness.report.files import write_atomic
from tests.unit.report.conftest import make_report

runner = CliRunner()

GOOD = make_report()


def _one_error_line(result, *needles: str) -> str:
    """The single stderr/stdout line of a failed command, checked for no traceback."""
    text = result.output.strip()
    assert "Traceback" not in text and result.exception is None or isinstance(result.exception, SystemExit), text
    lines = text.splitlines()
    assert len(lines) == 1, text
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def _report_dir(tmp_path: Path, name: str, content: bytes) -> Path:
    run_dir = tmp_path / name
    run_dir.mkdir()
    (run_dir / "report.json").write_bytes(content)
    return run_dir


def _good_json() -> bytes:
    return (GOOD.model_dump_json(indent=2) + "\n").encode()


DAMAGED = {
    "empty": (b"", "invalid JSON"),
    "truncated": (_good_json()[:300], "invalid JSON"),
    "binary": (b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x00garbage", "not UTF-8 text"),
    "deep": (b"[" * 100_000 + b"]" * 100_000, "invalid JSON"),
    "wrong-type": (b'{"status": 5, "windows": "many"}', "not a harness report.json"),
    "array": (b"[1, 2, 3]", "not a harness report.json"),
    "newer-schema": (_good_json().replace(b'"schema_version": ', b'"schema_version": 9', 1), "newer than"),
}


@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_report_on_a_damaged_report_json_exits_2_with_one_line(tmp_path, case):
    content, needle = DAMAGED[case]
    run_dir = _report_dir(tmp_path, case, content)
    result = runner.invoke(app, ["report", str(run_dir)])
    assert result.exit_code == 2, result.output
    _one_error_line(result, str(run_dir / "report.json"), needle)
    assert sorted(p.name for p in run_dir.iterdir()) == ["report.json"]  # nothing half-written


def test_truncated_json_names_line_and_column(tmp_path):
    run_dir = _report_dir(tmp_path, "cut", _good_json()[:300])
    line = _one_error_line(runner.invoke(app, ["report", str(run_dir)]))
    assert line.split(": ", 1)[1].startswith(f"{run_dir / 'report.json'}:"), line
    file_line_col = line.split(" invalid JSON")[0].removeprefix("error: ")
    assert file_line_col.rsplit(":", 3)[1].isdigit() and file_line_col.rstrip(":").rsplit(":", 1)[1].isdigit(), line


def test_a_byte_order_mark_is_accepted(tmp_path):
    run_dir = _report_dir(tmp_path, "bom", b"\xef\xbb\xbf" + _good_json())
    result = runner.invoke(app, ["report", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert (run_dir / "report.html").stat().st_size > 1000


def test_a_huge_report_json_is_refused_before_it_is_read(tmp_path):
    run_dir = _report_dir(tmp_path, "huge", b"")
    with (run_dir / "report.json").open("wb") as f:
        f.truncate(201 * 1024 * 1024)  # sparse: costs no disk
    result = runner.invoke(app, ["report", str(run_dir)])
    assert result.exit_code == 2
    _one_error_line(result, "more than the 209715200 bytes")


def test_report_json_that_is_a_directory_and_a_missing_one(tmp_path):
    run_dir = tmp_path / "dir"
    (run_dir / "report.json").mkdir(parents=True)
    result = runner.invoke(app, ["report", str(run_dir)])
    assert result.exit_code == 2
    _one_error_line(result, "cannot read", "Is a directory")
    result = runner.invoke(app, ["report", str(tmp_path / "absent")])
    assert result.exit_code == 2
    _one_error_line(result, "cannot read", "No such file")


def test_a_report_directory_that_cannot_be_written(tmp_path):
    run_dir = tmp_path / "ro"
    write_reports(GOOD, run_dir)
    (run_dir / "report.html").unlink()
    (run_dir / "report.md").unlink()
    (run_dir / "report.md").mkdir()  # a directory where a report file must go
    (run_dir / "report.md").joinpath("x").write_text("keep")
    result = runner.invoke(app, ["report", str(run_dir)])
    assert result.exit_code == 2, result.output
    _one_error_line(result, str(run_dir), "cannot write report files")
    assert not list(run_dir.glob(".*.tmp")), list(run_dir.iterdir())


def test_write_atomic_leaves_the_old_file_when_the_rename_fails(tmp_path, monkeypatch):
    target = tmp_path / "report.md"
    target.write_text("old whole file\n")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_atomic(target, "new text " * 1000)
    assert target.read_text() == "old whole file\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


# ---- compare: the run's journal.jsonl and requests.tsv next to report.json ----

def _run_with_records(tmp_path: Path, name: str, seed: int) -> Path:
    """A run directory whose journal and requests.tsv agree with its report's count."""
    report = make_report(name="shop", seed=seed, window_s=6, rps=20)
    report = report.model_copy(update={"run_id": f"run-{name}"})
    run_dir = tmp_path / name
    write_reports(report, run_dir)
    t0 = 1_700_000_000.0
    events = [{"event": "run.start", "t": t0 - 1, "run_id": report.run_id}, {"event": "load.start", "t": t0}]
    (run_dir / "journal.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    lines = []
    for second, count in zip(report.series.requests.t_s, report.series.requests.requests):
        for k in range(count):
            lines.append(f"{t0 + second + k / count:.6f}\t{12.5 + k % 7}\t/products\t200\t\t512\n")
    assert len(lines) == report.load.recorded
    (run_dir / "requests.tsv").write_text("".join(lines))
    return run_dir


@pytest.fixture
def runs(tmp_path):
    return _run_with_records(tmp_path, "before", 1), _run_with_records(tmp_path, "after", 2)


def test_compare_with_clean_records_uses_them(runs):
    before, after = runs
    result = runner.invoke(app, ["compare", str(before), str(after)])
    assert result.exit_code in (0, 1), result.output
    assert "no requests.tsv" not in (after / "compare.md").read_text()


def test_compare_skips_a_torn_last_line_of_records_and_journal(runs):
    before, after = runs
    tsv = after / "requests.tsv"
    tsv.write_bytes(tsv.read_bytes() + b"1700000009.5\t13.0\t/prod")  # the writer killed mid-line
    journal = after / "journal.jsonl"
    journal.write_bytes(journal.read_bytes() + b'{"event": "load.st')
    result = runner.invoke(app, ["compare", str(before), str(after)])
    assert result.exit_code in (0, 1), result.output


@pytest.mark.parametrize("damage, needle", [
    (b"garbage line\n", "not a request record"),
    (b"\xff\xfe\x00binary\t1\t2\t3\t4\t5\n", "not a request record"),
    (b"1.0\tnot-a-number\t/x\t200\t\t1\n", "not a request record"),
])
def test_compare_refuses_a_damaged_requests_tsv(runs, damage, needle):
    before, after = runs
    tsv = after / "requests.tsv"
    lines = tsv.read_bytes().splitlines(keepends=True)
    tsv.write_bytes(b"".join(lines[:5]) + damage + b"".join(lines[5:]))
    result = runner.invoke(app, ["compare", str(before), str(after)])
    assert result.exit_code == 2, result.output
    _one_error_line(result, f"{tsv}:6:", needle)


@pytest.mark.parametrize("damage, needle", [
    (b"{not json\n", "not JSON"),
    (b"[" * 100_000 + b"]" * 100_000 + b"\n", "not JSON"),
    (b'{"event": "x", "t": "yesterday"}\n', 'no number "t"'),
    (b'"just a string"\n', "not an object"),
])
def test_compare_refuses_a_damaged_journal(runs, damage, needle):
    before, after = runs
    journal = before / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(lines[0] + damage + b"".join(lines[1:]))
    result = runner.invoke(app, ["compare", str(before), str(after)])
    assert result.exit_code == 2, result.output
    _one_error_line(result, f"{journal}:2:", needle)


def test_compare_out_that_is_a_file(runs, tmp_path):
    before, after = runs
    out = tmp_path / "out-file"
    out.write_text("not a directory")
    result = runner.invoke(app, ["compare", str(before), str(after), "--out", str(out)])
    assert result.exit_code == 2, result.output
    _one_error_line(result, str(out), "cannot write report files")
    assert out.read_text() == "not a directory"


def test_compare_on_a_damaged_report_exits_2(runs):
    before, after = runs
    (after / "report.json").write_bytes(b"\x00\x01\x02")
    result = runner.invoke(app, ["compare", str(before), str(after)])
    assert result.exit_code == 2
    _one_error_line(result, str(after / "report.json"))


# ---- cleanup: a ledger with garbage lines ----

def test_a_damaged_ledger_replays_every_readable_entry_and_names_the_bad_lines(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    helper = subprocess.Popen(["sleep", "120"])
    try:
        run_dir = tmp_path / "run"
        run_dir.mkdir()
        ledger = Ledger(run_dir, "run-damaged")
        ledger.record("kill_pid", pid=helper.pid)
        with (run_dir / "ledger.jsonl").open("ab") as f:
            f.write(b"\x00\x00 garbage \xff\n[1, 2]\n{\"undo\": \"no_such_kind\"}\n")
        ledger.record("kill_pid", pid=2**22 + 7)  # a pid that cannot exist
        done = replay(run_dir)
        assert helper.wait(timeout=10) == -9  # the readable entry before the damage was undone
        assert [u.undo for u in done] == ["kill_pid", "kill_pid"]
        assert done.unreadable == [2, 3, 4]

        import harness.environment.cleanup as cleanup_module
        monkeypatch.setattr(cleanup_module, "docker_client", lambda: None)
        monkeypatch.setattr(cleanup_module, "sweep", lambda client, run_id: [])
        result = runner.invoke(app, ["cleanup", "--run-id", "run-damaged"])
        assert result.exit_code == 3, result.output
        damage = [line for line in result.output.splitlines() if "could not be read" in line]
        assert damage == [f"{run_dir / 'ledger.jsonl'}: 3 lines could not be read (lines 2, 3, 4); what they "
                          "recorded may still be in place"], result.output
        assert "Traceback" not in result.output
    finally:
        helper.kill()
        helper.wait()


def test_a_torn_last_ledger_line_is_not_damage(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "ledger.jsonl").write_bytes(b'{"undo": "kill_pid", "pid": 4194311}\n{"undo": "kill_p')
    done = replay(run_dir)
    assert done.unreadable == [] and done.damage is None and len(done) == 1
