"""harness.atomic.write_atomic: whole or nothing, whatever fails."""

from pathlib import Path

import pytest

from harness.atomic import write_atomic


def test_writes_text_and_bytes(tmp_path: Path):
    write_atomic(tmp_path / "a.txt", "héllo")
    write_atomic(tmp_path / "b.bin", b"\x00\x01")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "héllo"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"


def test_a_failed_check_leaves_the_old_file_and_no_temporary(tmp_path: Path):
    target = tmp_path / "scenario.yaml"
    target.write_text("old")
    seen = []

    def check(tmp: Path) -> None:
        seen.append(tmp.read_text())
        raise ValueError("does not validate")

    with pytest.raises(ValueError):
        write_atomic(target, "new", check=check)
    assert seen == ["new"]
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario.yaml"]


def test_mode_is_applied(tmp_path: Path):
    write_atomic(tmp_path / "s.yaml", "x", mode=0o640)
    assert (tmp_path / "s.yaml").stat().st_mode & 0o777 == 0o640


def test_a_directory_target_raises_and_leaves_nothing(tmp_path: Path):
    (tmp_path / "d").mkdir()
    with pytest.raises(OSError):
        write_atomic(tmp_path / "d", "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]
