"""What a run has started, for the phases after the start and for its teardown."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
