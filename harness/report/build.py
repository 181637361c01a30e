"""Build the :class:`Report` from a run directory's journal and request records (pure: reads files
only, never Docker), in three steps: gather the analysis (:func:`analyse`), decide the status
(:func:`harness.report.status.decide_status`), assemble the model."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harness.analysis import load_records, slice_windows
from harness.analysis.containers import container_frames, proxy_traffic, telemetry
from harness.analysis.diagnosis import diagnose
from harness.analysis.evidence import Evidence
from harness.analysis.fault_effect import EffectView, FaultEffect, fault_effects, occurrences
from harness.analysis.metrics import WindowMetrics, by_offset
from harness.analysis.pages import small_pages
from harness.analysis.recovery import FaultSummary, summarize_fault
from harness.analysis.series import request_series, service_series
from harness.analysis.steady_state import Limit, derived_limits
from harness.analysis.windows import Window, load_bounds
from harness.checks import ExpectationResult, evaluate, judge_for
from harness.scenario.checks.threshold import Threshold
from harness.journal import Event, read_events, utc_iso
from harness.report.model import (
    ContainerLog,
    LoadSummary,
    MatrixInfo,
    Note,
    Report,
    ScenarioInfo,
    Series,
    SteadyStateReport,
    TimelineEntry,
    WindowReport,
)
from harness.report.status import decide_status
from harness.scenario.models import Scenario

if TYPE_CHECKING:
    import pandas as pd

END_WINDOW_S = 10.0
"""Without a recovery window at the end, the steady state is judged on the load's last 10 s."""


def _first(events: list[Event], name: str) -> Event | None:
    return next((e for e in events if e.name == name), None)


def _steady_state(scenario: Scenario, evidence: Evidence) -> tuple[SteadyStateReport, list[Limit]]:
    """Judge the steady state on the baseline and on the last window."""
    baseline = evidence.baseline()
    stated = list(scenario.steady_state)
    if stated:
        limits = [Limit(t.metric, t.operator, t.limit) for t in stated]
    else:
        limits = derived_limits(evidence.metrics_of(baseline)) if baseline else []
    checks = stated or [Threshold.model_validate({"metric": lim.metric, lim.operator: lim.value}) for lim in limits]
    last = evidence.windows[-1] if evidence.windows else None
    if last is None or last.kind != "recovery":
        last = Window("end", "recovery", max(0.0, evidence.run.end_s - END_WINDOW_S), evidence.run.end_s)

    def judge(window: Window | None, where: str) -> list[ExpectationResult]:
        if window is None:
            return []
        results = []
        for check in checks:
            label = f"{check.metric} {check.operator} {check.limit:g}"
            one = check.model_copy(update={"window": window.name, "name": f"steady state {where}: {label}"})
            results.extend(judge_for(one).judge(_with_window(evidence, window)))
        return results

    report = SteadyStateReport(
        derived=not stated,
        limits=[str(lim) for lim in limits],
        at_start=judge(baseline, "at start") if stated else [],
        at_end=judge(last, "at end"),
    )
    return report, limits


def _with_window(evidence: Evidence, window: Window) -> Evidence:
    """The evidence with ``window`` selectable by name (for the synthetic end window)."""
    if any(w.name == window.name for w in evidence.windows):
        return evidence
    return Evidence(windows=[*evidence.windows, window], run=evidence.run, metrics=evidence.metrics,
                    records=evidence.records, t0=evidence.t0, effects=evidence.effects,
                    occurrences=evidence.occurrences, facts=evidence.facts)


