"""Build the :class:`Report` from a run directory's journal and request records (pure: reads files
only, never Docker)."""

from __future__ import annotations

from pathlib import Path

from harness.analysis import evaluate, load_records, slice_windows
from harness.analysis.containers import container_frames, telemetry
from harness.analysis.diagnosis import diagnose
from harness.analysis.evidence import Evidence
from harness.analysis.recovery import summarize_fault
from harness.analysis.series import request_series, service_series
from harness.analysis.steady_state import Limit, derived_limits
from harness.analysis.windows import Window, load_bounds
from harness.checks import ExpectationResult
from harness.checks.threshold import Threshold
from harness.journal import Event, read_events, utc_iso
from harness.report.model import (
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
            results.extend(one.judge(_with_window(evidence, window)))
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
                    records=evidence.records, t0=evidence.t0)


def build_report(run_dir: Path, scenario: Scenario) -> Report:
    """Analyse a run directory and return its report.

    The status is the one ``run.end`` recorded when the run was cut short (``error``,
    ``interrupted``, ``aborted``). Otherwise: ``error`` (inconclusive) if a stated steady state
    did not hold on the baseline; ``failed`` if any expectation, or a stated steady state at the
    end, failed; ``error`` if an expectation could not be judged (never a pass); else
    ``passed``. A run whose load never started gets no windows and no verdicts.
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
    steady = None
    totals = None
    series = Series()
    if load_start is not None:
        windows, run = slice_windows(events, scenario.analysis.recovery_grace_s)
        records = records.assign(offset_s=records["start_s"] - t0).sort_values("offset_s", kind="stable")
        stats, docker_events, samples = container_frames(events, t0)
        evidence = Evidence(windows=windows, run=run, metrics={}, records=records, t0=t0,
                            faults={f.name: f for f in scenario.faults}, containers=stats,
                            container_events=docker_events, service_metrics=samples,
                            readback=(_first(events, "readback").fields if _first(events, "readback") else None))
        baseline = evidence.metrics_of(windows[0]) if windows and windows[0].kind == "baseline" else None
        steady, limits = _steady_state(scenario, evidence)
        for w in windows:
            if w.kind == "fault":
                summary = summarize_fault(w, records, run.end_s, limits, scenario.analysis.recovered_after_s)
                fault_summaries.append(summary)
                evidence.fault_summaries.setdefault(summary.fault, []).append(summary)
        for w in windows:
            overall = evidence.metrics_of(w)
            windows_out.append(
                WindowReport(
                    name=w.name,
                    kind=w.kind,  # type: ignore[arg-type]
                    fault=w.fault,
                    start_s=w.start_s,
                    end_s=w.end_s,
                    metrics=overall,
                    by_request=evidence.metrics[w.name][1],
                    diagnosis=diagnose(overall, baseline) if w.kind != "baseline" else None,
                    containers=telemetry(stats, docker_events, w),
                )
            )
        totals = evidence.metrics_of(run)
        series = Series(requests=request_series(records, run.end_s), containers=service_series(stats))
        if status == "completed":
            results = evaluate(list(scenario.expectations), evidence)
            if any(not r.held for r in steady.at_start):
                status = "error"
                failed = "; ".join(r.explanation for r in steady.at_start if not r.held)
                error = f"inconclusive: the steady-state hypothesis did not hold on the baseline: {failed}"
    if status == "completed":
        # a derived steady state is a yardstick, reported but not a verdict; a stated one is both
        at_end = steady.at_end if steady and not steady.derived else []
        if any(not r.held and not r.inconclusive for r in results + at_end):
            status = "failed"
        elif any(r.inconclusive for r in results):
            status, error = "error", "inconclusive: an expectation could not be judged (its fault never took effect)"
        else:
            status = "passed"

    stop = _first(events, "load.stop")
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
        expectations=results,
        series=series,
    )
