"""The drive phase: the load runs while the scheduler loop injects and reverts faults on time,
checks the watchdog and the abort conditions and shows progress; then the last reverts settle,
the load ends and drains, acknowledged writes are read back, and ``load.stop`` is journalled.

Faults are injected and reverted in worker threads (:mod:`harness.run.timeline`): the loop keeps
ticking while a slow inject is in flight.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from harness.errors import EnvironmentFailure
from harness.load.readback import acked_ids, read_back
from harness.run.guards import tripped
from harness.run.parts import Started
from harness.run.prepare import Prepared

if TYPE_CHECKING:
    from harness.progress import Progress

LOAD_END_GRACE_S = 30.0
"""How long after its scheduled end the load child may take to stop and flush, at least (users
still in flight may take their whole request timeout: see :attr:`LoadDriver.end_grace_s`)."""
TICK_S = 0.1
"""Scheduler tick: faults land within ~100 ms of their offset, progress refreshes as often."""
END_TICK_S = 0.02
"""The tick once the load's duration is over: the loop then only waits for the load child to
drain and exit, and sees it exit within ~20 ms instead of up to a whole tick later."""


class Aborted(Exception):
    """An abort condition tripped; the run tears down and reports ``aborted``."""


def drive(run: Prepared, started: Started, progress: Progress) -> None:
    """Run the load to its end (its duration, plus at most the end grace while it drains),
    ticking every :data:`TICK_S` (sooner when a fault is due); then settle the timeline, wait
    for the load child, read acknowledged writes back (``readback``) and journal ``load.stop``.
    ``started`` holds the started driver, timeline and watchdog, and ``t0``.

    Raises:
        EnvironmentFailure: the watchdog lost the control plane, a fault's inject or revert
            failed, or the load child failed.
        Aborted: an abort condition tripped.
    """
    driver, timeline, load = started.driver, started.timeline, run.scenario.load
    progress.phase("load running")
    grace_s = max(LOAD_END_GRACE_S, driver.end_grace_s)
    while driver.running and time.time() - started.t0 < load.duration_s + grace_s:
        tick(run, started, progress)
    timeline.settle(started.t0)  # the last reverts, and any still in flight: their failures surface here
    driver.wait(timeout_s=grace_s)
    read_back_acked(run, started.host, progress)
    record_load_stop(run, started)


def tick(run: Prepared, started: Started, progress: Progress) -> None:
    """One turn of the scheduler loop: start the faults' due actions, check the watchdog and
    the abort conditions, refresh progress, and sleep until the next tick (:data:`TICK_S`,
    :data:`END_TICK_S` once the load's duration is over) or due action.

    Raises:
        EnvironmentFailure: as :func:`drive`. Aborted: an abort condition tripped.
    """
    driver, timeline, t0 = started.driver, started.timeline, started.t0
    timeline.step(t0)
    now = time.time()
    check_guards(run, started, now)
    rps, err = driver.stats.window(now)
    progress.tick(now - t0, run.scenario.load.duration_s, rps, err, timeline.active(),
                  driver.stats.in_flight, driver.stats.oldest_in_flight_s(now))
    due = timeline.next_due_s()
    tick_s = END_TICK_S if now - t0 >= run.scenario.load.duration_s else TICK_S
    time.sleep(tick_s if due is None else max(0.0, min(tick_s, t0 + due - time.time())))


def check_guards(run: Prepared, started: Started, now: float) -> None:
    """The live guards at epoch ``now``: the watchdog, then the abort conditions.

    Raises:
        EnvironmentFailure: the watchdog lost the control plane. Aborted: an abort condition
            tripped.
    """
    failure = started.watchdog.failure()
    if failure:
        raise EnvironmentFailure(str(failure))
    guard = tripped(list(run.scenario.abort_when), started.driver.stats.per_second, now, started.t0)
    if guard is not None:
        raise Aborted(str(guard))


def read_back_acked(run: Prepared, host: str, progress: Progress) -> None:
    """Read the acknowledged writes back through the requests' ``read_back`` paths and journal
    ``readback`` (nothing when no request has one)."""
    requests = run.scenario.load.requests
    paths = {r.label: r.read_back for r in requests if r.read_back}
    if paths:
        progress.phase("reading acknowledged writes back")
        run.journal.record("readback", **read_back(acked_ids(run.run_dir / "acked.tsv"), host, paths,
                                                   {r.label: r.headers for r in requests}))


def record_load_stop(run: Prepared, started: Started) -> None:
    """Journal ``load.stop``: ``t`` when the users were asked to stop (the end of sending),
    ``drained_t`` when the last request in flight at that moment had ended (the child's
    ``stopped`` event), ``recorded`` (records received) and the child's own counts."""
    driver = started.driver
    stopped = driver.stopped or {}
    run.journal.record("load.stop", t=stopped.get("stop_requested_t") or stopped.get("t", time.time()),
                       drained_t=stopped.get("t"), recorded=driver.stats.requests, **driver.stop_summary())