def record_loss(stop: dict | None, parsed: int) -> str | None:
    """Why the request records cannot be trusted, or None. From the journal's ``load.stop``
    (``recorded``: records the orchestrator received; ``records``: records the load child
    wrote; ``locust_requests``: requests Locust counted; ``garbage_lines``: stream lines that
    were neither records nor events; ``killed_in_flight``: requests still in flight when the
    stop timeout ended their users; ``lost_workers``: workers the master stopped hearing
    mid-run; ``missing_workers``: workers that never answered the stop) and ``parsed``, the
    records read back from requests.tsv.
    Every request sent must be recorded, or the run says it is not: a lost record may be the
    slowest request of a window."""
    if not stop:
        return None
    recorded, problems = stop.get("recorded"), []
    if stop.get("garbage_lines"):
        problems.append(f"{stop['garbage_lines']} garbled lines in the load's record stream")
    if stop.get("killed_in_flight"):
        problems.append(f"{stop['killed_in_flight']} requests were still in flight when the load's stop timeout "
                        "killed them (never recorded)")
    for lost in stop.get("lost_workers") or []:
        problems.append(f"worker {lost.get('index')} ({'remote' if lost.get('remote') else 'local'}, "
                        f"{lost.get('hostname') or 'unknown host'}) stopped answering mid-run after "
                        f"{lost.get('records')} records: the requests it sent after its last batch are not recorded")
    if stop.get("missing_workers"):
        problems.append(f"workers {stop['missing_workers']} never answered the stop: their last records are missing")
    for key, what in (("records", "the load child wrote"), ("locust_requests", "Locust counted")):
        if stop.get(key) is not None and recorded is not None and int(stop[key]) != int(recorded):
            problems.append(f"{what} {stop[key]} requests but {recorded} records arrived")
    if recorded is not None and parsed != int(recorded):
        problems.append(f"{recorded} records arrived but {parsed} could be read back from requests.tsv")
    return ("requests were lost: " + "; ".join(problems)) if problems else None


@dataclass(frozen=True)
class _Marks:
    """The journal's landmarks: ``run.start``, ``run.end`` and ``load.start`` (None: absent),
    and ``t0``, the load's start (the run's start when the load never started), epoch s."""

    start: Event
    end: Event | None
    load_start: Event | None
    t0: float


@dataclass
class Analysis:
    """What the analysis found in a run whose load started: the report's ``windows``,
    ``faults`` (recovery summaries), ``fault_effects``, ``steady_state``, ``totals``,
    ``series``, and the ``expectations``' verdicts (only for a completed run). ``recorded``:
    how many request records ``requests.tsv`` held."""

    recorded: int
    windows: list[WindowReport] = field(default_factory=list)
    results: list[ExpectationResult] = field(default_factory=list)
    faults: list[FaultSummary] = field(default_factory=list)
    effects: list[FaultEffect] = field(default_factory=list)
    steady: SteadyStateReport | None = None
    totals: WindowMetrics | None = None
    series: Series = field(default_factory=Series)


def build_report(run_dir: Path, scenario: Scenario, strict: bool = False, provisional: bool = False) -> Report:
    """Analyse a run directory and return its report; the status follows
    :func:`harness.report.status.decide_status` (``strict``: inconclusive fails). A run whose
    load never started gets no windows and no verdicts. ``provisional``: the journal has no
    ``run.end`` yet (the run is tearing down): judge it as if it completed, as its final report
    will if it does (``harness run`` draws the plots of such a report while the stack goes down,
    :mod:`harness.run.report`).

    Raises:
        ValueError: the journal has no ``run.start`` event.
    """
    events = read_events(run_dir)
    marks = _marks(events, run_dir)
    ended = marks.end.fields.get("status") if marks.end else None
    records_file = run_dir / "requests.tsv"
    if marks.load_start is not None:
        judge = ended == "completed" or (provisional and marks.end is None)
        with small_pages():  # millions of records: see harness.analysis.pages
            found = analyse(events, records_file, scenario, marks.t0, judge=judge)
    else:
        found = Analysis(recorded=len(load_records(records_file)))
    stop = _first(events, "load.stop")
    status, error = decide_status(ended, marks.end.fields.get("error") if marks.end else None,
                                  measure=scenario.mode == "measure", results=found.results, steady=found.steady,
                                  effects=found.effects, lost=record_loss(stop.fields if stop else None,
                                                                          found.recorded), strict=strict)
    return _assemble(events, marks, scenario, found, status, error)


