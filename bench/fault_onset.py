"""Fault onset, seen from the traffic side: from a fault's scheduled inject time to the first
request that met it. Two rows, one ``harness run`` each, under an open-model load (requests at
fixed intended times, so there is always a request a few ms after any moment):

- ``fault_onset_p95_ms`` (goal <= 20 ms), bench/scenarios/onset.yaml: a 300 ms Toxiproxy
  ``latency`` fault injected 80 times (every 0.9 s, 0.5 s each) on a proxy in front of a fast
  upstream, 250 requests/s.
- ``fault_onset_docker_p95_ms`` (goal <= 250 ms), bench/scenarios/onset-docker.yaml: HAProxy
  answering from memory on the host's loopback (compose/onset-static.yml), 250 requests/s,
  ``kill`` (SIGKILL, started again at revert) and ``pause`` (cgroup freezer) taking turns on it,
  46 injects of each (every 3.2 s, 0.4 s each).

How a request meets a fault (all times epoch seconds; ``start`` is a record's *intended* send
time and ``duration`` runs from it, harness.load.records):

- ``latency`` (L = 300 ms): a request is affected when it came back at least 80 % of L late; it
  met the fault when its response would have arrived without it, ``start + duration - L`` (for a
  request sent after the toxic was in place, its start plus its base latency; for one already in
  flight, when its response reached the toxic). That moment is a fact about the proxy: a toxic
  added at T delays no byte that passed before T.
- ``kill``: a request is affected when it failed (any error class: refused, reset, timeout); it
  met the fault when it failed, ``start + duration`` (the client learnt it then).
- ``pause``: a request is affected when it was *held*: it came back at least HELD_MS after its
  intended start (a frozen server answers nothing until the revert thaws it, 400 ms later; a
  timeout is held too). It met the fault when it *should* have been answered: ``start + base``
  (base: the median duration of the requests neither held nor failed intended in the GUARD_S
  before a scheduled inject, :func:`before_injects`), but not before the latest answer the
  traffic got to a request intended before it (the client may be behind its schedule: then
  ``start``, the intended time, is earlier than the real send). It showed the
  fault when it should *surely* have been answered, ``start`` + the p99 of those durations: a
  held request due by then before the scheduled time means the traffic had stalled before the
  fault could act (the load generator or the target starved of CPU), which no onset can be
  read from. A held request due between those two moments (in flight when the fault came) is
  neither a candidate nor evidence.

Onset of one inject scheduled at T (``t0 + inject offset`` from the scenario, t0 the journal's
``load.start``), whose revert is scheduled at R (:func:`onset_of`):

- no look-back: the candidates are the affected requests that met the fault in
  ``[T - TOLERANCE_S, R)``; the onset is the earliest such moment minus T, clamped at 0 (a moment
  within the clocks' resolution before T counts as T);
- a request that *showed* the fault in ``[T - GUARD_S, T - TOLERANCE_S)`` (met it, for latency
  and kill; should surely have been answered and was held, for pause) means the measurement is
  wrong: the fault cannot have been seen before it was scheduled, so something else looked like
  it (a previous fault not yet undone, a stall, a slow request the threshold took for a fault, a
  clock gone wrong). That inject's onset is negative and it counts as a *failed measurement*;
- no candidate at all (the fault never showed, or the inject failed): a failed measurement.

A row's value is the 95th percentile of its onsets (the harness's one percentile,
:func:`harness.analysis.percentile.percentile_ms`: nearest rank), its samples the onsets (for the
bound at 90 %, bench/confidence.py: at least 45 samples, and up to 76 the bound is the largest
onset); one failed measurement makes the value None (the row does not hold), with the reasons in
``detail["failed"]``. Beside it, from the journal: how late the harness started each inject
(``fault.inject`` ``t`` minus the scheduled time, ms) and how long the inject call took
(``took_ms``: Toxiproxy's API, or the Docker engine's kill / pause with the harness's look-ups
before them), for kill how long its revert (``docker start``) took, and ``onset_after_call_ms``:
the onset minus the moment the inject call returned (lag + took), i.e. how long the traffic
took to meet a fault already in place (negative: the traffic met it before the call returned).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.common import SCENARIOS, HarnessRun, Row, harness_run, log
from bench.confidence import quantile_upper_bound
from bench.goals import ROWS
from harness.analysis.percentile import percentile_ms

CLOCK_RESOLUTION_S = 1e-6
"""Resolution of the clocks as the run records them: the journal's ``t`` and a record's
``start_s`` have 6 decimals of a second, ``duration_ms`` 3 decimals of a ms (all from the
machine's one wall clock, whose own resolution, ``time.get_clock_info('time')``, is 1 ns)."""

TOLERANCE_S = CLOCK_RESOLUTION_S
"""How far before its scheduled time a fault may seem to have been met and still count as met
at the scheduled time (clamped to onset 0); further before, the measurement failed."""

GUARD_S = 0.2
"""Seconds before each scheduled inject searched for requests that showed the fault too early
(the evidence of a wrong measurement). Shorter than the gap between one fault's revert and the
next inject in both scenarios (0.4 s; 0.8 s and 1.6 s)."""

LATENCY_MS = 300.0
"""The latency fault of onset.yaml (ms)."""

SAW_IT = 0.8
"""A request met the latency fault when it was at least this fraction of LATENCY_MS late."""

HELD_MS = 100.0
"""A request was held by a pause when it came back at least this many ms after its intended
start (the base latency is 1-3 ms; a pause lasts 400 ms)."""

@dataclass(frozen=True)
class Inject:
    """One scheduled occurrence of a fault: epoch seconds of its inject (``at``) and revert."""

    fault: str
    kind: str
    occurrence: int
    at: float
    revert: float


@dataclass(frozen=True)
class Onset:
    """The onset of one inject (ms; None when not seen) and why it is a failed measurement
    (``failed``: None when it is a good one)."""

    inject: Inject
    onset_ms: float | None
    failed: str | None = None


def onset_of(seen_at: np.ndarray, shown_at: np.ndarray, at: float, until: float, guard_s: float = GUARD_S,
             tolerance_s: float = TOLERANCE_S) -> tuple[float | None, str | None]:
    """The onset (ms) of a fault scheduled at ``at`` (epoch s) and reverted at ``until``, from the
    affected requests: ``seen_at[i]``, when request i met the fault (the candidates' moment), and
    ``shown_at[i]``, when it showed it (evidence of a wrong measurement when before ``at``).

    Returns ``(onset_ms, failure)``: onset rounded to 0.01 ms and clamped at 0 for a moment in
    ``[at - tolerance_s, at)``; ``failure`` None for a good measurement; a request that showed the
    fault in ``[at - guard_s, at - tolerance_s)`` gives the (negative) onset of the earliest such
    one and a failure; no candidate in ``[at - tolerance_s, until)`` gives ``(None, failure)``.
    """
    early = shown_at[(shown_at >= at - guard_s) & (shown_at < at - tolerance_s)]
    if early.size:
        first = round(float((early.min() - at) * 1000), 2)
        return first, (f"negative onset {first} ms: {early.size} request(s) showed the fault up to "
                       f"{guard_s * 1000:g} ms before it was scheduled")
    mine = seen_at[(seen_at >= at - tolerance_s) & (seen_at < until)]
    if not mine.size:
        return None, "no request met the fault between its scheduled inject and revert"
    return max(0.0, round(float((mine.min() - at) * 1000), 2)), None


def latency_moments(start: np.ndarray, duration_ms: np.ndarray,
                    latency_ms: float = LATENCY_MS) -> tuple[np.ndarray, np.ndarray]:
    """``(seen_at, shown_at)`` of the requests a latency fault delayed: at least SAW_IT of
    ``latency_ms`` late; both ``start + duration - latency`` (epoch s)."""
    affected = duration_ms >= SAW_IT * latency_ms
    seen = start[affected] + (duration_ms[affected] - latency_ms) / 1000
    return seen, seen


def kill_moments(start: np.ndarray, duration_ms: np.ndarray, error: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(seen_at, shown_at)`` of the failed requests (``error`` not empty): both when each
    failed, ``start + duration`` (epoch s)."""
    failed = error != ""
    moment = start[failed] + duration_ms[failed] / 1000
    return moment, moment


def pause_moments(start: np.ndarray, duration_ms: np.ndarray, error: np.ndarray, base_ms: float, sure_ms: float,
                  held_ms: float = HELD_MS) -> tuple[np.ndarray, np.ndarray]:
    """``(seen_at, shown_at)`` of the held requests (``duration >= held_ms``, epoch s).

    ``seen_at``: when each should have been answered, ``start + base_ms``, but never before the
    latest answer the traffic got to a plain request (neither held nor failed) intended before
    it. ``start`` is the *intended* send time: a client behind its schedule sends later, and an
    answer that arrived at ``c`` means the traffic had not yet seen the server stop at ``c``.

    ``shown_at``: when each should surely have been answered, ``start + sure_ms`` (the run's p99
    of plain durations): a held request due by then before the fault was scheduled means the
    traffic was already stalled, by something else.
    """
    order = np.argsort(start, kind="stable")
    s, d = start[order], duration_ms[order]
    held = d >= held_ms
    plain = ~held & (error[order] == "")
    answered = np.where(plain, s + d / 1000, -np.inf)
    before = np.concatenate([[-np.inf], np.maximum.accumulate(answered)[:-1]]) if s.size else answered
    due = np.maximum(s + base_ms / 1000, before)
    return due[held], s[held] + sure_ms / 1000


def base_latency_ms(duration_ms: np.ndarray, error: np.ndarray, q: float = 50, held_ms: float = HELD_MS) -> float | None:
    """The ``q`` percentile (nearest rank) of the durations (ms) of the requests that neither
    failed nor were held (None if none)."""
    plain = duration_ms[(error == "") & (duration_ms < held_ms)]
    return percentile_ms(plain.tolist(), q) if plain.size else None


def before_injects(start: np.ndarray, injects: list[Inject], guard_s: float = GUARD_S) -> np.ndarray:
    """Which requests were intended in the ``guard_s`` before a scheduled inject (a bool mask):
    the moments the base latency is taken from, away from the faults' own effects and their
    aftermath (a thawed server's backlog, a restarted one's first answers)."""
    out = np.zeros(start.size, dtype=bool)
    for inject in injects:
        out |= (start >= inject.at - guard_s) & (start < inject.at)
    return out


def onsets(injects: list[Inject], start: np.ndarray, duration_ms: np.ndarray, error: np.ndarray,
           failed_injects: set[tuple[str, int]] = frozenset()) -> list[Onset]:
    """The :class:`Onset` of every inject, from the run's records (numpy arrays of ``start_s``,
    ``duration_ms`` and ``error``); ``failed_injects`` are ``(fault, occurrence)`` whose inject
    call failed (journal ``fault.inject_failed``): failed measurements whatever the traffic says.

    Raises:
        ValueError: a kind this benchmark does not measure.
    """
    quiet = before_injects(start, injects)
    base = base_latency_ms(duration_ms[quiet], error[quiet]) or 0.0
    sure = base_latency_ms(duration_ms[quiet], error[quiet], 99) or 0.0
    moments = {}
    out = []
    for inject in injects:
        if inject.kind not in moments:
            if inject.kind == "latency":
                moments[inject.kind] = latency_moments(start, duration_ms)
            elif inject.kind == "kill":
                moments[inject.kind] = kill_moments(start, duration_ms, error)
            elif inject.kind == "pause":
                moments[inject.kind] = pause_moments(start, duration_ms, error, base, sure)
            else:
                raise ValueError(f"no onset method for kind {inject.kind!r}")
        onset_ms, failure = onset_of(*moments[inject.kind], inject.at, inject.revert)
        if (inject.fault, inject.occurrence) in failed_injects:
            failure = "the inject call failed (journal fault.inject_failed)"
        out.append(Onset(inject, onset_ms, failure))
    return out


def schedule(scenario: Path, t0: float) -> list[Inject]:
    """Every scheduled inject of the scenario's faults, in time order, with epoch times from the
    load's start ``t0`` (the offsets are the scenario's own, ``FaultSpec.occurrences``)."""
    from harness.scenario.loader import load_scenario

    faults = load_scenario(scenario).scenario.faults
    injects = [Inject(f.name, f.kind, k, t0 + at_s, t0 + revert_s)
               for f in faults for k, (at_s, revert_s) in enumerate(f.occurrences(), start=1)]
    return sorted(injects, key=lambda i: i.at)


def _stats(values: list[float]) -> dict:
    """p50, p95 (nearest rank), max of ``values`` (ms, 0.01 ms) and the p95's upper bound at
    CONFIDENCE (bench/confidence.py; None with fewer than 45 values), or Nones when empty."""
    if not values:
        return {"n": 0, "p50": None, "p95": None, "max": None, "p95_bound": None}
    bound, _ = quantile_upper_bound(values, 0.95)
    return {"n": len(values), "p50": round(percentile_ms(values, 50), 2), "p95": round(percentile_ms(values, 95), 2),
            "max": round(max(values), 2), "p95_bound": None if bound is None else round(bound, 2)}


def _occurrence_of(event: dict) -> int:
    return int(event.get("occurrence") or 1)


def measure(scenario: Path, out: Path, row: str) -> Row:
    """One ``harness run`` of ``scenario`` and its onset row ``row`` (see the module's doc; the
    goal is bench/goals.py's ``ROWS``)."""
    load1_before = os.getloadavg()[0]
    result = harness_run(scenario, out)
    if result.returncode != 0:
        raise RuntimeError(f"{scenario.name} run exited {result.returncode}: {result.report.get('error')}")
    row_ = analyse(result, scenario, row)
    row_.detail["load1_before_after"] = [round(load1_before, 2), round(os.getloadavg()[0], 2)]
    return row_


def analyse(result: HarnessRun, scenario: Path, row: str) -> Row:
    """The onset row ``row`` of a finished run of ``scenario`` (its journal and requests.tsv)."""
    from harness.analysis.metrics import load_records

    t0 = result.event("load.start")["t"]
    injects = schedule(scenario, t0)
    journal = result.journal()
    frame = load_records(result.run_dir / "requests.tsv")
    start, duration = frame["start_s"].to_numpy(), frame["duration_ms"].to_numpy()
    error = frame["error"].to_numpy(dtype=object).astype(str)
    failed_calls = {(e["fault"], _occurrence_of(e)) for e in journal if e["event"] == "fault.inject_failed"}
    found = onsets(injects, start, duration, error, failed_calls)
    quiet = before_injects(start, injects)
    by_key = {(i.fault, i.occurrence): i for i in injects}
    calls = {(e["fault"], _occurrence_of(e)): e for e in journal if e["event"] == "fault.inject"}
    reverts = {(e["fault"], _occurrence_of(e)): e for e in journal if e["event"] == "fault.revert"}
    failed = [{"fault": o.inject.fault, "occurrence": o.inject.occurrence, "onset_ms": o.onset_ms, "why": o.failed}
              for o in found if o.failed]
    good = [o.onset_ms for o in found if not o.failed and o.onset_ms is not None]
    per_kind = {}
    for kind in sorted({i.kind for i in injects}):
        mine = [o for o in found if o.inject.kind == kind]
        keys = [(o.inject.fault, o.inject.occurrence) for o in mine]
        lag = [round((calls[k]["t"] - by_key[k].at) * 1000, 2) for k in keys if k in calls]
        took = [calls[k]["took_ms"] for k in keys if k in calls]
        after = [round(o.onset_ms - (calls[k]["t"] - o.inject.at) * 1000 - calls[k]["took_ms"], 2)
                 for o, k in zip(mine, keys) if k in calls and not o.failed and o.onset_ms is not None]
        per_kind[kind] = {
            "injects": len(mine), "failed": sum(1 for o in mine if o.failed),
            "onset_ms": _stats([o.onset_ms for o in mine if not o.failed and o.onset_ms is not None]),
            "inject_lag_ms": _stats(lag), "inject_took_ms": _stats(took), "onset_after_call_ms": _stats(after),
            "revert_took_ms": _stats([reverts[k]["took_ms"] for k in keys if k in reverts]),
            "onsets_ms": [o.onset_ms for o in mine]}
    value = round(percentile_ms(good, 95), 2) if good and not failed else None
    detail = {"injects": len(injects), "failed": failed, "per_kind": per_kind, "onset": _stats(good),
              "base_latency_ms": {"p50": base_latency_ms(duration[quiet], error[quiet]),
                                  "p99": base_latency_ms(duration[quiet], error[quiet], 99)},
              "requests": len(frame),
              "unsent": result.report["load"]["unsent"], "run_id": result.report["run_id"],
              "tolerance_ms": TOLERANCE_S * 1000, "guard_ms": GUARD_S * 1000}
    log(f"{row}: {len(good)} of {len(injects)} injects measured, {len(failed)} failed; p95 {value} ms; "
        + "; ".join(f"{k} onset p50/p95/max {v['onset_ms']['p50']}/{v['onset_ms']['p95']}/{v['onset_ms']['max']} ms, "
                    f"inject lag p95 {v['inject_lag_ms']['p95']} ms, took p95 {v['inject_took_ms']['p95']} ms"
                    for k, v in per_kind.items()))
    _, op, goal, unit = ROWS[row]
    return Row(row, value, op, goal, unit, detail, samples=good, statistic="p95")


def run(work: Path) -> list[Row]:
    """Both rows: the Toxiproxy latency run, then the Docker kill/pause run."""
    return [measure(SCENARIOS / "onset.yaml", work / "onset-run", "fault_onset_p95_ms"),
            measure(SCENARIOS / "onset-docker.yaml", work / "onset-docker-run", "fault_onset_docker_p95_ms")]
