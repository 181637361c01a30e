"""Build the :class:`Report` from a run directory's journal and request records (pure: reads files
only, never Docker)."""

from __future__ import annotations

from pathlib import Path

from harness.analysis import evaluate, load_records, slice_windows, window_metrics
from harness.analysis.windows import load_bounds
from harness.journal import Event, read_events, utc_iso
from harness.report.model import (
    LoadSummary,
    Report,
    ScenarioInfo,
    TimelineEntry,
    WindowReport,
)
from harness.scenario.models import Scenario


def _first(events: list[Event], name: str) -> Event | None:
    return next((e for e in events if e.name == name), None)


def build_report(run_dir: Path, scenario: Scenario) -> Report:
    """Analyse a run directory and return its report.

    The status is the one ``run.end`` recorded when the run was cut short (``error``,
    ``interrupted``, ``aborted``); otherwise ``failed`` if any expectation failed, else ``passed``.
    A run whose load never started gets no windows and no verdicts, and keeps its error status.
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
            fault=e.fields["fault"],
            kind=e.fields.get("kind", ""),
            touched=list(e.fields.get("touched", [])),
            error=e.fields.get("error"),
        )
        for e in events
        if e.name in ("fault.inject", "fault.revert", "fault.inject_failed", "fault.revert_failed")
    ]

    windows_out: list[WindowReport] = []
    results = []
    totals = None
    records = load_records(run_dir / "requests.tsv")
    if load_start is not None:
        windows, run = slice_windows(events)
        metrics = {w.name: window_metrics(records, t0, w) for w in [*windows, run]}
        for w in windows:
            overall, by_name = metrics[w.name]
            windows_out.append(
                WindowReport(
                    name=w.name,
                    kind=w.kind,  # type: ignore[arg-type]
                    fault=w.fault,
                    start_s=w.start_s,
                    end_s=w.end_s,
                    metrics=overall,
                    by_request=by_name,
                )
            )
        totals = metrics["run"][0]
        if status == "completed":
            results = evaluate(list(scenario.expectations), windows, run, metrics)
    if status == "completed":
        status = "failed" if any(not r.held for r in results) else "passed"

    stop = _first(events, "load.stop")
    load = LoadSummary(
        recorded=len(records),
        locust_requests=stop.fields.get("locust_requests") if stop else None,
        locust_failures=stop.fields.get("locust_failures") if stop else None,
        duration_s=round(load_bounds(events)[1] - t0, 3) if load_start else None,
        host=load_start.fields.get("host") if load_start else None,
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
        expectations=results,
    )
