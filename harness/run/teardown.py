"""The teardown: every undo step runs, whatever the others raised.

What undoes each part of a run is defined here (one ``push_*`` per part); the start phase pushes
it onto the run's :class:`~harness.run.undo.UndoStack` as it starts the part, so the teardown
runs, last started first:

    graceful: progress, watchdog.stop, timeline.revert_all, monitor.stop, proxy_watch.stop,
              driver.stop, logs.save, report.ahead, stack.down
    fast:     progress, monitor.stop, proxy_watch.stop, driver.stop(grace 0), logs.save
              (5 s budget), stack.down(fast)

The fast teardown replaces the graceful one when a second SIGINT/SIGTERM arrives during it.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from harness.run.harness_log import append_traceback
from harness.run.signals import FastTeardown, handle_signals, raise_fast_teardown
from harness.run.undo import TeardownStep, UndoStack

if TYPE_CHECKING:
    from harness.environment import Stack
    from harness.environment.monitor import Monitor
    from harness.environment.proxy_watch import ProxyWatch
    from harness.environment.watchdog import Watchdog
    from harness.journal import Journal
    from harness.load import LoadDriver
    from harness.progress import Progress
    from harness.run.timeline import Timeline

GRACEFUL_PHASE = "tearing down (Ctrl-C again for a fast teardown)"
FAST_PHASE = "fast teardown: force-removing everything labelled with this run"


# -- what undoes each part -------------------------------------------------------------------


def push_stack(undo: UndoStack, stack: Stack, journal: Journal,
               before_down: Callable[[], object] | None = None) -> None:
    """Push ``stack.down`` and, above it, ``logs.save`` (every container's log into ``logs/``,
    :mod:`harness.environment.logs`, before the containers go; nothing when the stack never came
    up). Graceful: logs saved with their usual budget (a second signal still switches to the
    fast teardown), a graceful ``down``. Fast: what the logs give within ``FAST_SAVE_BUDGET_S``
    (5 s), a forced ``down``.

    ``before_down`` (graceful only, as ``report.ahead``) runs between the two: everything the
    run measured is in then, and ``down`` takes seconds (``harness run`` starts drawing the
    report's plots there, :class:`harness.run.report.PlotsAhead`)."""
    undo.push("stack.down", stack.down, lambda: stack.down(fast=True))
    if before_down is not None:
        undo.push("report.ahead", before_down)
    push_logs(undo, stack, journal)


def push_logs(undo: UndoStack, stack: Stack, journal: Journal) -> None:
    """Push ``logs.save``: every container's log into the run's ``logs/`` before the containers
    go (or are reset, for a shared stack). Graceful: the usual budget; fast: 5 s."""
    undo.push("logs.save", lambda: _save_logs(stack, journal.run_dir), lambda: _save_logs_fast(stack))


def push_driver(undo: UndoStack, driver: LoadDriver, journal: Journal) -> None:
    """Push ``driver.stop``. Graceful: stop the load child, journalling a cut-short
    ``load.stop`` if it was still loading. Fast: kill it at once (``grace_s=0``)."""
    undo.push("driver.stop", lambda: _stop_load(driver, journal), lambda: driver.stop(grace_s=0))


def push_proxy_watch(undo: UndoStack, watch: ProxyWatch) -> None:
    """Push ``proxy_watch.stop``, the same in both teardowns."""
    undo.push("proxy_watch.stop", watch.stop, watch.stop)


def push_monitor(undo: UndoStack, monitor: Monitor) -> None:
    """Push ``monitor.stop``, the same in both teardowns."""
    undo.push("monitor.stop", monitor.stop, monitor.stop)


def push_timeline(undo: UndoStack, timeline: Timeline, t0: Callable[[], float]) -> None:
    """Push ``timeline.revert_all`` (waits for in-flight injects, then reverts every fault
    marked injected), graceful only: the fast teardown removes the containers that hold the
    faults. ``t0``: the load's start (epoch s), read when the step runs."""
    undo.push("timeline.revert_all", lambda: timeline.revert_all(t0()))


def push_watchdog(undo: UndoStack, watchdog: Watchdog) -> None:
    """Push ``watchdog.stop``, graceful only."""
    undo.push("watchdog.stop", watchdog.stop)


def _save_logs(stack: Stack, run_dir: Path) -> object:
    from harness.environment.logs import save_logs

    return stack.started and save_logs(stack, run_dir, stack.redact, passthrough=(FastTeardown,))


def _save_logs_fast(stack: Stack) -> object:
    from harness.environment.logs import FAST_SAVE_BUDGET_S, save_logs

    return stack.started and save_logs(stack, stack.journal.run_dir, stack.redact, budget_s=FAST_SAVE_BUDGET_S)


def _stop_load(driver: LoadDriver, journal: Journal) -> None:
    """Stop the load child; journal ``load.stop`` (``cut_short``) if it was still loading."""
    was_loading = driver.running and driver.started_at is not None
    driver.stop()
    if was_loading:
        journal.record("load.stop", recorded=driver.stats.requests, cut_short=True)


# -- running the steps -----------------------------------------------------------------------


def run_steps(steps: list[TeardownStep], journal: Journal, run_dir: Path) -> list[str]:
    """Run every step in order, whatever the ones before it raised.

    Returns:
        One ``"<step>: <ExceptionType>: <message>"`` per step that raised (each also journalled
        as ``teardown.error`` with ``step`` and ``error``, its traceback appended to
        ``harness.log``); [] when all went well.

    Raises:
        FastTeardown: a second signal arrived; the remaining steps are skipped (the fast
            teardown replaces them).
    """
    failures = []
    for name, call in steps:
        try:
            call()
        except FastTeardown:
            raise
        except Exception as exc:  # noqa: BLE001 - journalled; the run becomes inconclusive
            failure = f"{type(exc).__name__}: {exc}"
            journal.record("teardown.error", step=name, error=failure)
            append_traceback(run_dir, f"teardown step {name}")
            failures.append(f"{name}: {failure}")
    return failures


def unwind(undo: UndoStack, journal: Journal, progress: Progress, status: str,
           error: str | None) -> tuple[str, str | None]:
    """Run the graceful teardown of ``undo``; a signal meanwhile (a second Ctrl-C) switches to
    its fast teardown, with further signals ignored. Never raises.

    Args:
        status, error: the run's outcome so far (``completed``, ``interrupted``, ``aborted``,
            ``error``) and its message.

    Returns:
        The run's ``(status, error)`` after teardown: ``interrupted`` after a fast teardown;
        ``error`` ("teardown failed: ...") when a step raised and the run was ``completed``;
        otherwise unchanged.
    """
    handle_signals(raise_fast_teardown)
    try:
        failures = run_steps(_announced(progress, GRACEFUL_PHASE, undo.graceful_steps()), journal, journal.run_dir)
    except FastTeardown:
        handle_signals(signal.SIG_IGN)
        run_steps(_announced(progress, FAST_PHASE, undo.fast_steps()), journal, journal.run_dir)
        return "interrupted", error or "interrupted during teardown"
    if failures and status not in ("interrupted", "aborted", "error"):
        return "error", "teardown failed: " + "; ".join(failures)
    return status, error


def _announced(progress: Progress, phase: str, steps: list[TeardownStep]) -> list[TeardownStep]:
    """``steps`` after a first ``progress`` step announcing ``phase``."""
    return [("progress", lambda: progress.phase(phase)), *steps]
