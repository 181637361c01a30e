"""One run, end to end: stack up, proxies, healthy, load + faults on schedule, teardown, report.

The order of a run (each step journalled):

1. ``run.start`` with the run id, seed and scenario hash;
2. the compose project comes up (``harness-<run id>``, every object labelled);
3. the scenario's proxies are created through Toxiproxy's API as soon as it answers (before the
   health wait, because services that depend on a proxied edge are not healthy without it);
4. every container is running and healthy (the Locust child is spawned before this wait, so
   its imports overlap it, and waits for a start signal);
5. the load starts (``load.start`` = t0); faults are injected and reverted at
   their offsets from t0; the load stops (``load.stop``);
   abort conditions are checked every tick (a trip reverts everything: ``aborted``); a monitor
   journals container stats, Docker events and scraped service metrics;
6. always, also after an error, an abort or Ctrl-C/SIGTERM: faults reverted (after waiting for
   any inject still in flight), load stopped, stack down; each teardown step runs whatever the
   others raised (an error is journalled as ``teardown.error`` and makes the run ``error``);
7. ``run.end`` with the status; the report is built from the journal alone (a minimal one, status
   ``error``, if building it fails).

Faults are injected and reverted in worker threads (:mod:`harness.timeline`): the scheduler loop
keeps ticking (abort conditions, watchdog, progress) while a slow inject is in flight.
"""

from __future__ import annotations

import platform
import random
import secrets
import signal
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable
from urllib.parse import urlsplit, urlunsplit

from rich.console import Console

from harness import __version__
from harness.environment import Stack
from harness.environment.fingerprint import run_fingerprint
from harness.environment.ledger import Ledger
from harness.environment.monitor import Monitor
from harness.environment.own_stack import load_target, stack_problems
from harness.environment.project import edges_of, make_copy
from harness.environment.proxy_watch import ProxyWatch, local_pid
from harness.environment.stack import copy_options, resolve_compose
from harness.environment.watchdog import Watchdog
from harness.errors import EnvironmentFailure, HarnessError, OutputDirError, ScenarioError
from harness.faults import FaultContext
from harness.faults.host_needs import host_problems
from harness.guards import tripped
from harness.journal import Journal
from harness.load import LoadDriver, LoadSpec
from harness.load.readback import acked_ids, read_back
from harness.progress import Progress
from harness.redact import Redactor
from harness.scenario import LoadedScenario
from harness.timeline import Timeline
from harness.toxiproxy import ProxyConfig, ToxiproxyClient

if TYPE_CHECKING:
    from harness.report import Report
    from harness.scenario.models import Scenario

DEFAULT_REPORTS_DIR = Path("reports")
RUN_FILES = ("journal.jsonl", "ledger.jsonl", "requests.tsv", "load.json", "locust.log", "compose.log", "compose.resolved.json",
             "report.json", "report.md", "harness.log")
