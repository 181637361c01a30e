"""Synthetic reports for the report, compare and repeat tests: a baseline, then per fault a fault
window and a recovery window, with per-second series that match the window metrics."""

from __future__ import annotations

import math
import random
from dataclasses import replace

import pytest

from harness.analysis.containers import ServiceTelemetry
from harness.analysis.metrics import WindowMetrics
from harness.analysis.recovery import FaultSummary
from harness.analysis.series import RequestSeries, ServiceSeries
from harness.checks import ExpectationResult
from harness.report.model import (
    LoadSummary,
    Report,
    ScenarioInfo,
    Series,
    SteadyStateReport,
    TimelineEntry,
    WindowReport,
)

HOSTILE = '<script>alert(1)</script>"\'&<img src=x onerror=alert(2)>]]></failure>$\\frac{1}{0}$|`*_'


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(math.ceil(q * len(ordered))) - 1)]


def make_report(
    name: str = "shop",
    faults: tuple[str, ...] = ("catalog-slow",),
    window_s: int = 10,
    fault_p99_ms: float = 1500.0,
    base_ms: float = 40.0,
    fault_error_rate: float = 0.0,
    rps: int = 50,
    seed: int = 1,
    status: str = "passed",
    expectations: list[ExpectationResult] | None = None,
    error_class: str = "http_503",
    service: str = "api",
    containers: bool = True,
) -> Report:
    """A report with ``baseline``, then ``fault:<f>`` and ``recovery:<f>`` per fault, each
    ``window_s`` long, ``rps`` requests a second; fault windows are slow (p99 about
    ``fault_p99_ms``) and fail ``fault_error_rate`` of their requests."""
    rng = random.Random(seed)
    spans = [("baseline", "baseline", None)]
    for f in faults:
        spans += [(f"fault:{f}", "fault", f), (f"recovery:{f}", "recovery", f)]
    t_s, requests, errors, p50, p95, p99 = [], [], [], [], [], []
    windows, timeline, summaries = [], [], []
    t0 = 0
    for wname, kind, fault in spans:
        durations, n_err = [], 0
        for sec in range(t0, t0 + window_s):
            slow = kind == "fault"
            lat = [rng.uniform(0.5, 1.0) * (fault_p99_ms if slow else base_ms) for _ in range(rps)]
            e = sum(1 for _ in range(rps) if slow and rng.random() < fault_error_rate)
            t_s.append(sec)
            requests.append(rps)
            errors.append(e)
            p50.append(round(_pct(lat, 0.5), 3))
            p95.append(round(_pct(lat, 0.95), 3))
            p99.append(round(_pct(lat, 0.99), 3))
            durations += lat
            n_err += e
        n = len(durations)
        metrics = WindowMetrics(
            requests=n, rps=n / window_s, error_rate=n_err / n, success_rate=1 - n_err / n,
            p50_ms=_pct(durations, 0.5), p90_ms=_pct(durations, 0.9), p95_ms=_pct(durations, 0.95),
            p99_ms=_pct(durations, 0.99), p999_ms=_pct(durations, 0.999), max_ms=max(durations),
            mean_ms=sum(durations) / n, errors={error_class: n_err} if n_err else {},
        )
        tele = {service: ServiceTelemetry(5.0, 9.0, 60.0, 0.0, 1 if kind == "recovery" else 0, 0, 0)} if containers else {}
        windows.append(WindowReport(name=wname, kind=kind, fault=fault, start_s=t0, end_s=t0 + window_s,
                                    metrics=metrics, by_request={"GET /x": metrics},
                                    diagnosis="slow: resource bottleneck" if kind == "fault" else None,
                                    containers=tele))
        if kind == "fault":
            timeline.append(TimelineEntry(at=f"2026-01-01T00:00:{t0:02d}.000Z", offset_s=t0, action="inject",
                                          fault=fault, kind="latency", touched=[f"{fault}/toxic"]))
            timeline.append(TimelineEntry(at=f"2026-01-01T00:00:{t0 + window_s:02d}.000Z", offset_s=t0 + window_s,
                                          action="revert", fault=fault, kind="latency", touched=[f"{fault}/toxic"]))
            summaries.append(FaultSummary(fault=fault, window=wname, inject_s=t0, revert_s=t0 + window_s,
                                          requests=n, failed_requests=n_err,
                                          availability_pct=round(100 * (1 - n_err / n), 3),
                                          time_to_detect_s=0.5, time_to_recover_s=1.0, degraded_s=window_s))
        t0 += window_s
    total = WindowMetrics(requests=sum(requests), rps=sum(requests) / t0,
                          error_rate=sum(errors) / sum(requests), p99_ms=max(p99))
    if expectations is None:
        expectations = [
            ExpectationResult("steady baseline", True, 0.0, 0.01, "<", "baseline", "error_rate",
                              "error_rate was 0 in baseline; it had to be below 0.01, so the expectation held."),
        ]
        for f in faults:
            p = next(w for w in windows if w.name == f"fault:{f}").metrics.p99_ms
            held = p < 1000
            expectations.append(ExpectationResult(
                f"p99 bounded during {f}", held, p, 1000.0, "<", f"fault:{f}", "p99_ms",
                f"p99_ms was {p:g} in fault:{f}; it had to be below 1000, so the expectation "
                + ("held." if held else "failed."), request="GET /x"))
    if status == "passed" and any(not e.held for e in expectations):
        status = "failed"
    containers_series = {service: ServiceSeries(t_s=list(t_s), cpu_pct=[5.0] * len(t_s),
                                                mem_mib=[60.0 + i * 0.1 for i in range(len(t_s))])} if containers else {}
    return Report(
        run_id=f"run-{name}-{seed}", seed=seed,
        scenario=ScenarioInfo(name=name, path=f"scenarios/{name}.yaml", sha256="ab" * 32,
                              overrides=["load.duration_s=30"], profile="resilient"),
        status=status, error=None if status in ("passed", "failed") else "something broke",
        started_at="2026-01-01T00:00:00.000Z", ended_at=f"2026-01-01T00:{t0 // 60:02d}:{t0 % 60:02d}.000Z",
        environment={"harness": "0.1.0", "python": "3.11.7", "locust": "2.47.0", "toxiproxy": "2.12.0",
                     "compose_sha256": "cd" * 32, "images": {service: "sha256:" + "ef" * 32}},
        timeline=timeline, windows=windows, totals=total,
        load=LoadSummary(recorded=sum(requests), locust_requests=sum(requests), locust_failures=sum(errors),
                         duration_s=float(t0), host="http://127.0.0.1:1"),
        steady_state=SteadyStateReport(derived=True, limits=["error_rate <= 0.02"]),
        faults=summaries, expectations=expectations,
        series=Series(requests=RequestSeries(t_s, requests, {error_class: errors} if any(errors) else {}, p50, p95, p99),
                      containers=containers_series),
    )


def with_expectations(report: Report, expectations: list[ExpectationResult]) -> Report:
    """A copy of ``report`` with other verdicts (status follows them)."""
    status = "failed" if any(not e.held for e in expectations) else "passed"
    return report.model_copy(update={"expectations": expectations, "status": status})


def expectation(name: str = "e", held: bool = True, inconclusive: bool = False, **kw) -> ExpectationResult:
    """A verdict with sensible defaults."""
    base = ExpectationResult(name, held, 12.5, 10.0, "<", "fault:catalog-slow", "p99_ms",
                             f"p99_ms was 12.5; it had to be below 10, so the expectation {'held' if held else 'failed'}.",
                             inconclusive=inconclusive)
    return replace(base, **kw)


@pytest.fixture
def report_factory():
    """:func:`make_report`."""
    return make_report
