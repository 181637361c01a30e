"""The CLI (a real subprocess, as a user runs it) on hostile input: ``harness validate`` on hostile
scenario files and ``--set`` values, ``harness run`` with an unusable ``--out`` or a broken
compose reference. Each gets exit 2 and exactly one line on stderr (``file:line:col: message``
for scenarios), never a traceback; a bug of ours gets one line and exit 3. The time and memory
the hostile files take are measured side by side by ``bench/hostile_input.py``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.scenario.safe_yaml import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES

HOSTILE = {
    "self-alias": (b"name: x\nload: &a [*a]\n", "alias *a refers to the node that contains it (a recursive alias)"),
    "self-alias-mapping": (b"a: &a {b: *a}\nname: x\n", "recursive alias"),
    "nested-20000": (b"name: x\nload: " + b"[" * 20000 + b"]" * 20000 + b"\n", f"nested deeper than {MAX_DEPTH} levels"),
    "nested-20000-mappings": (b"name: x\nload: " + b"{a: " * 20000 + b"1" + b"}" * 20000 + b"\n",
                              f"nested deeper than {MAX_DEPTH} levels"),
    "nested-unclosed": (b"name: x\nload: " + b"[" * 900_000, f"nested deeper than {MAX_DEPTH} levels"),
    "wide-flat-list": (b"name: x\nload: [" + b"1," * 490_000 + b"1]\n", f"more than {MAX_NODES} values"),
    "alias-bomb": ("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n".encode() +
                   "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 9)).encode(),
                   "through its aliases (a YAML alias bomb?)"),
    "ten-megabytes": (b"name: x\n" + b"# padding\n" * 1_000_000, f"more than the {MAX_FILE_BYTES} bytes"),
    "binary": (bytes(range(256)) * 64, "not UTF-8 text"),
    "utf16-truncated": (b"\xff\xfe" + "name: x\n".encode("utf-16-le") + b"\x41", "not UTF-16 text"),
    "control-characters": (b"name: x\x1b]0;pwned\x07\n", "character U+001B is not allowed"),
}


def validate(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", "validate", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)


def assert_one_located_line(proc: subprocess.CompletedProcess, file: str | Path, expected: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr[-2000:]
    assert re.match(rf"^{re.escape(str(file))}:\d+:\d+: \S", lines[0]), lines[0]
    assert expected in lines[0], lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_gets_one_located_line_and_exit_2(tmp_path, name):
    data, expected = HOSTILE[name]
    file = tmp_path / f"{name}.yaml"
    file.write_bytes(data)
    assert_one_located_line(validate(file), file, expected)


def test_a_device_that_never_ends_is_read_no_further_than_the_limit():
    assert_one_located_line(validate("/dev/zero"), "/dev/zero", f"more than the {MAX_FILE_BYTES} bytes")


def test_a_directory_is_named_as_unreadable(tmp_path):
    assert_one_located_line(validate(tmp_path), tmp_path, "cannot read: Is a directory")


def test_a_hostile_set_value_gets_one_line(tmp_path):
    scenario = Path(__file__).parent.parent.parent / "scenarios" / "quickstart.yaml"
    for value, expected in (("[" * 20000, f"nested deeper than {MAX_DEPTH} levels"), ("&a [*a]", "recursive alias"),
                            ("*nope", "undefined alias")):
        proc = subprocess.run([sys.executable, "-m", "harness", "run", str(scenario), "--set", f"load.users={value}",
                               "--out", str(tmp_path / "never")], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2, proc.stderr[-2000:]
        lines = proc.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("--set load.users:") and expected in lines[0], proc.stderr
        assert not (tmp_path / "never").exists()  # nothing was started


def test_every_file_is_judged_even_after_a_hostile_one(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(HOSTILE["self-alias"][0])
    good = Path(__file__).parent.parent.parent / "scenarios" / "quickstart.yaml"
    proc = validate(bad, good)
    assert proc.returncode == 2
    assert f"{good}: ok" in proc.stdout and "recursive alias" in proc.stderr


def harness(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=timeout)


def test_run_refuses_an_out_that_is_a_file_before_starting_anything(tmp_path):
    scenario = Path(__file__).parent.parent.parent / "scenarios" / "quickstart.yaml"
    out = tmp_path / "a-file"
    out.write_text("keep me\n")
    proc = harness("run", str(scenario), "--out", str(out))
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.splitlines() == [f"{out}: cannot write the run's files there (File exists)"], proc.stderr
    assert out.read_text() == "keep me\n"


def test_run_reports_a_preflight_problem_as_one_located_line(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: x\nmode: measure\ntarget: {compose: absent.yml}\n"
                        "load: {host: 'http://lb:8080', duration_s: 5, requests: [{path: /}]}\n")
    proc = harness("run", str(scenario), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{scenario}:3:") and "compose file not found" in lines[0], lines
    assert "Traceback" not in proc.stderr


def test_a_bug_reaches_the_user_as_one_line_and_exit_3(tmp_path):
    code = ("import sys, harness.scenario as s\n"
            "def boom(*a, **k):\n    raise KeyError('multi\\nline')\n"
            "s.load_scenario = boom\nsys.argv = ['harness', 'validate', 'x.yaml']\n"
            "from harness.cli import main\nmain()\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.splitlines() == ["harness: internal error: KeyError: 'multi\\nline' (a bug; HARNESS_DEBUG=1 "
                                        "shows the traceback)"], proc.stderr
    debug = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                           env={**os.environ, "HARNESS_DEBUG": "1"})
    assert "Traceback" in debug.stderr and debug.returncode == 1
