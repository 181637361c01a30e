"""Exceptions and the exit codes they map to.

Exit codes keep "the system deviated" apart from "the tool failed" (Chaos Toolkit returns 1 for
both; k6 uses 99 for failed thresholds, Gatling 2):

- 0 ``PASSED``: every expectation held on evidence (also a measurement run, ``measured``);
- 1 ``FAILED``: at least one expectation failed (or, with ``--strict``, one was inconclusive);
- 2 ``USAGE``: invalid scenario or command line; nothing was started;
- 3 ``ERROR``: the harness or the environment failed, or request records were lost; never a pass;
- 4 ``ABORTED``: an abort condition tripped; every fault was reverted;
- 5 ``INCONCLUSIVE``: nothing failed, but some verdict lacked its evidence (a fault that never
  took effect, a pattern signal that could not be read, too few requests, a baseline that broke
  the steady state); never a pass;
- 130 ``INTERRUPTED``: SIGINT/SIGTERM (128 + SIGINT, the shell convention).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes of the ``harness`` CLI (see the module docstring)."""

    PASSED = 0
    FAILED = 1
    USAGE = 2
    ERROR = 3
    ABORTED = 4
    INCONCLUSIVE = 5
    INTERRUPTED = 130


class HarnessError(Exception):
    """Base class of every error the CLI turns into a one-line message and an exit code."""

    exit_code: ExitCode = ExitCode.ERROR


class ScenarioError(HarnessError):
    """The scenario (or a ``--set`` override) is invalid.

    ``problems`` holds one line per error, each ``file:line:col: field.path: message``.
    """

    exit_code = ExitCode.USAGE

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class OutputDirError(HarnessError):
    """A directory given for a run's files (``--out``) is not a directory or cannot be written;
    raised before anything is started."""

    exit_code = ExitCode.USAGE


class EnvironmentFailure(HarnessError):
    """Docker, compose, Toxiproxy or the target stack misbehaved; the run is inconclusive."""

    exit_code = ExitCode.ERROR
