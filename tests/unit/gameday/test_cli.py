"""``harness gameday`` at the command line (a real subprocess) refuses what it cannot play with
exit 2 and one line, before anything starts."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO


def gameday(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", "gameday", *args], capture_output=True, text=True,
                          timeout=60, cwd=REPO, input="end\n")


@pytest.mark.parametrize("args, message", [
    (("scenarios/quickstart.yaml", "--set", "load.workers=2"),
     "load.workers: harness gameday runs the load in one process"),
    (("scenarios/no-such.yaml",), "no-such.yaml"),
    (("scenarios/quickstart.yaml", "--max-duration-s", "0"), "--max-duration-s"),
])
def test_what_cannot_be_played_is_exit_2_and_one_line(args, message):
    proc = gameday(*args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_a_cap_shorter_than_the_declared_schedule_is_no_error():
    """The quickstart's faults end at 60 s; a game day ignores their schedule, so a 20 s cap
    is valid for it (and still invalid for a run)."""
    from harness.scenario import load_scenario

    loaded = load_scenario(REPO / "scenarios/quickstart.yaml", ["load.duration_s=20"], schedule=False)
    assert loaded.scenario.load.duration_s == 20
    with pytest.raises(Exception, match="after the load ends at 20 s"):
        load_scenario(REPO / "scenarios/quickstart.yaml", ["load.duration_s=20"])