"""Files a run writes into its directory; a rerun into the same ``--out`` replaces them."""
LOAD_END_GRACE_S = 30.0
"""How long after its scheduled end the load child may take to stop and flush, at least (users
still in flight may take their whole request timeout: see :attr:`LoadDriver.end_grace_s`)."""
TICK_S = 0.1
"""Scheduler tick: faults land within ~100 ms of their offset, progress refreshes as often."""


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived; the run tears down and reports ``interrupted``."""


class FastTeardown(Exception):
    """A second SIGINT/SIGTERM arrived during teardown: force-remove everything now."""


class Aborted(Exception):
    """An abort condition tripped; the run tears down and reports ``aborted``."""


@dataclass
class RunResult:
    """The report and where its files were written."""

    report: Report
    run_dir: Path
    paths: dict[str, Path]


def new_run_id(now: datetime | None = None) -> str:
    """A sortable, unique run id: ``YYYYmmddTHHMMSSZ-<6 hex>`` (UTC)."""
    now = now or datetime.now(timezone.utc)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}".lower()


def resolve_host(host: str, stack: Stack) -> str:
    """Turn ``http://<service>:<port>`` into the loopback address compose published that port on;
    any other host is returned unchanged."""
    parts = urlsplit(host)
    if parts.hostname and parts.hostname in stack.containers.services():
        port = parts.port or (443 if parts.scheme == "https" else 80)
        published = stack.containers.published_port(parts.hostname, port)
        return urlunsplit((parts.scheme, f"127.0.0.1:{published}", parts.path, parts.query, parts.fragment))
    return host


def check_services(loaded: LoadedScenario) -> dict:
    """Preflight, before anything is started: the compose file resolves, every service a fault
    names exists in it, the stack is fit for the run (own_stack.py: no ``container_name``,
    edges that can be inserted, a load host that can be published), and this host gives what
    the faults need (faults/host_needs.py: root, a local engine, cgroup v1, nsenter...).

    Returns:
        The resolved compose config (``compose config --format json``).

    Raises:
        ScenarioError: one ``file:line:col`` line per problem (exit 2).
    """
    target = loaded.scenario.target
    try:
        config = resolve_compose(target, loaded.scenario.base_dir)
    except EnvironmentFailure as exc:
        raise ScenarioError([loaded.problem("target.compose", str(exc))]) from None
    services = set(config.get("services") or {})
    inserted = any(p.is_edge for p in loaded.scenario.proxies)
    problems = []
    for i, fault in enumerate(loaded.scenario.faults):
        for ref in fault.service_refs():
            if ref == target.toxiproxy_service and not target.allow_toxiproxy_faults:
                problems.append(loaded.problem(f"faults.{i}", f"{ref!r} is the harness's Toxiproxy; faults may not "
                                               "target it unless target.allow_toxiproxy_faults is true"))
            elif ref not in services and not (inserted and ref == target.toxiproxy_service):
                field = next((k for k, v in fault.model_dump().items() if v == ref or (isinstance(v, list) and ref in v)),
                             "service")
                problems.append(loaded.problem(f"faults.{i}.{field}",
                                               f"no service {ref!r} in the compose file (services: {', '.join(sorted(services))})"))
    problems += [loaded.problem(field, message) for field, message in stack_problems(config, loaded.scenario)]
    problems += [loaded.problem(f"faults.{i}.kind", message) for i, message in host_problems(loaded.scenario.faults)]
    if problems:
        raise ScenarioError(problems)
    return config


DRY_RUN_PROJECT = "harness-dry-run"
"""The compose project name a dry run shows (a real run's is ``harness-<run id>``)."""


def dry_run(loaded: LoadedScenario) -> str:
    """The compose project a run of ``loaded`` would bring up (YAML, secrets masked), after the
    same preflight as a run, followed by the inserted Toxiproxy's proxy list as a YAML comment
    when the scenario has edges; starts nothing and needs no Docker engine (only ``docker
    compose config``).

    Raises:
        ScenarioError: the preflight found a problem (exit 2).
    """
    import json

    import yaml

    check_services(loaded)
    scenario = loaded.scenario
    config = resolve_compose(scenario.target, scenario.base_dir, DRY_RUN_PROJECT)
    options = copy_options(scenario.target, DRY_RUN_PROJECT, "dry-run", edges_of(scenario.proxies),
                           load_target(scenario.load.host, config.get("services") or {}),
                           Path("reports", "dry-run", "toxiproxy-edges.json").resolve())
    copy, plan = make_copy(config, options)
    text = yaml.safe_dump(copy, sort_keys=False, default_flow_style=False, width=120)
    if plan is not None:
        text += "# toxiproxy-edges.json (the inserted Toxiproxy's -config):\n"
        text += "".join(f"#   {json.dumps(p)}\n" for p in plan.proxies)
    return Redactor(loaded.secrets)(text)


def _start_ticks(pid: int) -> int | None:
    """A process's start time in clock ticks (/proc/PID/stat field 22): with the pid, it names
    the process even if the pid is later reused."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _raise_interrupted(signum: int, _frame: object) -> None:
    raise Interrupted(signal.Signals(signum).name)


def _raise_fast_teardown(signum: int, _frame: object) -> None:
    raise FastTeardown(signal.Signals(signum).name)


def _warm_up_reports() -> None:
    """:func:`harness.report.warm_up`, for a background thread: it imports the analysis and the
    renderers (pandas, numpy, matplotlib), which this module leaves out of its own imports so a
    run starts the stack sooner. Errors are left to the report step, which meets them again."""
    try:
        from harness.report import warm_up

        warm_up()
    except Exception:  # noqa: BLE001 - see the docstring
        pass


def watch_proxies(stack: Stack, scenario: Scenario, journal: Journal) -> ProxyWatch:
    """Start watching the traffic through the scenario's proxies (see
    :mod:`harness.environment.proxy_watch`), journalling ``proxy.watch`` first.

    Raises:
        EnvironmentFailure: the Toxiproxy service has no container, or the engine failed.
    """
    names = stack.containers.containers_of(scenario.target.toxiproxy_service)
    if not names:
        raise EnvironmentFailure(f"service {scenario.target.toxiproxy_service!r} has no container to watch")
    container = stack.containers.inspect(names[0])
    pid = local_pid(stack.docker, container)
    proxies = {p.name: p.listen_address for p in scenario.proxies}
    journal.record("proxy.watch", container=container.name, proxies=proxies, pid=pid)
    watch = ProxyWatch(container, proxies, journal, pid)
    watch.start()
    return watch


# -- teardown: every step runs, whatever the others raised -----------------------------------

TeardownStep = tuple[str, Callable[[], object]]
"""A named teardown step, ``(name, call)``; ``teardown.error`` journals the name."""


@dataclass
class Started:
    """What a run has started, for its teardown; None: not started (nothing to undo)."""

    watchdog: Watchdog | None = None
    timeline: Timeline | None = None
    monitor: Monitor | None = None
    driver: LoadDriver | None = None
    stack: Stack | None = None
    proxy_watch: ProxyWatch | None = None


def create_proxies(toxiproxy: ToxiproxyClient, scenario: Scenario, stack: Stack, journal: Journal,
                   ledger: Ledger) -> None:
    """Create the scenario's proxies in the run's Toxiproxy. An edge's proxy forwards to the real
    service's private name (edges.py) and already exists when the inserted Toxiproxy started
    from its ``-config`` file; it is then left as it is (replacing it would drop the connections
    clients opened at start-up)."""
    upstreams = stack.edge_plan.upstreams if stack.edge_plan else {}
    existing = toxiproxy.proxies()
    for proxy in scenario.proxies:
        upstream = upstreams.get(proxy.name, proxy.upstream)
        ledger.record("inside_run", what=f"proxy {proxy.name} in the run's Toxiproxy")
        have = existing.get(proxy.name) or {}
        if not (have.get("upstream") == upstream and have.get("listen") == proxy.listen_address):
            toxiproxy.create_proxy(ProxyConfig(proxy.name, proxy.listen_address, upstream))
        journal.record("proxy.create", proxy=proxy.name, listen=proxy.listen_address, upstream=upstream,
                       dialled=proxy.upstream, edge=proxy.is_edge)


def _log_traceback(run_dir: Path, what: str) -> None:
    """Append the exception being handled, with ``what`` was going on, to ``harness.log``."""
    try:
        with (run_dir / "harness.log").open("a", encoding="utf-8") as log:
            log.write(f"--- {what} ---\n{traceback.format_exc()}")
    except OSError:
        pass


def _stop_load(driver: LoadDriver, journal: Journal) -> None:
    """Stop the load child; journal ``load.stop`` (``cut_short``) if it was still loading."""
    was_loading = driver.running and driver.started_at is not None
    driver.stop()
    if was_loading:
        journal.record("load.stop", recorded=driver.stats.requests, cut_short=True)


def graceful_steps(started: Started, journal: Journal, progress: Progress, t0: float) -> list[TeardownStep]:
    """The teardown, in order, for what was started: ``progress``, ``watchdog.stop``,
    ``timeline.revert_all`` (waits for in-flight injects, then reverts every fault marked
    injected), ``monitor.stop``, ``proxy_watch.stop``, ``driver.stop`` (journals a cut-short ``load.stop``),
    ``logs.save`` (every container's log into ``logs/``, :mod:`harness.environment.logs`; a second
    signal still switches to the fast teardown), ``stack.down``. ``t0``: the load's start, epoch seconds."""
    from harness.environment.logs import save_logs

    steps: list[TeardownStep] = [("progress", lambda: progress.phase("tearing down (Ctrl-C again for a fast teardown)"))]
    watchdog, timeline, monitor, driver, stack = (started.watchdog, started.timeline, started.monitor,
                                                  started.driver, started.stack)
    if watchdog is not None:
        steps.append(("watchdog.stop", watchdog.stop))
    if timeline is not None:
        steps.append(("timeline.revert_all", lambda: timeline.revert_all(t0)))
    if monitor is not None:
        steps.append(("monitor.stop", monitor.stop))
    if started.proxy_watch is not None:
        steps.append(("proxy_watch.stop", started.proxy_watch.stop))
    if driver is not None:
        steps.append(("driver.stop", lambda: _stop_load(driver, journal)))
    if stack is not None:
        steps.append(("logs.save", lambda: stack.started and save_logs(stack, journal.run_dir, stack.redact,
                                                                       passthrough=(FastTeardown,))))
        steps.append(("stack.down", stack.down))
    return steps


