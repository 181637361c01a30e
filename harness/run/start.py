"""The start phase: the stack comes up, the proxies are created and watched, the load child is
spawned, the stack is healthy, the monitor, fault timeline and watchdog start, and the load starts
(``load.start`` = t0).

Each part's undo is pushed as the part is made (:mod:`harness.run.teardown`), so that a failure
half-way undoes exactly what was started. The order of the starts is the teardown's, reversed:
stack, load child, proxy watch, monitor, timeline, watchdog.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable
from urllib.parse import urlsplit, urlunsplit

from harness.environment import Stack
from harness.environment.ledger import Ledger
from harness.environment.monitor import Monitor
from harness.environment.own_stack import load_target
from harness.environment.watchdog import Watchdog
from harness.faults import FaultContext
from harness.load import LoadDriver, LoadSpec
from harness.load.driver import WarmChild
from harness.run.parts import Started, TimelineFactory
from harness.run.prepare import Prepared
from harness.run.proxies import create_proxies, watch_proxies
from harness.run.shared import SharedStack
from harness.run.teardown import (
    push_driver,
    push_logs,
    push_monitor,
    push_proxy_watch,
    push_stack,
    push_timeline,
    push_watchdog,
)
from harness.run.timeline import Timeline
from harness.run.undo import UndoStack
from harness.toxiproxy import ToxiproxyClient

if TYPE_CHECKING:
    from harness.progress import Progress
    from harness.scenario.models import Scenario

TOXIPROXY_READY_TIMEOUT_S = 60
"""How long the run's Toxiproxy may take to answer its API once the stack is up."""


def start(run: Prepared, started: Started, undo: UndoStack, progress: Progress, on_up: Callable[[], None],
          shared: SharedStack | None = None, make_timeline: TimelineFactory | None = None,
          before_down: Callable[[], object] | None = None) -> None:
    """Start everything, filling ``started`` and pushing each part's undo onto ``undo`` as it
    goes; ``on_up`` is called once the stack is up (the report warm-up starts then);
    ``before_down`` is the teardown's step just before ``stack.down`` (the report's plots are
    drawn from there, :func:`harness.run.teardown.push_stack`; with ``shared``, only in its last run).
    ``make_timeline`` makes the fault timeline (default: the scenario's faults on schedule).

    With ``shared`` (a sweep's cells, :mod:`harness.run.shared`), the stack it keeps is used
    as it is (or, when it keeps none, the one this run brings up is kept for the next runs):
    the run's teardown resets the stack instead of taking it down.

    Journals (besides what the parts journal themselves) ``proxy.create`` and ``proxy.watch``
    for a scenario with proxies, then ``load.start`` (``t`` = t0, ``host``, ``users``); the
    ledger gets the load child's pid (``kill_pid``), so that ``harness cleanup`` stops it after
    a SIGKILL of the harness.

    Raises:
        HarnessError: the environment failed (the stack, Toxiproxy, the health wait, the engine).
        Interrupted: a signal arrived. Whatever was started is in ``undo`` either way.
    """
    scenario, journal = run.scenario, run.journal
    progress.phase(f"run {run.run_id}: starting the stack")
    stack = started.stack = bring_up(run, undo, shared, before_down)
    on_up()
    if scenario.proxies:
        started.toxiproxy = open_toxiproxy(run, stack, started.environment)
    started.host = resolve_host(scenario.load.host, stack)
    driver = started.driver = LoadDriver(load_spec(scenario, started.host, run.seed), run.run_dir, redact=run.redact)
    push_driver(undo, driver, journal)
    spawn_load(driver, run.ledger, shared.take_warm_load() if shared is not None else None)
    if scenario.proxies:
        started.proxy_watch = watch_proxies(stack, scenario, journal)
        push_proxy_watch(undo, started.proxy_watch)
    started.environment["images"] = stack.containers.image_ids()  # known once up: read in the health wait's shadow
    progress.phase("waiting until the stack is healthy")
    stack.wait_healthy(scenario.target.healthy_timeout_s)
    if shared is not None:
        shared.note_healthy(stack, started.toxiproxy)
    start_watchers(run, started, undo, make_timeline)
    progress.phase("starting the load")
    started.t0 = driver.start()
    journal.record("load.start", t=started.t0, host=started.host, users=scenario.load.users)


def bring_up(run: Prepared, undo: UndoStack, shared: SharedStack | None,
             before_down: Callable[[], object] | None = None) -> Stack:
    """The run's stack, up: the one ``shared`` keeps, or a new one brought up (``compose up``;
    kept by ``shared`` when given). Pushes the stack's undo: ``logs.save``, ``before_down``
    (when given) and ``stack.down``, or with ``shared`` ``logs.save`` and ``stack.reset`` (the
    shared stack's last run: as without, :meth:`SharedStack.push_undo`).

    Raises:
        EnvironmentFailure: the compose file is missing or invalid, or ``up`` failed.
    """
    scenario = run.scenario
    stack = shared.adopt(run) if shared is not None else None
    if stack is not None:
        shared.push_undo(undo, before_down)  # type: ignore[union-attr]
        push_logs(undo, stack, run.journal)
        return stack
    stack = Stack(scenario.target, scenario.base_dir, run.run_id, run.run_dir, run.journal, run.redact,
                  run.ledger, proxies=tuple(scenario.proxies),
                  publish=load_target(scenario.load.host, run.compose_config.get("services") or {}),
                  resolved=run.compose_config)
    if shared is None:
        push_stack(undo, stack, run.journal, before_down)
    else:
        shared.keep(stack, run.compose_config)
        shared.push_undo(undo, before_down)
        push_logs(undo, stack, run.journal)
    stack.up()
    return stack


