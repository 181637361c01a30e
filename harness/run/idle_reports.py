"""Report pages drawn by a child process in the CPU time nothing else wants.

A sweep's cells on a shared stack follow each other with no ``compose down`` between them, so
nothing hides a report's plots (about 0.5 s of one core a report, :mod:`harness.report.plots`):
each cell's ``report.html`` would hold up the next cell by that much. So a cell that another
run follows (:attr:`harness.run.shared.SharedStack.more_runs`) writes ``report.json``,
``report.md`` and ``junit.xml`` itself (its verdicts are known at once), and :class:`IdleReports`
has a child process draw its ``report.html`` (``python -m harness.run.idle_reports RUN_DIR``:
:func:`harness.report.regenerate` from that ``report.json``) at Linux's ``SCHED_IDLE``
policy: the child runs only on a CPU that no other task wants, and any other task that wakes
takes the CPU from it at once, so the next cell's load generator, services and harness run as
if it were not there (``nice 19`` where ``SCHED_IDLE`` is missing). ``bench/sweep_shared.py``
measures what it saves.

A sweep's own ``sweep.html``, rewritten after every cell (its plots again, ~0.2 s), is drawn
the same way while the sweep runs; the sweep writes the final one itself.

Nothing is lost and nothing is left: :meth:`IdleReports.finish` waits for every child when the
sweep's cells are over and draws itself any page a child did not write (it failed, could not
start, ran out of time, or a Ctrl-C ended it), so every ``report.html`` exists when the sweep
ends.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from harness.run.harness_log import append_traceback

FINISH_TIMEOUT_S = 120.0
"""How long :meth:`IdleReports.finish` waits for the children together, seconds: drawing a
page takes a child about 2 s of one core (Python, pandas and matplotlib loaded, three plots),
and a busy machine gives an idle-priority child little; a child still drawing then is killed
and its page drawn in-process."""


class IdleReports:
    """Run directories whose ``report.html`` a child process draws (see the module docstring)."""

    def __init__(self) -> None:
        self._pending: list[tuple[Path, subprocess.Popen | None]] = []

    def submit(self, run_dir: Path) -> None:
        """Start a child that draws ``run_dir``'s ``report.html`` from its ``report.json`` (a
        sweep directory's ``sweep.html`` from its ``sweep.json``); a child still drawing the
        same directory's page from an older file is cancelled first (:meth:`cancel`). A child
        that cannot start is left for :meth:`finish` to make up for. Never raises."""
        self.cancel(run_dir)
        try:
            proc: subprocess.Popen | None = subprocess.Popen(
                [sys.executable, "-m", "harness.run.idle_reports", str(run_dir)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError:
            proc = None
        self._pending.append((run_dir, proc))

    def cancel(self, run_dir: Path) -> None:
        """Forget ``run_dir``'s pending child, killed if still running: its page is out of date
        (a newer ``sweep.json``, or the caller writes the page itself now). Never raises."""
        keep = []
        for pending_dir, proc in self._pending:
            if pending_dir != run_dir:
                keep.append((pending_dir, proc))
            elif proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
        self._pending = keep

    def finish(self, timeout_s: float = FINISH_TIMEOUT_S) -> list[Path]:
        """Wait for every child (``timeout_s`` for all of them); draw in-process every page a
        child did not write (it exited non-zero, never started, was still drawing at the
        deadline, or a Ctrl-C here ended the wait); kill any child still running. Returns the
        run directories drawn in-process. Never raises: a page that cannot be drawn at all
        leaves its traceback in that run's ``harness.log``."""
        pending, self._pending = self._pending, []
        deadline = time.monotonic() + timeout_s
        missing = [run_dir for run_dir, proc in pending if not _wrote(proc, deadline)]
        for run_dir in missing:
            draw_here(run_dir)
        return missing


def _wrote(proc: subprocess.Popen | None, deadline: float) -> bool:
    """Whether the child exited 0 by ``deadline``; a child still running is killed."""
    if proc is None:
        return False
    try:
        return proc.wait(timeout=max(0.0, deadline - time.monotonic())) == 0
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        proc.kill()
        proc.wait()
        return False


def draw_here(run_dir: Path) -> None:
    """Render every format of ``run_dir``'s report from its ``report.json`` in this process
    (:func:`regenerate`). Never raises: a failure's traceback goes to the run's ``harness.log``."""
    try:
        regenerate(run_dir)
    except Exception:  # noqa: BLE001 - the run's report.json and report.md are written already
        append_traceback(run_dir, "drawing report.html")


def regenerate(run_dir: Path) -> None:
    """Render ``run_dir``'s pages again from its own JSON: a sweep directory's ``sweep.md`` and
    ``sweep.html`` from ``sweep.json`` (:func:`harness.report.sweep.regenerate_sweep`), a run
    directory's ``report.md``, ``report.html`` and ``junit.xml`` from ``report.json``
    (:func:`harness.report.regenerate`).

    Raises:
        harness.report.ReportFileError: the JSON is missing or damaged, or a page cannot be
            written.
    """
    if (run_dir / "sweep.json").is_file():
        from harness.report.sweep import regenerate_sweep

        regenerate_sweep(run_dir)
    else:
        from harness.report import regenerate as regenerate_report

        regenerate_report(run_dir)


def idle_priority() -> None:
    """Put this process in Linux's ``SCHED_IDLE`` scheduling policy (it runs only when a CPU
    would otherwise be idle), or at ``nice 19`` where that policy is missing. Never raises."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        try:
            os.nice(19)
        except OSError:
            pass


def main(argv: list[str]) -> int:
    """``python -m harness.run.idle_reports DIR``: at idle priority, render DIR's pages again
    from its JSON (:func:`regenerate`). Exit 0 when written, 2 without exactly one argument;
    an error exits 1 with its traceback on stderr."""
    if len(argv) != 1:
        print("usage: python -m harness.run.idle_reports RUN_DIR", file=sys.stderr)
        return 2
    idle_priority()
    regenerate(Path(argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