def fast_steps(started: Started, progress: Progress) -> list[TeardownStep]:
    """The fast teardown after a second signal: stop the monitor, kill the load child at once,
    save what the containers' logs give within ``FAST_SAVE_BUDGET_S`` (5 s), force-remove everything
    labelled with the run (no graceful stops, no reverts: the containers that hold the faults
    are removed)."""
    from harness.environment.logs import FAST_SAVE_BUDGET_S, save_logs

    steps: list[TeardownStep] = [
        ("progress", lambda: progress.phase("fast teardown: force-removing everything labelled with this run"))]
    monitor, driver, stack = started.monitor, started.driver, started.stack
    if monitor is not None:
        steps.append(("monitor.stop", monitor.stop))
    if started.proxy_watch is not None:
        steps.append(("proxy_watch.stop", started.proxy_watch.stop))
    if driver is not None:
        steps.append(("driver.stop", lambda: driver.stop(grace_s=0)))
    if stack is not None:
        steps.append(("logs.save", lambda: stack.started and save_logs(stack, stack.journal.run_dir, stack.redact,
                                                                       budget_s=FAST_SAVE_BUDGET_S)))
        steps.append(("stack.down", lambda: stack.down(fast=True)))
    return steps


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
            _log_traceback(run_dir, f"teardown step {name}")
            failures.append(f"{name}: {failure}")
    return failures