def _marks(events: list[Event], run_dir: Path) -> _Marks:
    """The journal's landmarks. Raises ValueError when it has no ``run.start``."""
    start = _first(events, "run.start")
    if start is None:
        raise ValueError(f"{run_dir}: journal has no run.start event")
    load_start = _first(events, "load.start")
    return _Marks(start, _first(events, "run.end"), load_start, load_start.t if load_start else start.t)


def _timeline(events: list[Event], t0: float) -> list[TimelineEntry]:
    """One entry per fault inject and revert (failed ones included), ``t0`` the load's start."""
    return [
        TimelineEntry(
            at=utc_iso(e.t),
            offset_s=round(e.t - t0, 3),
            action=e.name.split(".", 1)[1],  # type: ignore[arg-type]
            fault=e.fields["fault"] + (f"#{e.fields['occurrence']}" if e.fields.get("occurrence") else ""),
            kind=e.fields.get("kind", ""),
            touched=list(e.fields.get("touched", [])),
            error=e.fields.get("error"),
        )
        for e in events
        if e.name in ("fault.inject", "fault.revert", "fault.inject_failed", "fault.revert_failed")
    ]


def _notes(events: list[Event], t0: float) -> list[Note]:
    """One note per journal ``note`` event (an operator's, ``harness gameday``), ``t0`` the
    load's start (epoch s); an event without a text string is skipped."""
    return [Note(at=utc_iso(e.t), offset_s=round(e.t - t0, 3), text=e.fields["text"])
            for e in events if e.name == "note" and isinstance(e.fields.get("text"), str)]


def analyse(events: list[Event], records_file: Path, scenario: Scenario, t0: float, judge: bool) -> Analysis:
    """Slice the run into windows and analyse them: fault effects, the steady state, recovery
    summaries, per-window metrics and diagnoses, totals, series; and, with ``judge`` (a
    completed run), the expectations. ``records_file``: the run's ``requests.tsv``, read here so
    that only its sorted copy stays in memory (5 M records take ~200 MiB a copy:
    ``bench/analysis_5m.py``); ``t0``: the load's start, epoch s."""
    windows, run = slice_windows(events, scenario.analysis.recovery_grace_s)
    records = by_offset(load_records(records_file), t0)  # the unsorted frame is freed as it is sorted
    recorded = len(records)
    evidence = _evidence(events, records, scenario, t0, windows, run)
    baseline = evidence.metrics_of(windows[0]) if windows and windows[0].kind == "baseline" else None
    steady, limits = _steady_state(scenario, evidence)
    failed = evidence.row_facts().failed  # the records' failed flags, computed once
    summaries = []
    for w in windows:
        if w.kind == "fault":
            summary = summarize_fault(w, records, run.end_s, limits, scenario.analysis.recovered_after_s, failed)
            summaries.append(summary)
            evidence.fault_summaries.setdefault(summary.fault, []).append(summary)
    reports = [_window_report(w, evidence, baseline) for w in windows]
    totals = evidence.metrics_of(run)
    series = Series(requests=request_series(records, run.end_s, failed), containers=service_series(evidence.containers))
    results = evaluate(list(scenario.expectations), evidence) if judge else []
    return Analysis(recorded=recorded, windows=reports, results=results, faults=summaries,
                    effects=list(evidence.effects.values()), steady=steady, totals=totals, series=series)


