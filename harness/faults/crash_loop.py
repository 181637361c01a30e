"""``crash_loop``: replicas crash each time they come back, for the fault's whole duration
(Kubernetes' CrashLoopBackOff).

Mechanism: inject kills the chosen replicas (``docker kill --signal``, SIGKILL by default, exit
137) and starts a watcher thread. The watcher plays both sides of a crash loop, polling each
victim's state every ``POLL_S`` seconds:

- the *orchestrator*: our stacks have no restart policy, so nothing else would ever bring a
  killed container back. The watcher emulates one: ``restart_after_s`` seconds after a crash it
  starts the container again (``docker start``; same container, same name). With
  ``backoff_factor`` > 1 each further wait is multiplied by it, capped at ``MAX_RESTART_AFTER_S``,
  the way the kubelet's back-off doubles from 10 s up to 5 min.
- the *crash*: a victim that "comes back", i.e. is seen running again (whoever started it: the
  watcher, or Docker's own restart policy when the user's stack has one), is killed again
  ``crash_after_s`` seconds later. With the default 0.5 s the app dies during its start-up, before
  it ever answers, like a bad config or a missing dependency at boot.

What a client sees: the victims are unreachable nearly all the time (refused or no route while the
container is down, refused while the app is still starting), with short windows in which they are
started; a load balancer's health check keeps them out (they never pass ``rise`` checks in a row
unless ``crash_after_s`` is long). Docker's ``RestartCount`` does not move (a ``docker start``
is not a policy restart); the crashes are visible as ``die`` events with exit code 137.

Revert stops the watcher and waits for it (it never outlives revert: the thread is joined, and it
checks the stop flag before each action), then starts every victim that is not running, so they
stay up. If the watcher failed during the fault (Docker refused a kill or a start), revert still
restores the victims and then raises EnvironmentFailure: the fault was not applied as specified.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from harness.environment.timing import DOCKER_TIMEOUT_S
from harness.errors import EnvironmentFailure
from harness.faults.base import Fault
from harness.faults.registry import register
from harness.faults.replica import choose_replicas, container_state
from harness.scenario.faults.crash_loop import CrashLoopSpec

POLL_S = 0.25
"""Seconds between two looks of the watcher at each victim's state."""

MAX_RESTART_AFTER_S = 300.0
"""Cap of the emulated back-off, s (the kubelet's CrashLoopBackOff cap is 5 min)."""

JOIN_TIMEOUT_S = 2 * DOCKER_TIMEOUT_S + 5
"""How long revert waits for the watcher to finish the Docker call it may be in, s."""


@dataclass
class _Victim:
    """The watcher's view of one victim (monotonic times, s)."""

    name: str
    down_since: float
    restart_after_s: float
    up_since: float | None = None
    kills: int = 1
    starts: int = 0


@register
class CrashLoopFault(Fault):
    """Kills the chosen replicas, then a watcher thread restarts and re-kills them until revert."""

    spec_type = CrashLoopSpec
    spec: CrashLoopSpec

    def __init__(self, spec, ctx):
        super().__init__(spec, ctx)
        self._victims: list[str] = []
        self._state: list[_Victim] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: EnvironmentFailure | None = None

    @property
    def kills(self) -> dict[str, int]:
        """Kills so far per victim (the inject's included); for tests and diagnostics."""
        return {v.name: v.kills for v in self._state}

    def inject(self) -> list[str]:
        """Kill the victims once, then start the watcher; return the victims.

        Raises:
            EnvironmentFailure: no running replica, or the engine refused a kill.
        """
        chosen = choose_replicas(self, self.spec)
        for name in chosen:
            self._victims.append(name)  # recorded before the kill, so a failed kill still reverts
            self.ctx.containers.kill(name, self.spec.signal)
            self._state.append(_Victim(name, time.monotonic(), self.spec.restart_after_s))
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name=f"crash_loop-{self.spec.name}", daemon=True)
        self._thread.start()
        return chosen

    def _watch(self) -> None:
        try:
            while not self._stop.wait(POLL_S):
                for victim in self._state:
                    if self._stop.is_set():
                        return
                    self._step(victim)
        except EnvironmentFailure as exc:
            self._error = exc

    def _step(self, v: _Victim) -> None:
        now = time.monotonic()
        state = container_state(self, v.name)
        if state.get("Running") and not state.get("Restarting"):
            if v.up_since is None:
                v.up_since = now  # it came back
            if now - v.up_since >= self.spec.crash_after_s and not self._stop.is_set():
                try:
                    self.ctx.containers.kill(v.name, self.spec.signal)
                except EnvironmentFailure:
                    if container_state(self, v.name).get("Running"):
                        raise
                    # it exited on its own between our look and the kill: a crash all the same
                v.kills += 1
                v.up_since, v.down_since = None, time.monotonic()
                if v.kills > 1:
                    v.restart_after_s = min(MAX_RESTART_AFTER_S, v.restart_after_s * self.spec.backoff_factor)
        elif not state.get("Restarting"):
            v.up_since = None
            if now - v.down_since >= v.restart_after_s and not self._stop.is_set():
                self.ctx.containers.start(v.name)
                v.starts += 1
                v.up_since = time.monotonic()  # it is back (it runs when start returns)
                v.down_since = now  # a start that does not stick is retried after another delay

    def revert(self) -> list[str]:
        """Stop and join the watcher, then start the victims that are not running; return those
        started ([] before any inject, and on a second call).

        Raises:
            EnvironmentFailure: the watcher did not stop within ``JOIN_TIMEOUT_S``, or it failed
                during the fault (raised after the victims were restored).
        """
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(JOIN_TIMEOUT_S)
            if thread.is_alive():
                self._thread = thread
                raise EnvironmentFailure(f"crash_loop {self.spec.name}: watcher still busy after {JOIN_TIMEOUT_S} s")
        started = []
        for name in list(self._victims):
            if self.ctx.containers.start(name):
                started.append(name)
            self._victims.remove(name)
        error, self._error = self._error, None
        if error is not None:
            raise EnvironmentFailure(f"crash_loop {self.spec.name}: the loop failed during the fault: {error}")
        return started