def tear_down(started: Started, journal: Journal, progress: Progress, t0: float, status: str,
              error: str | None) -> tuple[str, str | None]:
    """Undo what the run started (:func:`graceful_steps`); a signal meanwhile (a second Ctrl-C)
    switches to :func:`fast_steps`, with further signals ignored. Never raises.

    Args:
        status, error: the run's outcome so far (``completed``, ``interrupted``, ``aborted``,
            ``error``) and its message.

    Returns:
        The run's ``(status, error)`` after teardown: ``interrupted`` after a fast teardown;
        ``error`` ("teardown failed: ...") when a step raised and the run was ``completed``;
        otherwise unchanged.
    """
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _raise_fast_teardown)
    try:
        failures = run_steps(graceful_steps(started, journal, progress, t0), journal, journal.run_dir)
    except FastTeardown:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        run_steps(fast_steps(started, progress), journal, journal.run_dir)
        return "interrupted", error or "interrupted during teardown"
    if failures and status not in ("interrupted", "aborted", "error"):
        return "error", "teardown failed: " + "; ".join(failures)
    return status, error


# -- the report: always written ----------------------------------------------------------------


@dataclass(frozen=True)
class RunInfo:
    """What a minimal report needs when the full one cannot be built: the run's id and seed,
    ``started_t`` (epoch s of ``run.start``), and its ``status`` and ``error`` at ``run.end``."""

    run_id: str
    seed: int
    started_t: float
    status: str
    error: str | None


