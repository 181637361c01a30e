"""One stack for several runs: the cells of a sweep that vary only load and fault parameters.

Bringing a stack up and down costs a run most of its fixed time (compose up, the health wait,
compose down). When consecutive runs differ only in what they *do* to the stack (load, faults,
expectations), :class:`SharedStack` lets them use one: the first run brings the stack up as
usual and hands it over instead of pushing ``stack.down``; each later run adopts it. Between
runs the stack is put back as it was (:meth:`SharedStack.reset`):

1. Toxiproxy's ``POST /reset``: every toxic removed, every proxy enabled;
2. every container that was running when the stack was first healthy and is not running now is
   started, every paused one unpaused (a fault's own revert does this already; this is the
   safety net when a revert failed);
3. the health wait again (``target.healthy_timeout_s``).

The next run then judges its baseline against the steady state as any run does, so a stack that
did not come back is seen there (the run is inconclusive), never silently measured.

A reset that fails closes the stack (``compose down``) and the next run brings up a fresh one.
:meth:`SharedStack.close` takes the stack down for good; its lifecycle events and the
containers' final logs go into the shared stack's own directory (``home``).

A shared stack has no health wait for the next run's load child to import Locust behind, so
each run, once its load is over, spawns the next run's child ahead (:meth:`prewarm_load`,
a :class:`harness.load.driver.WarmChild`): it imports during the teardown and the report, and
the next run adopts it (:meth:`take_warm_load`). The last run spawns none
(:attr:`SharedStack.more_runs`); :meth:`close` ends one left unused. The last run also takes the
stack down in its own teardown, its report's plots drawn meanwhile (:meth:`push_undo`), and the
later runs' preflights check the kept stack's resolved project (:attr:`compose_config`).
A run that another run follows leaves its ``report.html`` to a child process at idle priority
(:attr:`SharedStack.idle_reports`, :mod:`harness.run.idle_reports`): its plots would otherwise
hold up the next run.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from harness.environment.containers import docker_call
from harness.journal import Journal
from harness.load.driver import WarmChild
from harness.run.idle_reports import IdleReports
from harness.run.signals import FastTeardown, handle_signals, raise_fast_teardown, restore_signals
from harness.run.undo import UndoStack
from harness.toxiproxy import ToxiproxyClient

if TYPE_CHECKING:
    from harness.environment import Stack
    from harness.run.prepare import Prepared


class SharedStack:
    """A stack kept up across runs (see the module docstring).

    Args:
        home: directory for the stack's own journal (``journal.jsonl``: its final ``stack.down``)
            and its containers' last logs (``logs/``), written by :meth:`close`.
        idle_reports: where the followed runs' pages go (a sweep's own, which also draws its
            ``sweep.html``); a new one when None.
    """

    def __init__(self, home: Path, idle_reports: IdleReports | None = None):
        self.home = home
        self.stack: Stack | None = None
        self.toxiproxy: ToxiproxyClient | None = None
        self.running_when_healthy: set[str] | None = None
        self.runs = 0
        """How many runs used the stack since it last came up."""
        self.more_runs = True
        """Whether another run will follow this one (the caller sets False before the last run):
        :meth:`prewarm_load` spawns nothing for the last run."""
        self.warm_load: WarmChild | None = None
        self.idle_reports = idle_reports if idle_reports is not None else IdleReports()
        """The report pages of the runs another run followed, drawn by child processes at idle
        priority (:mod:`harness.run.idle_reports`); the caller calls its ``finish`` when the
        runs are over."""
        self.compose_config: dict | None = None
        """The kept stack's resolved compose project (its first run's preflight), which the
        later runs' preflights check instead of resolving the same file again; None when no
        stack is kept."""

    def prewarm_load(self) -> None:
        """Spawn the next run's load child ahead (see the module docstring), unless one is
        waiting already or no run follows."""
        if self.more_runs and self.warm_load is None:
            self.warm_load = WarmChild()

    def take_warm_load(self) -> WarmChild | None:
        """The load child :meth:`prewarm_load` spawned, for this run's driver to adopt (None
        when there is none); the caller owns it from now on."""
        warm, self.warm_load = self.warm_load, None
        return warm

    def adopt(self, run: Prepared) -> Stack | None:
        """The kept stack, now recording into ``run``'s journal (and its compose log into the
        run's directory), or None when there is none (the run brings one up and :meth:`keep`
        s it). Journals ``stack.shared`` with the project and how many runs used it before."""
        stack = self.stack
        if stack is None:
            return None
        stack.journal, stack.redact = run.journal, run.redact
        stack.compose.log_path, stack.compose.redact = run.run_dir / "compose.log", run.redact
        run.journal.record("stack.shared", project=stack.project, runs_before=self.runs)
        self.runs += 1
        return stack

    def keep(self, stack: Stack, compose_config: dict | None = None) -> None:
        """Keep ``stack`` (about to come up) for the runs after this one; ``compose_config`` is
        its resolved project (the preflight's)."""
        self.stack, self.runs, self.running_when_healthy = stack, 1, None
        self.compose_config = compose_config

    def note_healthy(self, stack: Stack, toxiproxy: ToxiproxyClient | None) -> None:
        """Remember, the first time the kept stack is healthy, which containers were running
        (what :meth:`reset` restores) and the Toxiproxy client (what it resets)."""
        if stack is self.stack and self.running_when_healthy is None:
            self.running_when_healthy = {c.name for c in stack.containers.listing()}
            self.toxiproxy = toxiproxy

    def push_undo(self, undo: UndoStack, before_down: Callable[[], object] | None = None) -> None:
        """Push this run's share of the teardown: graceful ``stack.reset`` (:meth:`reset`; on
        failure the stack is closed and the error raised, so the run ends ``error``); fast
        (a second Ctrl-C): :meth:`close` at once.

        The last run (:attr:`more_runs` False) takes the stack down instead (``stack.down``:
        :meth:`close`), with ``before_down`` (the report's plots, ``report.ahead``) just before,
        as a run with a stack of its own does (:func:`harness.run.teardown.push_stack`)."""
        if self.more_runs or before_down is None:
            undo.push("stack.reset", self.reset, lambda: self.close(fast=True))
            return
        undo.push("stack.down", lambda: self.close(save_logs=False), lambda: self.close(fast=True))
        undo.push("report.ahead", before_down)

    def reset(self) -> None:
        """Put the kept stack back as it was first healthy (the module docstring's three steps).

        Raises:
            EnvironmentFailure: Toxiproxy or the engine failed, or the stack is not healthy
                again within ``target.healthy_timeout_s``; the stack is closed first.
        """
        stack = self.stack
        if stack is None:
            return
        try:
            if self.toxiproxy is not None:
                self.toxiproxy.reset()
            self._restore_containers(stack)
            stack.wait_healthy(stack.target.healthy_timeout_s)
        except BaseException:
            self.close()
            raise

    def _restore_containers(self, stack: Stack) -> None:
        for name in sorted(self.running_when_healthy or ()):
            container = stack.containers.inspect(name)
            if container.status == "paused":
                docker_call(f"unpause {name}", container.unpause)
            elif container.status != "running":
                docker_call(f"start {name}", container.start)

    def close(self, fast: bool = False, save_logs: bool = True) -> None:
        """Take the kept stack down (its last logs saved into ``home/logs`` first, unless
        ``fast`` or not ``save_logs``: the last run's teardown has just saved them into its own
        directory); idempotent, never raises (errors go to ``home/journal.jsonl``). As a run's
        teardown does, a Ctrl-C or SIGTERM meanwhile switches to the fast ``down`` (the containers
        force-removed by label), and further signals are ignored until it is done."""
        stack, self.stack, self.toxiproxy, self.compose_config = self.stack, None, None, None
        warm, self.warm_load = self.warm_load, None
        if warm is not None:
            warm.discard()
        if stack is None:
            return
        journal = Journal(self.home, redact=stack.redact)
        stack.journal = journal
        stack.compose.log_path = self.home / "compose.log"
        previous = handle_signals(raise_fast_teardown) if _main_thread() else None
        try:
            if not fast and save_logs:
                _save_logs(stack, self.home, journal)
            stack.down(fast=fast)
        except FastTeardown:
            if previous is not None:
                handle_signals(signal.SIG_IGN)
            stack.down(fast=True)
        finally:
            journal.close()
            if previous is not None:
                restore_signals(previous)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _save_logs(stack: Stack, home: Path, journal: Journal) -> None:
    """The containers' last logs into ``home/logs``; an error is journalled, a second signal
    (:class:`FastTeardown`) passes through."""
    from harness.environment.logs import save_logs

    try:
        if stack.started:
            save_logs(stack, home, stack.redact, passthrough=(FastTeardown,))
    except FastTeardown:
        raise
    except Exception as exc:  # noqa: BLE001 - the logs are a courtesy; the stack must go down
        journal.record("logs.error", error=f"{type(exc).__name__}: {exc}")
