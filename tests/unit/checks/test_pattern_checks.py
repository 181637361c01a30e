"""Pattern checks on hand-made evidence: each holds on the resilient shape of the data, fails on
the naive shape, and explains itself with the observed numbers."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import TypeAdapter

from harness.analysis.evidence import Evidence
from harness.analysis.windows import Window
from harness.faults.latency import LatencySpec
from harness.scenario.models import Expectation

T0 = 1000.0
WINDOWS = [
    Window("baseline", "baseline", 0, 10),
    Window("fault:f", "fault", 10, 20, "f"),
    Window("recovery:f", "recovery", 20, 30, "f"),
]
RUN = Window("run", "run", 0, 30)


def check(spec: dict):
    return TypeAdapter(Expectation).validate_python(spec)


def records(rows):
    """rows: (offset_s, duration_ms, status, error) for request 'GET /p'."""
    frame = pd.DataFrame(
        [(T0 + off, dur, "GET /p", status, err, 10) for off, dur, status, err in rows],
        columns=["start_s", "duration_ms", "name", "status", "error", "bytes"],
    )
    return frame.assign(offset_s=frame["start_s"] - T0)


def steady(start, end, dur=10.0, step=0.1):
    return [(start + i * step, dur, 200, "") for i in range(int((end - start) / step))]


def evidence(rows, samples=None, stats=None, faults=None, readback=None) -> Evidence:
    return Evidence(
        windows=WINDOWS, run=RUN, metrics={}, records=records(rows), t0=T0, faults=faults or {},
        service_metrics=pd.DataFrame(samples or [], columns=["offset_s", "container", "service", "metric", "labels",
                                                             "value"]),
        containers=pd.DataFrame(stats or [], columns=["offset_s", "container", "service", "cpu_pct", "mem_mib"]),
        container_events=pd.DataFrame([], columns=["offset_s", "container", "service", "action"]),
        readback=readback,
    )


def only(results):
    assert len(results) == 1, results
    return results[0]


SLOW = {"f": LatencySpec(name="f", proxy="p", latency_ms=1500, at_s=10, duration_s=10)}


def test_timeout_holds_when_p99_is_near_the_timeout_and_fails_at_the_injected_latency():
    spec = check({"check": "timeout", "window": "fault:f", "timeout_ms": 500, "margin_ms": 200})
    good = only(spec.judge(evidence(steady(0, 30, dur=300), faults=SLOW)))
    assert good.held and good.observed == pytest.approx(300, rel=1e-3)
    bad = only(spec.judge(evidence(steady(0, 10) + steady(10, 20, dur=1550) + steady(20, 30), faults=SLOW)))
    assert not bad.held and bad.observed == pytest.approx(1550, rel=1e-3)
    assert "1550" in bad.explanation and "1500 ms" in bad.explanation and "did not bound" in bad.explanation


def retries(total_by_second):
    return [(s, "api-1", "api", "shop_dependency_retries_total", {"dependency": "catalog"}, v)
            for s, v in total_by_second]


def test_retry_needs_low_errors_and_evidence_that_retries_happened():
    rows = steady(0, 30)
    spec = check({"check": "retry", "window": "fault:f", "max_error_rate": 0.02})
    held = only(spec.judge(evidence(rows, samples=retries([(9, 0), (12, 5), (19, 30), (25, 30)]))))
    assert held.held and "30 retries" in held.explanation
    none = only(spec.judge(evidence(rows, samples=retries([(9, 0), (19, 0)]))))
    assert not none.held  # the dependency never failed: the fault was a no-op
    failing = [(o, d, 500 if i % 5 == 0 else 200, "http_500" if i % 5 == 0 else "")
               for i, (o, d, _, _) in enumerate(steady(10, 20))]
    naive = only(spec.judge(evidence(steady(0, 10) + failing + steady(20, 30),
                                     samples=[(12, "api-1", "api", "other_metric", {}, 1.0)])))
    assert not naive.held and naive.observed == pytest.approx(0.2)


def breaker_state(values):
    return [(s, "api-1", "api", "shop_circuit_breaker_state", {"dependency": "catalog"}, v) for s, v in values]


def test_circuit_breaker_fails_fast_opens_and_closes():
    spec = check({"check": "circuit_breaker", "window": "fault:f", "fail_fast_ms": 500, "close_within_s": 5})
    rows = steady(0, 30)
    good = only(spec.judge(evidence(rows, samples=breaker_state([(9, 0), (11, 1), (19, 1), (22, 0)]))))
    assert good.held and "opened" in good.explanation and "closed 2.0 s after" in good.explanation
    never_closed = only(spec.judge(evidence(rows, samples=breaker_state([(9, 0), (11, 1), (25, 1)]))))
    assert not never_closed.held and "never closed" in never_closed.explanation
    hung = [(o, 5000.0, 0, "timeout") for o, *_ in steady(10, 20)]
    naive = only(spec.judge(evidence(steady(0, 10) + hung + steady(20, 30),
                                     samples=[(12, "api-1", "api", "other_metric", {}, 1.0)])))
    assert not naive.held and naive.observed == pytest.approx(5000) and "no breaker" in naive.explanation


def test_backpressure_wants_fast_rejections_and_bounded_accepted_latency():
    spec = check({"check": "backpressure", "window": "fault:f", "reject_p99_ms": 50, "accepted_p99_ms": 600,
                  "min_rejected": 5})
    shed = [(o, 3.0, 503, "http_503") if i % 2 else (o, 400.0, 201, "") for i, (o, *_) in enumerate(steady(10, 20))]
    good = only(spec.judge(evidence(steady(0, 10) + shed + steady(20, 30))))
    assert good.held and good.observed == pytest.approx(3.0)
    queued = only(spec.judge(evidence(steady(0, 10) + steady(10, 20, dur=900) + steady(20, 30))))
    assert not queued.held and "0 of 100 requests were rejected" in queued.explanation


def test_rate_limit_counts_429s():
    spec = check({"check": "rate_limit", "window": "fault:f", "accepted_p99_ms": 600, "min_rejected": 5})
    limited = [(o, 2.0, 429, "http_429") if i % 3 == 0 else (o, 20.0, 200, "") for i, (o, *_) in enumerate(steady(10, 20))]
    assert only(spec.judge(evidence(steady(0, 10) + limited + steady(20, 30)))).held
    assert not only(spec.judge(evidence(steady(0, 30)))).held


def test_failover_and_health_check_measure_when_symptoms_stop():
    rows = steady(0, 30)
    errors_until = lambda end: [(o, d, 503, "http_503") if o < end else (o, d, 200, "") for o, d, _, _ in rows]
    for name in ("failover", "health_check"):
        spec = check({"check": name, "window": "fault:f", "within_s": 5})
        quick = only(spec.judge(evidence(errors_until(12.0))))
        assert quick.held and quick.observed == pytest.approx(1.9, abs=0.11)
        slow = only(spec.judge(evidence(errors_until(18.0))))
        assert not slow.held and slow.observed == pytest.approx(7.9, abs=0.11)


def test_redundancy_bounds_the_error_rate_of_a_replica_loss():
    spec = check({"check": "redundancy", "window": "fault:f", "max_error_rate": 0.05})
    assert only(spec.judge(evidence(steady(0, 30)))).held
    half = [(o, d, 503, "http_503") if i % 2 else (o, d, 200, "") for i, (o, d, _, _) in enumerate(steady(10, 20))]
    bad = only(spec.judge(evidence(steady(0, 10) + half + steady(20, 30))))
    assert not bad.held and bad.observed == pytest.approx(0.5) and "50 of 100 requests failed" in bad.explanation


def test_graceful_degradation_needs_fallbacks_not_errors():
    spec = check({"check": "graceful_degradation", "window": "fault:f", "max_error_rate": 0.02})
    fallbacks = [(s, "api-1", "api", "shop_fallbacks_total", {"dependency": "catalog"}, v)
                 for s, v in [(9, 0), (15, 40), (20, 90)]]
    assert only(spec.judge(evidence(steady(0, 30), samples=fallbacks))).held
    none = [(s, "api-1", "api", "shop_fallbacks_total", {"dependency": "catalog"}, 0) for s in (9, 15, 20)]
    assert not only(spec.judge(evidence(steady(0, 30), samples=none))).held


def test_memory_bounded_judges_the_slope_of_the_service_memory():
    spec = check({"check": "memory_bounded", "window": "run", "service": "api", "max_slope_mib_s": 0.1})
    flat = [(s, "api-1", "api", 5.0, 50.0) for s in range(30)]
    assert only(spec.judge(evidence(steady(0, 30), stats=flat))).held
    leak = [(s, "api-1", "api", 5.0, 50.0 + 0.5 * s) for s in range(30)]
    bad = only(spec.judge(evidence(steady(0, 30), stats=leak)))
    assert not bad.held and bad.observed == pytest.approx(0.5, abs=0.01)


def test_no_data_loss_reads_the_read_back():
    spec = check({"check": "no_data_loss"})
    assert only(spec.judge(evidence(steady(0, 30), readback={"acked": 10, "found": 10, "missing": 0}))).held
    lost = only(spec.judge(evidence(steady(0, 30), readback={"acked": 10, "found": 7, "missing": 3,
                                                             "missing_ids": ["a", "b", "c"]})))
    assert not lost.held and lost.observed == 3 and "e.g. a, b, c" in lost.explanation
    nothing = only(spec.judge(evidence(steady(0, 30))))
    assert not nothing.held and nothing.inconclusive


def test_a_check_on_a_fault_that_never_happened_is_inconclusive():
    spec = check({"check": "redundancy", "window": "fault:ghost", "max_error_rate": 0.05})
    result = only(spec.judge(evidence(steady(0, 30))))
    assert not result.held and result.inconclusive and "never took effect" in result.explanation
