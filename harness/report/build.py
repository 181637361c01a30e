"""Build the :class:`Report` from a run directory's journal and request records (pure: reads files
only, never Docker)."""

from __future__ import annotations

from pathlib import Path

from harness.analysis import load_records, slice_windows
from harness.analysis.containers import container_frames, proxy_traffic, telemetry
from harness.analysis.diagnosis import diagnose
from harness.analysis.evidence import Evidence
from harness.analysis.fault_effect import EffectView, FaultEffect, fault_effects, occurrences
from harness.analysis.recovery import summarize_fault
from harness.analysis.series import request_series, service_series
from harness.analysis.steady_state import Limit, derived_limits
from harness.analysis.windows import Window, load_bounds
from harness.checks import ExpectationResult, evaluate, judge_for
from harness.scenario.checks.threshold import Threshold
from harness.journal import Event, read_events, utc_iso
from harness.report.model import (
    ContainerLog,
    LoadSummary,
    Report,
    ScenarioInfo,
    Series,
    SteadyStateReport,
    TimelineEntry,
    WindowReport,
)
from harness.scenario.models import Scenario

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
                    occurrences=evidence.occurrences)


def record_loss(stop: dict | None, parsed: int) -> str | None:
    """Why the request records cannot be trusted, or None. From the journal's ``load.stop``
    (``recorded``: records the orchestrator received; ``records``: records the load child
    wrote; ``locust_requests``: requests Locust counted; ``garbage_lines``: stream lines that
    were neither records nor events; ``killed_in_flight``: requests still in flight when the
    stop timeout ended their users) and ``parsed``, the records read back from requests.tsv.
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
    for key, what in (("records", "the load child wrote"), ("locust_requests", "Locust counted")):
        if stop.get(key) is not None and recorded is not None and int(stop[key]) != int(recorded):
            problems.append(f"{what} {stop[key]} requests but {recorded} records arrived")
    if recorded is not None and parsed != int(recorded):
        problems.append(f"{recorded} records arrived but {parsed} could be read back from requests.tsv")
    return ("requests were lost: " + "; ".join(problems)) if problems else None


def decide_status(ended: str, error: str | None, *, measure: bool, results: list[ExpectationResult],
                  steady: SteadyStateReport | None, effects: list[FaultEffect], lost: str | None,
                  strict: bool = False) -> tuple[str, str | None]:
    """Every status rule of a run, in order; returns ``(status, error)``.

    1. a run cut short keeps what ``run.end`` said: ``error``, ``interrupted``, ``aborted``;
    2. ``error``: request records were lost (``lost``, see :func:`record_loss`);
    3. ``inconclusive``: a stated steady state did not hold on the baseline (nothing to compare with);
    4. ``measured``: the scenario is a measurement (``mode: measure``): nothing is judged;
    5. ``failed``: an expectation failed, or a stated steady state failed at the end;
    6. ``inconclusive``: an expectation could not be judged, or a fault never took effect;
    7. ``passed``: every expectation held on evidence.

    With ``strict``, ``inconclusive`` becomes ``failed`` (the reason says so).
    """
    if ended != "completed":
        return ended, error
    if lost:
        return "error", lost
    if steady is not None and any(not r.held for r in steady.at_start):
        failed = "; ".join(r.explanation for r in steady.at_start if not r.held)
        return _strict("inconclusive", f"the steady-state hypothesis did not hold on the baseline: {failed}", strict)
    if measure:
        return "measured", None
    at_end = steady.at_end if steady and not steady.derived else []
    if any(not r.held and not r.inconclusive for r in results + at_end):
        return "failed", None
    unproven = [f"{r.name}: {r.explanation}" for r in results + at_end if r.inconclusive]
    unproven += [f"fault {e.window} never took effect: {e.evidence}" for e in effects if not e.seen]
    if unproven:
        return _strict("inconclusive", "; ".join(unproven), strict)
    return "passed", None


def _strict(status: str, reason: str, strict: bool) -> tuple[str, str]:
    return ("failed", f"strict: inconclusive counts as failed: {reason}") if strict else (status, reason)


def build_report(run_dir: Path, scenario: Scenario, strict: bool = False) -> Report:
    """Analyse a run directory and return its report; the status follows :func:`decide_status`
    (``strict``: inconclusive fails). A run whose load never started gets no windows and no
    verdicts.

    Raises:
        ValueError: the journal has no ``run.start`` event.
    """
    events = read_events(run_dir)
    start = _first(events, "run.start")
    end = _first(events, "run.end")
    if start is None:
        raise ValueError(f"{run_dir}: journal has no run.start event")
    status = end.fields.get("status") if end else "error"
    error = end.fields.get("error") if end else "the run ended without a run.end record"
    load_start = _first(events, "load.start")
    t0 = load_start.t if load_start else start.t

    timeline = [
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

    records = load_records(run_dir / "requests.tsv")
    windows_out: list[WindowReport] = []
    results: list[ExpectationResult] = []
    fault_summaries = []
    effects: list[FaultEffect] = []
    steady = None
    totals = None
    series = Series()
    if load_start is not None:
        windows, run = slice_windows(events, scenario.analysis.recovery_grace_s)
        records = records.assign(offset_s=records["start_s"] - t0).sort_values("offset_s", kind="stable")
        stats, docker_events, samples = container_frames(events, t0)
        traffic = proxy_traffic(events, t0)
        found = occurrences(events, t0, windows)
        specs = {f.name: f for f in scenario.faults}
        judged = fault_effects(specs, found, EffectView(traffic, docker_events, stats, records))
        effects = list(judged.values())
        evidence = Evidence(windows=windows, run=run, metrics={}, records=records, t0=t0,
                            faults=specs, containers=stats,
                            container_events=docker_events, service_metrics=samples,
                            readback=(_first(events, "readback").fields if _first(events, "readback") else None),
                            effects=judged, traffic=traffic, occurrences=found,
                            ack_requests=[r.label for r in scenario.load.requests if r.ack_id])
        baseline = evidence.metrics_of(windows[0]) if windows and windows[0].kind == "baseline" else None
        steady, limits = _steady_state(scenario, evidence)
        for w in windows:
            if w.kind == "fault":
                summary = summarize_fault(w, records, run.end_s, limits, scenario.analysis.recovered_after_s)
                fault_summaries.append(summary)
                evidence.fault_summaries.setdefault(summary.fault, []).append(summary)
        for w in windows:
            overall = evidence.metrics_of(w)
            seen = judged.get(w.name) if w.kind == "fault" else None
            acting = specs.get(w.fault or "") if seen is not None and seen.seen else None
            containers = telemetry(stats, docker_events, w)
            windows_out.append(
                WindowReport(
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
            )
        totals = evidence.metrics_of(run)
        series = Series(requests=request_series(records, run.end_s), containers=service_series(stats))
        if status == "completed":
            results = evaluate(list(scenario.expectations), evidence)
    stop = _first(events, "load.stop")
    logs = next((e for e in reversed(events) if e.name == "logs.saved"), None)  # the last (a fast teardown's)
    status, error = decide_status(status, error, measure=scenario.mode == "measure", results=results, steady=steady,
                                  effects=effects, lost=record_loss(stop.fields if stop else None, len(records)),
                                  strict=strict)

    load = LoadSummary(
        recorded=len(records),
        duration_s=round(load_bounds(events)[1] - t0, 3) if load_start else None,
        host=load_start.fields.get("host") if load_start else None,
        **LoadSummary.stop_fields(stop.fields if stop else {}),
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
        ),
        status=status,
        error=error,
        started_at=utc_iso(start.t),
        ended_at=utc_iso(end.t if end else events[-1].t),
        environment=start.fields.get("environment", {}) | (end.fields.get("environment", {}) if end else {}),
        timeline=timeline,
        windows=windows_out,
        totals=totals,
        load=load,
        steady_state=steady,
        faults=fault_summaries,
        fault_effects=effects,
        expectations=results,
        series=series,
        container_logs=[ContainerLog(container=f["container"], path=f["path"], size_bytes=f["size_bytes"],
                                     truncated=f.get("truncated", False))
                        for f in (logs.fields.get("files") or [] if logs else [])],
        container_logs_failed=list(logs.fields.get("failed") or []) if logs else [],
    )
