"""The game day's drive phase: the load runs while the operator's commands are applied.

Lines come from a text stream (the terminal, or a pipe) read by a thread into a queue. The loop
ticks like a run's (:func:`harness.run.drive.tick`): the timeline's due actions, the watchdog
and the abort conditions, the live line; and between ticks it applies the commands
(:mod:`harness.gameday.commands`), each echoed on the console with its UTC time. Every line is
journalled as ``gameday.command`` (``line``, ``ok``, ``message``); a bad one changes nothing
else.

The game ends on ``end``; at the end of the input (a pipe's end, a lost terminal: EOF, or
SIGHUP); or when the load reaches ``load.duration_s`` (the cap). Then every active fault is
reverted (journalled ``fault.revert``, as the operator's own reverts), the load is asked to stop
(its users finish their requests in flight, which are recorded), acknowledged writes are read
back, ``gameday.end`` (``reason``, ``unjudged``) and ``load.stop`` are journalled. Ctrl-C or
SIGTERM end it as they end a run: interrupted, everything reverted by the teardown, the report
written.
"""

from __future__ import annotations

import queue
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, TextIO

from harness.gameday.commands import USAGE, CommandError, End, Inject, Note, Revert, Status, parse
from harness.gameday.live import RecentLatency, WindowsSoFar, clock_tag, live_line, status_lines
from harness.gameday.judging import unjudged
from harness.gameday.operator import OperatorTimeline, Outcome
from harness.run.drive import LOAD_END_GRACE_S, TICK_S, check_guards, read_back_acked, record_load_stop
from harness.run.parts import Started
from harness.run.prepare import Prepared

if TYPE_CHECKING:
    from harness.progress import Progress

EOF = None
"""What the line queue holds once the input ended."""