def minimal_report(loaded: LoadedScenario, info: RunInfo, failure: str) -> Report:
    """A report with no analysis: status ``error`` (``interrupted`` and ``aborted`` are kept,
    so that the exit code still says so), its error naming ``failure`` after the run's own."""
    from harness.journal import utc_iso
    from harness.report.model import Report, ScenarioInfo

    status = info.status if info.status in ("interrupted", "aborted") else "error"
    return Report(
        run_id=info.run_id, seed=info.seed, status=status,  # type: ignore[arg-type]
        error="; ".join(filter(None, [info.error, f"the report could not be built: {failure}"])),
        scenario=ScenarioInfo(name=loaded.scenario.name, path=str(loaded.path), sha256=loaded.sha256,
                              overrides=list(loaded.overrides), profile=loaded.scenario.target.profile),
        started_at=utc_iso(info.started_t), ended_at=utc_iso(time.time()),
    )


def _write_minimal(report: Report, run_dir: Path) -> dict[str, Path]:
    """Write ``report.json`` and a short ``report.md`` for :func:`minimal_report`, each whole or
    not at all (:func:`harness.report.files.write_atomic`). Raises ``OSError``."""
    from harness.report.files import write_atomic

    paths = {"json": run_dir / "report.json", "md": run_dir / "report.md"}
    write_atomic(paths["json"], report.model_dump_json(indent=2) + "\n")
    write_atomic(paths["md"],
                 f"# {report.scenario.name}: run {report.run_id}\n\n**Status: {report.status.upper()}**: {report.error}\n\n"
                 "The full report could not be built (the traceback is in harness.log); journal.jsonl holds "
                 "everything the run did.\n")
    return paths


def write_report(run_dir: Path, loaded: LoadedScenario, redact: Redactor, info: RunInfo,
                 strict: bool = False) -> tuple[Report, dict[str, Path]]:
    """Build the report from the run's journal and write it (json, md, html, junit);
    ``strict``: inconclusive counts as failed.

    If building or writing it raises, a :func:`minimal_report` is written instead (report.json
    and report.md; the traceback appended to ``harness.log``). Never raises for the report's
    own errors (an unwritable ``run_dir`` still raises OSError).

    Returns:
        The report (redacted) and its paths by format.
    """
    try:
        from harness.report import Report, build_report, write_reports

        report = build_report(run_dir, loaded.scenario, strict=strict)
        if redact:
            report = Report.model_validate_json(redact(report.model_dump_json()))
        return report, write_reports(report, run_dir)
    except Exception as exc:  # noqa: BLE001 - a harness bug: the run is inconclusive, its report minimal
        _log_traceback(run_dir, "building the report")
        report = minimal_report(loaded, info, f"{type(exc).__name__}: {exc}")
        if redact:
            report = type(report).model_validate_json(redact(report.model_dump_json()))
        return report, _write_minimal(report, run_dir)


def prepare_run_dir(run_dir: Path) -> None:
    """Create ``run_dir``, prove it writable (a probe file is written and removed: root passes
    every permission check, a read-only mount does not) and remove an earlier run's files.

    Raises:
        OutputDirError: not a directory, or not writable; nothing was started.
    """
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=run_dir, prefix=".write-probe-"):
            pass
        for name in RUN_FILES:
            (run_dir / name).unlink(missing_ok=True)
    except OSError as exc:
        raise OutputDirError(f"{run_dir}: cannot write the run's files there ({exc.strerror or exc})") from None


