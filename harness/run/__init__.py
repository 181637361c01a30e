"""One run, end to end: stack up, proxies, healthy, load + faults on schedule, teardown, report.

The order of a run (each step journalled), phase by phase:

1. prepare (:mod:`~harness.run.prepare`): the preflight (:mod:`~harness.run.preflight`), then
   ``run.start`` with the run id, seed and scenario hash;
2. start (:mod:`~harness.run.start`): the compose project comes up (``harness-<run id>``, every
   object labelled); the scenario's proxies are created through Toxiproxy's API as soon as it
   answers (before the health wait, because services that depend on a proxied edge are not
   healthy without it); the Locust child is spawned (its imports overlap the health wait; it
   waits for a start signal); every container is running and healthy; the monitor (container
   stats, Docker events, scraped service metrics), the fault timeline and the watchdog start;
   the load starts (``load.start`` = t0);
3. drive (:mod:`~harness.run.drive`): faults are injected and reverted at their offsets from t0
   (in worker threads, :mod:`~harness.run.timeline`, so the loop keeps ticking); abort
   conditions are checked every tick (:mod:`~harness.run.guards`; a trip reverts everything:
   ``aborted``); the load stops (``load.stop``);
4. teardown (:mod:`~harness.run.teardown`): always, also after an error, an abort or
   Ctrl-C/SIGTERM: each started part's undo, last started first (faults reverted after waiting
   for any inject still in flight, load stopped, logs saved, stack down); each step runs
   whatever the others raised (an error is journalled as ``teardown.error`` and makes the run
   ``error``); a second signal switches to the fast teardown; then ``run.end`` with the status;
5. report (:mod:`~harness.run.report`): built from the journal alone (a minimal one if building
   it fails).

The phases' functions live in their modules (``harness.run.start.start``...: this package does
not re-export a name its submodule bears). ``harness run --repeat`` is :mod:`harness.run.repeat`. Importing this package loads neither
Locust nor the analysis (pandas, matplotlib): see :mod:`harness.run.report`.
"""

from harness.errors import EnvironmentFailure
from harness.run.drive import LOAD_END_GRACE_S, TICK_S, Aborted
from harness.run.orchestrate import RunResult, execute
from harness.run.parts import Started
from harness.run.preflight import DRY_RUN_PROJECT, check_services, dry_run
from harness.run.prepare import DEFAULT_REPORTS_DIR, RUN_FILES, Prepared, new_run_id, prepare_run_dir
from harness.run.proxies import create_proxies, watch_proxies
from harness.run.report import RunInfo, minimal_report, write_report
from harness.run.signals import FastTeardown, Interrupted
from harness.run.signals import raise_fast_teardown as _raise_fast_teardown
from harness.run.signals import raise_interrupted as _raise_interrupted
from harness.run.start import load_spec, resolve_host
from harness.run.teardown import run_steps, unwind
from harness.run.undo import TeardownStep, UndoStack

__all__ = [
    "DEFAULT_REPORTS_DIR", "DRY_RUN_PROJECT", "LOAD_END_GRACE_S", "RUN_FILES", "TICK_S", "Aborted", "EnvironmentFailure",
    "FastTeardown", "Interrupted", "Prepared", "RunInfo", "RunResult", "Started", "TeardownStep", "UndoStack",
    "_raise_fast_teardown", "_raise_interrupted", "check_services", "create_proxies", "dry_run", "execute",
    "load_spec", "minimal_report", "new_run_id", "prepare_run_dir",
    "resolve_host", "run_steps", "unwind", "watch_proxies", "write_report",
]