def read_lines(stream: TextIO, lines: queue.Queue[str | None]) -> None:
    """Put every line of ``stream`` on ``lines``, then :data:`EOF` (also when reading fails:
    a lost terminal). Bytes that are not text become U+FFFD (the line is then refused as a
    command, it does not end the input). For a daemon thread."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        try:
            reconfigure(errors="replace")
        except (ValueError, OSError):
            pass
    try:
        for line in stream:
            lines.put(line)
    except (OSError, ValueError):
        pass
    finally:
        lines.put(EOF)


@dataclass
class GameDay:
    """The drive phase of ``harness gameday`` (a :data:`harness.run.parts.DrivePhase`), and
    the echo of what the operator did.

    Args:
        lines: the input lines (:func:`read_lines` fills it; :data:`EOF` ends the game).
        echo: prints one line (the caller's console, stderr); given ``HH:MM:SSZ text``.
        clock: epoch seconds.
        typed: the line being typed, shown under the live line after ``> `` (None: the
            terminal echoes it itself, or the input is a pipe; :mod:`harness.gameday.terminal`).
    """

    lines: queue.Queue[str | None]
    echo: Callable[[str], None]
    clock: Callable[[], float] = time.time
    typed: Callable[[], str] | None = None
    reason: str = ""
    unjudged: list[str] = field(default_factory=list)
    _hangup: bool = False

    def say(self, text: str) -> None:
        """Echo ``text`` after the current UTC time, e.g. ``12:03:04Z inject catalog-slow``."""
        self.echo(f"{clock_tag(self.clock())} {text}")

    def __call__(self, run: Prepared, started: Started, progress: Progress) -> None:
        """Play the game day to its end (see the module docstring), then end the load and
        journal ``load.stop``.

        Raises:
            EnvironmentFailure: the watchdog lost the control plane, a revert failed, or the
                load child failed. Aborted: an abort condition tripped. Interrupted: a signal.
        """
        timeline: OperatorTimeline = started.timeline  # type: ignore[assignment]
        view = _View(RecentLatency(run.run_dir / "requests.tsv"), WindowsSoFar(run.run_dir))
        progress.phase("game day: load running")
        self.say(f"ready; {USAGE}")
        previous = _on_hangup(self._hung_up)
        try:
            while not self.reason:
                self.reason = self.turn(run, started, progress, view)
        finally:
            _restore_hangup(previous)
        self.finish(run, started, progress, timeline)

    def turn(self, run: Prepared, started: Started, progress: Progress, view: _View) -> str:
        """One tick: the timeline's due actions, the guards, the echoes, the live line; then
        the next command if one comes within :data:`TICK_S`. Returns why the game ends, or ""
        to go on."""
        timeline: OperatorTimeline = started.timeline  # type: ignore[assignment]
        timeline.step(started.t0)
        now = self.clock()
        check_guards(run, started, now)
        self._echo_outcomes(timeline)
        shown = view.line(started, now, timeline.active())
        typed = self.typed() if self.typed is not None else None
        progress.show(shown if typed is None else f"{shown}\n> {typed}", refresh=typed != view.typed)
        view.typed = typed
        cap_s = run.scenario.load.duration_s
        if now - started.t0 >= cap_s:
            return f"the load reached load.duration_s ({cap_s:g} s)"
        if not started.driver.running:
            return "the load ended early (see locust.log)"
        if self._hangup:
            return "the terminal was lost (SIGHUP)"
        try:
            line = self.lines.get(timeout=TICK_S)
        except queue.Empty:
            return ""
        if line is EOF:
            return "end of input"
        return self.apply(line, run, started, view)

    def apply(self, line: str, run: Prepared, started: Started, view: _View) -> str:
        """Apply one command line, echo what happened and journal it (``gameday.command``);
        returns why the game ends (``"the end command"`` for ``end``), else "". A bad command
        is echoed as one error line and changes nothing else."""
        timeline: OperatorTimeline = started.timeline  # type: ignore[assignment]
        t0 = started.t0
        try:
            command = parse(line)
            if command is None:
                return ""
            if isinstance(command, Inject):
                spec = timeline.spec_for(command.name, command.params)
                label = timeline.inject(spec, t0)
                message = f"inject {label}: injecting {_describe(spec)}"
            elif isinstance(command, Revert):
                message = f"revert {timeline.revert(command.name, t0)}: reverting"
            elif isinstance(command, Note):
                run.journal.record("note", t=self.clock(), text=command.text)
                message = f"note: {command.text}"
            elif isinstance(command, Status):
                now = self.clock()
                shown = view.status(started, now, timeline.active())
                for text in shown[:-1]:
                    self.say(text)
                message = shown[-1]
            else:
                assert isinstance(command, End)
                message = "end: ending the game day"
                self.reason = "the end command"
        except CommandError as exc:
            self.say(f"error: {exc}")
            run.journal.record("gameday.command", line=line.strip(), ok=False, message=str(exc))
            return ""
        self.say(message)
        run.journal.record("gameday.command", line=line.strip(), ok=True, message=message)
        return self.reason if isinstance(command, End) else ""

    def finish(self, run: Prepared, started: Started, progress: Progress, timeline: OperatorTimeline) -> None:
        """The end of the game: revert every active fault (waiting for them, and for anything in
        flight; a failed revert raises), stop the load and let it drain, read acknowledged
        writes back, journal ``gameday.end`` and ``load.stop``."""
        self.say(f"game over ({self.reason}): reverting {', '.join(timeline.active()) or 'nothing'}")
        progress.phase("game day over: reverting the active faults, stopping the load")
        _revert_active(timeline, started.t0)
        timeline.wait_idle(timeout_s=60.0)
        self._echo_outcomes(timeline)
        _revert_active(timeline, started.t0)  # those whose inject was in flight a moment ago
        timeline.settle(started.t0)
        self._echo_outcomes(timeline)
        driver = started.driver
        driver.request_stop()
        driver.wait(timeout_s=max(LOAD_END_GRACE_S, driver.end_grace_s))
        read_back_acked(run, started.host, progress)
        self.unjudged = unjudged(run.scenario, timeline.injected_specs())
        for label in self.unjudged:
            self.say(f"not judged: {label}")
        run.journal.record("gameday.end", reason=self.reason, unjudged=self.unjudged)
        record_load_stop(run, started)

    def _echo_outcomes(self, timeline: OperatorTimeline) -> None:
        """Echo every inject and revert that ended since the last call."""
        while True:
            try:
                outcome = timeline.outcomes.get_nowait()
            except queue.Empty:
                return
            self.echo(f"{clock_tag(outcome.t + outcome.took_ms / 1000)} {_outcome_text(outcome)}")

    def _hung_up(self, _signum: int, _frame: object) -> None:
        self._hangup = True


@dataclass
class _View:
    """The live line's and ``status``'s sources: the recent latency and the windows so far."""

    latency: RecentLatency
    windows: WindowsSoFar
    typed: str | None = None
    """The typed line last shown (a change is shown at once)."""

    def line(self, started: Started, now: float, active: list[str]) -> str:
        """The live line at epoch ``now``."""
        rps, err = started.driver.stats.window(now)
        return live_line(now - started.t0, _cap(started), rps, err, self.latency.p99_ms(now), active,
                         len(self.windows.get(now)))

    def status(self, started: Started, now: float, active: list[str]) -> list[str]:
        """``status``'s lines at epoch ``now``."""
        rps, err = started.driver.stats.window(now)
        return status_lines(now - started.t0, rps, err, self.latency.p99_ms(now), active,
                            self.windows.get(now))


def _cap(started: Started) -> float:
    return float(started.driver.spec.duration_s)


def _revert_active(timeline: OperatorTimeline, t0: float) -> None:
    """Start the revert of every active fault; one whose inject or revert is in flight is left
    to :meth:`~harness.run.timeline.Timeline.settle` (and to the teardown's ``revert_all``)."""
    for name in timeline.active():
        try:
            timeline.revert(name, t0)
        except CommandError:
            pass


def _describe(spec: object) -> str:
    """A fault's kind and parameters, e.g. ``latency proxy=catalog latency_ms=1500``."""
    envelope = {"name", "kind", "at_s", "duration_s", "every_s", "until_s"}
    given = [k for k in type(spec).model_fields if k in spec.model_fields_set and k not in envelope]  # type: ignore[attr-defined]
    return " ".join([spec.kind, *(f"{k}={getattr(spec, k)}" for k in given)])  # type: ignore[attr-defined]


def _outcome_text(outcome: Outcome) -> str:
    """One echoed line for an inject's or revert's end."""
    if not outcome.ok:
        extra = "; it was reverted, nothing is left in place" if outcome.action == "inject" else ""
        return f"{outcome.action} {outcome.label}: FAILED after {outcome.took_ms:.0f} ms: {outcome.error}{extra}"
    what = "in place" if outcome.action == "inject" else "reverted"
    touched = f" (touched: {', '.join(outcome.touched)})" if outcome.touched else ""
    return f"{outcome.action} {outcome.label}: {what} in {outcome.took_ms:.0f} ms{touched}"


def _on_hangup(handler: Callable[[int, object], None]) -> object:
    """Make ``handler`` SIGHUP's disposition (main thread only); returns the previous one."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGHUP, handler)


def _restore_hangup(previous: object) -> None:
    if previous is not None:
        signal.signal(signal.SIGHUP, previous)  # type: ignore[arg-type]