def execute(loaded: LoadedScenario, out_dir: Path | None = None, seed: int | None = None,
            console: Console | None = None, strict: bool = False) -> RunResult:
    """Run a validated scenario and write its reports.

    Args:
        loaded: the scenario (validated; nothing has been touched yet).
        out_dir: report directory (default ``reports/<run id>``).
        seed: overrides the scenario's seed; with neither, a random seed is drawn and recorded.
        console: where progress goes (stderr by default).
        strict: an inconclusive run is reported ``failed`` (exit 1).

    Returns:
        The report (status ``passed``, ``failed``, ``inconclusive``, ``measured``, ``error``,
        ``aborted`` or ``interrupted``; see :func:`harness.report.build.decide_status`) and its paths.
        Errors of the environment never raise: they end the run with status ``error``.

    Raises:
        ScenarioError: the preflight found the compose file or a service reference invalid;
            nothing was started.
        OutputDirError: ``out_dir`` is not a writable directory; nothing was started.
    """
    console = console or Console(stderr=True)
    compose_config = check_services(loaded)
    scenario = loaded.scenario
    seed = seed if seed is not None else scenario.seed
    if seed is None:
        seed = random.SystemRandom().randrange(2**31)
    run_id = new_run_id()
    run_dir = (out_dir or DEFAULT_REPORTS_DIR / run_id).resolve()
    prepare_run_dir(run_dir)
    redact = Redactor(loaded.secrets)
    journal = Journal(run_dir, redact=redact)
    ledger = Ledger(run_dir, run_id)
    run_start = journal.record(
        "run.start",
        run_id=run_id,
        seed=seed,
        scenario=scenario.name,
        scenario_path=str(loaded.path),
        scenario_sha256=loaded.sha256,
        overrides=loaded.overrides,
        profile=scenario.target.profile,
        environment={"harness": __version__, "python": platform.python_version(), "platform": platform.platform(),
                     **run_fingerprint(scenario)},
    )
    previous = {sig: signal.signal(sig, _raise_interrupted) for sig in (signal.SIGINT, signal.SIGTERM)}
    status, error = "completed", None
    stack: Stack | None = None
    driver: LoadDriver | None = None
    timeline: Timeline | None = None
    monitor: Monitor | None = None
    watchdog: Watchdog | None = None
    proxy_watch: ProxyWatch | None = None
    t0 = time.time()
    environment: dict[str, object] = {}
    # The health wait mostly waits on Docker: the analysis and the report renderer load
    # meanwhile (started once `up` returned: during `up` it slowed compose down; joined before
    # the report is built, since matplotlib is not thread-safe).
    warming = threading.Thread(target=_warm_up_reports, name="report-warm-up", daemon=True)
    with Progress(console, scenario.name) as progress:
        try:
            progress.phase(f"run {run_id}: starting the stack")
            stack = Stack(scenario.target, scenario.base_dir, run_id, run_dir, journal, redact, ledger,
                          proxies=tuple(scenario.proxies),
                          publish=load_target(scenario.load.host, compose_config.get("services") or {}))
            stack.up()
            warming.start()
            toxiproxy = None
            if scenario.proxies:
                port = stack.containers.published_port(scenario.target.toxiproxy_service, scenario.target.toxiproxy_port)
                toxiproxy = ToxiproxyClient(f"http://127.0.0.1:{port}")
                environment["toxiproxy"] = toxiproxy.wait_ready(timeout_s=60)
                create_proxies(toxiproxy, scenario, stack, journal, ledger)
                proxy_watch = watch_proxies(stack, scenario, journal)
            host = resolve_host(scenario.load.host, stack)
            load = scenario.load
            driver = LoadDriver(
                LoadSpec(
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
                    workers=load.workers,
                    master_bind=load.master_bind,
                ),
                run_dir,
                redact=redact,
            )
            driver.spawn()  # imports Locust while the health wait runs; the load starts below
            if driver.pid is not None:  # so that `harness cleanup` stops the load if the harness is SIGKILLed
                ledger.record("kill_pid", pid=driver.pid, start_ticks=_start_ticks(driver.pid))
            progress.phase("waiting until the stack is healthy")
            stack.wait_healthy(scenario.target.healthy_timeout_s)
            environment["images"] = stack.containers.image_ids()
            monitor = Monitor(stack.containers, journal, list(scenario.target.scrape))
            monitor.start()
            watchdog = Watchdog(toxiproxy.base_url if toxiproxy else None)
            watchdog.start()
            progress.phase("starting the load")
            t0 = driver.start()
            journal.record("load.start", t=t0, host=host, users=load.users)

            def make_context(rng: random.Random) -> FaultContext:
                return FaultContext(toxiproxy=toxiproxy, containers=stack.containers, rng=rng, ledger=ledger)  # type: ignore[arg-type]

            timeline = Timeline(scenario.fault_specs, make_context, journal, seed, time.time, ledger)
            progress.phase("load running")
            grace_s = max(LOAD_END_GRACE_S, driver.end_grace_s)
            while driver.running and time.time() - t0 < load.duration_s + grace_s:
                timeline.step(t0)
                now = time.time()
                if watchdog.failure():
                    raise EnvironmentFailure(str(watchdog.failure()))
                guard = tripped(list(scenario.abort_when), driver.stats.per_second, now, t0)
                if guard is not None:
                    raise Aborted(str(guard))
                rps, err = driver.stats.window(now)
                progress.tick(now - t0, load.duration_s, rps, err, timeline.active(),
                              driver.stats.in_flight, driver.stats.oldest_in_flight_s(now))
                due = timeline.next_due_s()
                time.sleep(TICK_S if due is None else max(0.0, min(TICK_S, t0 + due - time.time())))
            timeline.settle(t0)  # the last reverts, and any still in flight: their failures surface here
            driver.wait(timeout_s=grace_s)
            stopped = driver.stopped or {}
            readback_paths = {r.label: r.read_back for r in load.requests if r.read_back}
            if readback_paths:
                progress.phase("reading acknowledged writes back")
                journal.record("readback", **read_back(acked_ids(run_dir / "acked.tsv"), host, readback_paths,
                                                       {r.label: r.headers for r in load.requests}))
            # t: when the users were asked to stop (the end of sending); drained_t: when the last
            # request in flight at that moment had ended (the child's stopped event)
            journal.record("load.stop", t=stopped.get("stop_requested_t") or stopped.get("t", time.time()),
                           drained_t=stopped.get("t"), recorded=driver.stats.requests, **driver.stop_summary())
        except Interrupted as exc:
            status, error = "interrupted", f"interrupted by {exc}"
        except Aborted as exc:
            status, error = "aborted", f"abort condition tripped: {exc}"
            journal.record("run.abort", condition=str(exc))

        except HarnessError as exc:
            status, error = "error", str(exc)
        except Exception as exc:  # a harness bug: inconclusive, never a pass
            status, error = "error", f"internal error: {type(exc).__name__}: {exc}"
            (run_dir / "harness.log").write_text(traceback.format_exc())
        finally:
            status, error = tear_down(Started(watchdog, timeline, monitor, driver, stack, proxy_watch), journal,
                                      progress, t0, status, error)
            journal.record("run.end", status=status, error=error,
                           environment={k: v for k, v in environment.items() if v})
            journal.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    if warming.ident is not None:  # started
        warming.join()
    report, paths = write_report(run_dir, loaded, redact, RunInfo(run_id, seed, run_start.t, status, error), strict)
    return RunResult(report, run_dir, paths)


__all__ = ["EnvironmentFailure", "RunResult", "execute", "new_run_id", "resolve_host"]
