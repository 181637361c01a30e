"""What a run has started, for the phases after the start and for its teardown."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from harness.faults import FaultContext
    from harness.progress import Progress
    from harness.run.prepare import Prepared
    from harness.scenario import LoadedScenario
    from harness.environment import Stack
    from harness.environment.monitor import Monitor
    from harness.environment.proxy_watch import ProxyWatch
    from harness.environment.watchdog import Watchdog
    from harness.load import LoadDriver
    from harness.run.timeline import Timeline
    from harness.toxiproxy import ToxiproxyClient


@dataclass
class Started:
    """The parts of a run, filled in by the start phase as each one starts; None: not started
    (nothing to undo, nothing to drive).

    ``toxiproxy``: the run's Toxiproxy client (None without proxies); ``host``: the load's target
    as the load child dials it; ``t0``: epoch seconds of the load's start (until it starts, of
    the run's set-up); ``environment``: what ``run.end`` records of the environment (the
    Toxiproxy version, the image ids), filled in as learnt.
    """

    watchdog: Watchdog | None = None
    timeline: Timeline | None = None
    monitor: Monitor | None = None
    driver: LoadDriver | None = None
    stack: Stack | None = None
    proxy_watch: ProxyWatch | None = None
    toxiproxy: ToxiproxyClient | None = None
    host: str = ""
    t0: float = field(default_factory=time.time)
    environment: dict[str, object] = field(default_factory=dict)


ContextFactory = Callable[[random.Random], "FaultContext"]
"""Builds a fault's :class:`~harness.faults.FaultContext` given its seeded RNG."""

TimelineFactory = Callable[["Prepared", ContextFactory], "Timeline"]
"""Makes the run's fault timeline, given the run and its context factory: something with the
:class:`~harness.run.timeline.Timeline` interface the drive and the teardown use (``active``,
``step``, ``settle``, ``revert_all``...)."""

DrivePhase = Callable[["Prepared", Started, "Progress"], None]
"""A drive phase: runs the load to its end and journals ``load.stop`` (see
:func:`harness.run.drive.drive`); raises what it raises."""


@dataclass(frozen=True)
class Phases:
    """What a kind of run does differently from ``harness run`` (None: as a run does).

    ``drive``: the drive phase (default :func:`harness.run.drive.drive`); ``timeline``: makes
    the fault timeline (default: the scenario's faults on their schedule,
    :class:`~harness.run.timeline.Timeline`); ``report_scenario``: called after the teardown
    with the loaded scenario, returns the one the report is built and judged with (e.g. the
    faults an operator injected instead of the scheduled ones). ``harness gameday`` is a run
    with all three (:mod:`harness.gameday`).
    """

    drive: DrivePhase | None = None
    timeline: TimelineFactory | None = None
    report_scenario: Callable[["LoadedScenario"], "LoadedScenario"] | None = None
