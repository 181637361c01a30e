"""``harness gameday``: a run whose faults an operator injects and reverts live, by command.

A game day is :func:`harness.run.orchestrate.execute` with three phases of its own
(:class:`harness.run.parts.Phases`): the drive (:class:`~harness.gameday.drive.GameDay`: the
commands from a terminal or a pipe, the live view), the fault timeline
(:class:`~harness.gameday.operator.OperatorTimeline`: faults on command, through the same
injectors and journal events as a run's), and the scenario the report judges
(:func:`~harness.gameday.judging.judged_scenario`: the faults injected). Everything else is a
run's: prepare, start, teardown (which reverts whatever is still active), the journal, the
reports and the exit codes.

Modules: ``commands`` (a line into a command), ``operator`` (the timeline), ``drive`` (the
loop), ``live`` (what is shown), ``terminal`` (typing under the live view), ``judging`` (what
is judged).
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from contextlib import nullcontext
from pathlib import Path
from typing import TextIO

from rich.console import Console

from harness.errors import ScenarioError
from harness.gameday.drive import GameDay, read_lines
from harness.gameday.terminal import CbreakMode, LineEditor, read_keys
from harness.gameday.judging import judged_scenario
from harness.gameday.operator import OperatorTimeline
from harness.run.orchestrate import RunResult, execute
from harness.run.parts import ContextFactory, Phases
from harness.run.prepare import Prepared
from harness.scenario import LoadedScenario


def check_playable(loaded: LoadedScenario) -> None:
    """A game day ends its load when the operator says so, which a single load process does
    (:meth:`harness.load.LoadDriver.request_stop`); a Locust master with workers does not.

    Raises:
        ScenarioError: ``load.workers`` > 0 or ``load.master_bind`` set (exit 2).
    """
    load = loaded.scenario.load
    if load.workers.total or load.master_bind:
        field = "load.workers" if load.workers.total else "load.master_bind"
        raise ScenarioError([loaded.problem(field, "harness gameday runs the load in one process (load.workers 0, "
                                                   "no load.master_bind): set them with --set")])


def play(loaded: LoadedScenario, out_dir: Path | None = None, seed: int | None = None,
         console: Console | None = None, strict: bool = False, stream: TextIO | None = None) -> RunResult:
    """Run a game day of ``loaded``: stack and proxies up, the load running until ``end``, the
    end of ``stream`` or ``load.duration_s``, the operator's commands read from ``stream``
    (default stdin) one a line, echoed on ``console`` (default stderr); then the teardown and
    the reports, as :func:`harness.run.orchestrate.execute`. When ``stream`` and the console
    are both terminals, keys are read in cbreak mode and the line typed is shown under the live
    line (:mod:`harness.gameday.terminal`); the terminal's settings are put back at the end.

    Returns:
        The report (its status as a run's) and its paths.

    Raises:
        ScenarioError: the scenario cannot be played (:func:`check_playable`) or the
            preflight found a problem; nothing was started.
        OutputDirError: ``out_dir`` is not writable; nothing was started.
    """
    check_playable(loaded)
    console = console or Console(stderr=True)
    stream = stream or sys.stdin
    lines: queue.Queue[str | None] = queue.Queue()
    fd = _terminal_fd(stream) if console.is_terminal else None
    editor = LineEditor(lines) if fd is not None else None
    reader = threading.Thread(target=read_lines if editor is None else read_keys, name="gameday-input", daemon=True,
                              args=(stream, lines) if editor is None else (fd, editor))
    game = GameDay(lines, echo=lambda text: console.print(text, markup=False, highlight=False, soft_wrap=True),
                   typed=(lambda: editor.typed) if editor is not None else None)
    made: list[OperatorTimeline] = []

    def make_timeline(run: Prepared, make_context: ContextFactory) -> OperatorTimeline:
        services = set(run.compose_config.get("services") or {})
        made.append(OperatorTimeline(run.scenario, services, make_context, run.journal, run.seed, time.time,
                                     run.ledger))
        return made[-1]

    def report_scenario(loaded: LoadedScenario) -> LoadedScenario:
        return judged_scenario(loaded, made[-1].injected_specs() if made else [])

    with CbreakMode(fd) if fd is not None else nullcontext():
        reader.start()
        return execute(loaded, out_dir=out_dir, seed=seed, console=console, strict=strict,
                       phases=Phases(drive=game, timeline=make_timeline, report_scenario=report_scenario))


def _terminal_fd(stream: TextIO) -> int | None:
    """``stream``'s file descriptor when it is a terminal (keys are then read one by one and
    the line edited under the live view, :mod:`harness.gameday.terminal`), else None."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # io.StringIO and the like
        return None
    return fd if os.isatty(fd) else None


__all__ = ["check_playable", "play"]
