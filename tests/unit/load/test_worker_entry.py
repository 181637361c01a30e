"""The load child's command line (``python -m harness.load.worker``): its two forms, and which
role a spec asks for. The module imports locust, so it runs in a fresh interpreter (in_child.py)."""

from __future__ import annotations

import subprocess
import sys

from .in_child import REPO, json_from


def test_the_two_command_line_forms_and_nothing_else():
    got = json_from("""
        import json
        from harness.load.worker import parse_args
        cases = [["s.json"], ["--worker", "10.0.0.2:5557", "s.json"], [], ["a.json", "b.json"],
                 ["--worker", "s.json"], ["--master", "h:1", "s.json"]]
        print(json.dumps([parse_args(argv) for argv in cases]))
    """)
    assert got == [[None, "s.json"], ["10.0.0.2:5557", "s.json"], None, None, None, None]


def test_a_spec_with_workers_or_a_master_bind_runs_distributed():
    got = json_from("""
        import json
        from harness.load.worker import distributed
        print(json.dumps([distributed({"workers": 0, "master_bind": None}), distributed({}),
                          distributed({"workers": 2}), distributed({"workers": 0, "master_bind": "0.0.0.0:5557"})]))
    """)
    assert got == [False, False, True, True]


def test_bad_arguments_print_the_usage_and_exit_2():
    done = subprocess.run([sys.executable, "-m", "harness.load.worker", "--worker", "s.json"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "usage: python -m harness.load.worker [--worker HOST:PORT] SPEC.json" in done.stderr