def open_toxiproxy(run: Prepared, stack: Stack, environment: dict[str, object]) -> ToxiproxyClient:
    """Wait until the run's Toxiproxy answers (its version goes into ``environment``), then
    create the scenario's proxies in it (:func:`~harness.run.proxies.create_proxies`).

    Raises:
        EnvironmentFailure: Toxiproxy did not answer within 60 s, or refused a proxy.
    """
    target = run.scenario.target
    toxiproxy = ToxiproxyClient(stack.containers.published_url(target.toxiproxy_service, target.toxiproxy_port))
    environment["toxiproxy"] = toxiproxy.wait_ready(timeout_s=TOXIPROXY_READY_TIMEOUT_S)
    create_proxies(toxiproxy, run.scenario, stack, run.journal, run.ledger)
    return toxiproxy


def spawn_load(driver: LoadDriver, ledger: Ledger, warm: WarmChild | None = None) -> None:
    """Spawn the load child (it imports Locust while the health wait runs, and waits for its
    start signal), or adopt ``warm`` (a shared stack's, :meth:`SharedStack.take_warm_load`),
    and write its pid, with its start time, to the ledger."""
    driver.spawn(warm)
    if driver.pid is not None:  # so that `harness cleanup` stops the load if the harness is SIGKILLed
        ledger.record("kill_pid", pid=driver.pid, start_ticks=start_ticks(driver.pid))


def start_watchers(run: Prepared, started: Started, undo: UndoStack,
                   make_timeline: TimelineFactory | None = None) -> None:
    """Start the monitor (container stats, Docker events, scraped metrics), make the fault
    timeline (nothing is injected before the load starts; ``make_timeline``, default the
    scenario's faults on schedule) and start the watchdog, pushing each one's undo: the
    teardown stops the watchdog, reverts the faults, then stops the monitor."""
    monitor = started.monitor = Monitor(started.stack.containers, run.journal, list(run.scenario.target.scrape))
    push_monitor(undo, monitor)
    monitor.start()

    def make_context(rng: random.Random) -> FaultContext:
        return FaultContext(toxiproxy=started.toxiproxy, containers=started.stack.containers, rng=rng,  # type: ignore[arg-type]
                            ledger=run.ledger)

    if make_timeline is not None:
        started.timeline = make_timeline(run, make_context)
    else:
        started.timeline = Timeline(run.scenario.fault_specs, make_context, run.journal, run.seed, time.time, run.ledger)
    push_timeline(undo, started.timeline, lambda: started.t0)
    watchdog = started.watchdog = Watchdog(started.toxiproxy.base_url if started.toxiproxy else None,
                                           make_client=started.stack.containers.new_client)
    push_watchdog(undo, watchdog)
    watchdog.start()


def resolve_host(host: str, stack: Stack) -> str:
    """Turn ``http://<service>:<port>`` into the address compose published that port on
    (loopback for a local engine, the engine's host for a remote one); any other host is
    returned unchanged."""
    parts = urlsplit(host)
    if parts.hostname and parts.hostname in stack.containers.services():
        port = parts.port or (443 if parts.scheme == "https" else 80)
        published = stack.containers.published_port(parts.hostname, port)
        return urlunsplit((parts.scheme, f"{stack.containers.address}:{published}", parts.path, parts.query,
                           parts.fragment))
    return host


def load_spec(scenario: Scenario, host: str, seed: int) -> LoadSpec:
    """The load child's spec: the scenario's ``load`` section, aimed at ``host`` (resolved, see
    :func:`resolve_host`), with the run's ``seed``; a locustfile path is resolved against the
    scenario's directory."""
    load = scenario.load
    return LoadSpec(
        host=host,
        users=load.users,
        spawn_rate=load.spawn_rate,
        duration_s=load.duration_s,
        think_time_s=load.think_time_s,
        request_timeout_s=load.request_timeout_s,
        seed=seed,
        requests=[
            {"method": r.method, "path": r.path, "name": r.label, "weight": r.weight, "json": r.json_body,
             "headers": r.headers, "ack_id": r.ack_id}
            for r in load.requests
        ],
        locustfile=str((scenario.base_dir / load.locustfile).resolve()) if load.locustfile else None,
        rate_rps=load.rate_rps,
        client=load.client,
        workers=load.workers.local,
        remote_workers=load.workers.remote,
        join_timeout_s=load.workers.join_timeout_s,
        master_bind=load.master_bind,
    )


def start_ticks(pid: int) -> int | None:
    """A process's start time in clock ticks (/proc/PID/stat field 22): with the pid, it names
    the process even if the pid is later reused."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None