def _evidence(events: list[Event], records: pd.DataFrame, scenario: Scenario, t0: float, windows: list[Window],
              run: Window) -> Evidence:
    """Everything the checks may judge: windows, records, container telemetry, proxy traffic,
    fault occurrences and whether each acted, the read-back."""
    stats, docker_events, samples = container_frames(events, t0)
    traffic = proxy_traffic(events, t0)
    found = occurrences(events, t0, windows)
    specs = {f.name: f for f in scenario.faults}
    judged = fault_effects(specs, found, EffectView(traffic, docker_events, stats, records))
    readback = _first(events, "readback")
    return Evidence(windows=windows, run=run, metrics={}, records=records, t0=t0,
                    faults=specs, containers=stats,
                    container_events=docker_events, service_metrics=samples,
                    readback=readback.fields if readback else None,
                    effects=judged, traffic=traffic, occurrences=found,
                    ack_requests=[r.label for r in scenario.load.requests if r.ack_id])


def _window_report(w: Window, evidence: Evidence, baseline: WindowMetrics | None) -> WindowReport:
    """One window's metrics (overall and by request), container telemetry and, but for the
    baseline, a diagnosis against the baseline naming the fault when it acted."""
    overall = evidence.metrics_of(w)
    seen = evidence.effects.get(w.name) if w.kind == "fault" else None
    acting = evidence.faults.get(w.fault or "") if seen is not None and seen.seen else None
    containers = telemetry(evidence.containers, evidence.container_events, w)
    return WindowReport(
        name=w.name,
        kind=w.kind,  # type: ignore[arg-type]
        fault=w.fault,
        start_s=w.start_s,
        end_s=w.end_s,
        metrics=overall,
        by_request=evidence.metrics[w.name][1],
        diagnosis=(diagnose(overall, baseline, fault=acting, acted=seen.evidence if acting else None,
                            telemetry=containers) if w.kind != "baseline" else None),
        containers=containers,
    )


def _assemble(events: list[Event], marks: _Marks, scenario: Scenario, found: Analysis, status: str,
              error: str | None) -> Report:
    """The report model from the journal's landmarks, the analysis and the status."""
    start, end, load_start = marks.start, marks.end, marks.load_start
    stop = _first(events, "load.stop")
    logs = next((e for e in reversed(events) if e.name == "logs.saved"), None)  # the last (a fast teardown's)
    load = LoadSummary(
        recorded=found.recorded,
        duration_s=round(load_bounds(events)[1] - marks.t0, 3) if load_start else None,
        host=load_start.fields.get("host") if load_start else None,
        **LoadSummary.stop_fields(stop.fields if stop else {}, marks.t0 if load_start else None),
    )
    return Report(
        run_id=start.fields["run_id"],
        seed=start.fields["seed"],
        scenario=ScenarioInfo(
            name=scenario.name,
            path=start.fields.get("scenario_path", ""),
            sha256=start.fields.get("scenario_sha256", ""),
            overrides=start.fields.get("overrides", []),
            profile=start.fields.get("profile"),
            matrix=MatrixInfo(**scenario.matrix.model_dump()) if scenario.matrix else None,
        ),
        status=status,  # type: ignore[arg-type]
        error=error,
        started_at=utc_iso(start.t),
        ended_at=utc_iso(end.t if end else events[-1].t),
        environment=start.fields.get("environment", {}) | (end.fields.get("environment", {}) if end else {}),
        timeline=_timeline(events, marks.t0),
        notes=_notes(events, marks.t0),
        windows=found.windows,
        totals=found.totals,
        load=load,
        steady_state=found.steady,
        faults=found.faults,
        fault_effects=found.effects,
        expectations=found.results,
        series=found.series,
        **_container_logs(logs),
    )


def _container_logs(logs: Event | None) -> dict:
    """The report's ``container_logs`` and ``container_logs_failed`` from the last
    ``logs.saved`` event (none: both empty)."""
    return {
        "container_logs": [ContainerLog(container=f["container"], path=f["path"], size_bytes=f["size_bytes"],
                                        truncated=f.get("truncated", False))
                           for f in (logs.fields.get("files") or [] if logs else [])],
        "container_logs_failed": list(logs.fields.get("failed") or []) if logs else [],
    }
