"""Pattern checks on hand-made evidence: each holds on the resilient shape of the data with its
evidence, fails on the naive shape, is inconclusive when its evidence is missing, and explains
itself with the observed numbers."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import TypeAdapter

from harness.analysis.containers import PROXY_COLUMNS, TrafficSeen
from harness.analysis.evidence import Evidence
from harness.analysis.fault_effect import FaultEffect, Occurrence
from harness.analysis.windows import Window
from harness.checks import judge_for
from harness.checks.base import needed_requests
from harness.faults.latency import LatencySpec
from harness.scenario.models import Expectation

T0 = 1000.0
WINDOWS = [
    Window("baseline", "baseline", 0, 10),
    Window("fault:f", "fault", 10, 20, "f"),
    Window("recovery:f", "recovery", 20, 30, "f"),
]
RUN = Window("run", "run", 0, 30)
SEEN = {"fault:f": FaultEffect("f", "fault:f", True, "proxy p accepted 12 connections")}
NOT_SEEN = {"fault:f": FaultEffect("f", "fault:f", False, "no byte crossed proxy p")}
VICTIM = {"fault:f": Occurrence("f", "fault:f", 9.9, 10, 20, ["api-2"])}


def check(spec: dict):
    return TypeAdapter(Expectation).validate_python(spec)


def records(rows):
    """rows: (offset_s, duration_ms, status, error) for request 'GET /p'."""
    frame = pd.DataFrame(
        [(T0 + off, dur, "GET /p", status, err, 10) for off, dur, status, err in rows],
        columns=["start_s", "duration_ms", "name", "status", "error", "bytes"],
    )
    return frame.assign(offset_s=frame["start_s"] - T0)


def steady(start, end, dur=10.0, step=0.02):
    """50 requests a second of ``dur`` ms from ``start`` to ``end`` s."""
    return [(start + i * step, dur, 200, "") for i in range(int(round((end - start) / step)))]


def net(container, rx_per_s, tx_per_s=None, seconds=range(30), service="api"):
    """Per-second container samples with cumulative network counters (``rx_per_s``: a function
    of the second, or a number)."""
    rate = rx_per_s if callable(rx_per_s) else (lambda _s: rx_per_s)
    tx = tx_per_s if tx_per_s is not None else rate
    tx_rate = tx if callable(tx) else (lambda _s: tx)
    rows, rx_total, tx_total = [], 0.0, 0.0
    for s in seconds:
        rx_total += rate(s)
        tx_total += tx_rate(s)
        rows.append((s + 0.5, container, service, 5.0, 50.0, rx_total, tx_total))
    return rows


def traffic(rows, unavailable=None):
    return TrafficSeen(pd.DataFrame(rows, columns=PROXY_COLUMNS), unavailable or {}, True)


def evidence(rows, samples=None, stats=None, faults=None, readback=None, effects=None, occurrences=None,
             proxy=None, ack=()) -> Evidence:
    return Evidence(
        windows=WINDOWS, run=RUN, metrics={}, records=records(rows), t0=T0, faults=faults or {},
        service_metrics=pd.DataFrame(samples or [], columns=["offset_s", "container", "service", "metric", "labels",
                                                             "value"]),
        containers=pd.DataFrame(stats or [], columns=["offset_s", "container", "service", "cpu_pct", "mem_mib",
                                                      "rx_bytes", "tx_bytes"]),
        container_events=pd.DataFrame([], columns=["offset_s", "container", "service", "action"]),
        readback=readback, effects=SEEN if effects is None else effects, occurrences=occurrences or VICTIM,
        traffic=proxy, ack_requests=list(ack),
    )


def only(results):
    assert len(results) == 1, results
    return results[0]


SLOW = {"f": LatencySpec(name="f", proxy="p", latency_ms=1500, at_s=10, duration_s=10)}


def test_needed_requests_follows_the_rule_of_three_and_the_percentile():
    assert needed_requests("error_rate", "<", 0.01) == 300
    assert needed_requests("error_rate", "<=", 0.5) == 20  # never fewer than MIN_REQUESTS
    assert needed_requests("success_rate", ">=", 0.99) == 300
    assert needed_requests("p99_ms", "<", 800) == 100
    assert needed_requests("p999_ms", "<", 800) == 1000
    assert needed_requests("rps", ">", 10) == 0
    assert needed_requests("error_rate", ">", 0.5) == 0  # a lower bound on errors: no power needed


def test_every_check_on_a_window_whose_fault_never_acted_is_inconclusive():
    rows = steady(0, 30)
    for spec in ({"check": "threshold", "window": "fault:f", "metric": "error_rate", "<": 0.5},
                 {"check": "redundancy", "window": "fault:f", "max_error_rate": 0.05},
                 {"check": "timeout", "window": "recovery:f", "timeout_ms": 500}):
        result = only(judge_for(check(spec)).judge(evidence(rows, effects=NOT_SEEN)))
        assert not result.held and result.inconclusive, spec
        assert "never took effect" in result.explanation and "no byte crossed proxy p" in result.explanation
        assert result.evidence[0].startswith("fault fault:f: no byte crossed")


def test_a_bound_held_on_too_few_requests_is_inconclusive_but_a_breach_still_fails():
    spec = check({"window": "fault:f", "metric": "error_rate", "<": 0.01})
    few = only(judge_for(spec).judge(evidence(steady(0, 10) + steady(10, 20, step=0.1) + steady(20, 30))))
    assert not few.held and few.inconclusive and "too few to tell (at least 300 needed" in few.explanation
    many = only(judge_for(spec).judge(evidence(steady(0, 30))))
    assert many.held and many.evidence == ["fault fault:f: acted: proxy p accepted 12 connections",
                                           "500 requests measured in fault:f"]
    broken = [(o, d, 500, "http_500") for o, d, *_ in steady(10, 20, step=0.5)]
    failed = only(judge_for(spec).judge(evidence(steady(0, 10) + broken + steady(20, 30))))
    assert not failed.held and not failed.inconclusive  # 20 errors in 20 requests: a failure on any n


def test_an_empty_window_is_stuck_clients_unless_it_is_too_short_for_the_load():
    spec = check({"check": "redundancy", "window": "fault:f", "max_error_rate": 0.05})
    stuck = only(judge_for(spec).judge(evidence(steady(0, 10) + steady(20, 30))))
    assert not stuck.held and not stuck.inconclusive and "the clients were stuck" in stuck.explanation
    short = [Window("baseline", "baseline", 0, 10), Window("fault:f", "fault", 10, 10.01, "f")]
    e = evidence(steady(0, 10) + steady(10.5, 30))
    e.windows = short
    blink = only(judge_for(spec).judge(e))
    assert not blink.held and blink.inconclusive and "too short" in blink.explanation


def test_timeout_holds_when_p99_is_near_the_timeout_and_fails_at_the_injected_latency():
    spec = check({"check": "timeout", "window": "fault:f", "timeout_ms": 500, "margin_ms": 200})
    good = only(judge_for(spec).judge(evidence(steady(0, 30, dur=300), faults=SLOW)))
    assert good.held and good.observed == pytest.approx(300, rel=1e-3)
    assert "the slowest of 500 requests took 300 ms" in good.evidence[1]
    bad = only(judge_for(spec).judge(evidence(steady(0, 10) + steady(10, 20, dur=1550) + steady(20, 30), faults=SLOW)))
    assert not bad.held and bad.observed == pytest.approx(1550, rel=1e-3)
    assert "1550" in bad.explanation and "1500 ms" in bad.explanation and "did not bound" in bad.explanation


def test_timeout_is_inconclusive_when_nothing_ever_waited():
    # A timeout toxic against a server that closes after answering: instant empty replies.
    spec = check({"check": "timeout", "window": "fault:f", "timeout_ms": 600})
    empty = [(o, 3.0, 0, "connection_reset") if i % 2 else (o, 5.0, 200, "") for i, (o, *_) in enumerate(steady(10, 20))]
    result = only(judge_for(spec).judge(evidence(steady(0, 10) + empty + steady(20, 30))))
    assert not result.held and result.inconclusive and "no request waited 300 ms" in result.explanation


def retries(total_by_second):
    return [(s, "api-1", "api", "shop_dependency_retries_total", {"dependency": "catalog"}, v)
            for s, v in total_by_second]


def test_retry_needs_low_errors_and_retries_counted():
    rows = steady(0, 30)
    spec = check({"check": "retry", "window": "fault:f", "max_error_rate": 0.02})
    held = only(judge_for(spec).judge(evidence(rows, samples=retries([(9, 0), (12, 5), (19, 30), (25, 30)]))))
    assert held.held and "30 retries" in held.explanation and "30 retries counted" in held.evidence[1]
    none = only(judge_for(spec).judge(evidence(rows, samples=retries([(9, 0), (19, 0)]))))
    assert not none.held and none.inconclusive  # nothing failed, nothing retried: the dependency may never have failed
    assert "may never have failed" in none.explanation
    leaked = [(o, d, 500, "http_500") if i == 3 else (o, d, 200, "") for i, (o, d, _, _) in enumerate(steady(10, 20))]
    unretried = only(judge_for(spec).judge(evidence(steady(0, 10) + leaked + steady(20, 30), samples=retries([(9, 0), (19, 0)]))))
    assert not unretried.held and not unretried.inconclusive and "1 failures reached the clients" in unretried.explanation
    unseen = only(judge_for(spec).judge(evidence(rows)))
    assert not unseen.held and unseen.inconclusive and "was not scraped" in unseen.explanation
    failing = [(o, d, 500 if i % 5 == 0 else 200, "http_500" if i % 5 == 0 else "")
               for i, (o, d, _, _) in enumerate(steady(10, 20))]
    naive = only(judge_for(spec).judge(evidence(steady(0, 10) + failing + steady(20, 30),
                                     samples=[(12, "api-1", "api", "other_metric", {}, 1.0)])))
    assert not naive.held and not naive.inconclusive and naive.observed == pytest.approx(0.2)


def breaker_state(values):
    return [(s, "api-1", "api", "shop_circuit_breaker_state", {"dependency": "catalog"}, v) for s, v in values]


def test_circuit_breaker_fails_fast_opens_and_closes():
    spec = check({"check": "circuit_breaker", "window": "fault:f", "fail_fast_ms": 500, "close_within_s": 5})
    rows = steady(0, 30)
    good = only(judge_for(spec).judge(evidence(rows, samples=breaker_state([(9, 0), (11, 1), (19, 1), (22, 0)]))))
    assert good.held and "reached open" in good.explanation and "closed 2.0 s after" in good.explanation
    never_closed = only(judge_for(spec).judge(evidence(rows, samples=breaker_state([(9, 0), (11, 1), (25, 1)]))))
    assert not never_closed.held and "never closed" in never_closed.explanation
    never_opened = only(judge_for(spec).judge(evidence(rows, samples=breaker_state([(9, 0), (15, 0), (25, 0)]))))
    assert not never_opened.held and not never_opened.inconclusive and "never reached open" in never_opened.explanation
    hung = [(o, 5000.0, 0, "timeout") for o, *_ in steady(10, 20)]
    naive = only(judge_for(spec).judge(evidence(steady(0, 10) + hung + steady(20, 30),
                                     samples=[(12, "api-1", "api", "other_metric", {}, 1.0)])))
    assert not naive.held and naive.observed == pytest.approx(5000) and "no breaker" in naive.explanation


def calls(rate_by_second):
    """Socket readings of proxy p, one a second, of ``rate_by_second(s)`` bytes."""
    return traffic([(s + 1.0, float(s), "p", "sockets", rate_by_second(s), 0, 0, 4) for s in range(30)])


def test_circuit_breaker_seen_from_the_proxy_when_no_gauge_is_scraped():
    spec = check({"check": "circuit_breaker", "window": "fault:f", "fail_fast_ms": 500, "close_within_s": 5})
    faults = {"f": LatencySpec(name="f", proxy="p", latency_ms=1500, at_s=10, duration_s=10)}
    fast_fail = [(o, 5.0, 503, "http_503") for o, *_ in steady(10, 20)]
    rows = steady(0, 10) + fast_fail + steady(20, 30)
    opened = calls(lambda s: 100 if 12 <= s < 20 else 5000)
    good = only(judge_for(spec).judge(evidence(rows, faults=faults, proxy=opened)))
    assert good.held and "calls through proxy p" in good.explanation and "stopped" in good.explanation
    kept_calling = only(judge_for(spec).judge(evidence(rows, faults=faults, proxy=calls(lambda s: 5000))))
    assert not kept_calling.held and not kept_calling.inconclusive and "did not stop" in kept_calling.explanation
    blind = only(judge_for(spec).judge(evidence(rows, faults=faults,
                                     proxy=traffic([], {"sockets": "reading Toxiproxy's sockets needs root"}))))
    assert not blind.held and blind.inconclusive and "no breaker could be seen" in blind.explanation


def test_backpressure_wants_fast_rejections_and_bounded_accepted_latency():
    spec = check({"check": "backpressure", "window": "fault:f", "reject_p99_ms": 50, "accepted_p99_ms": 600,
                  "min_rejected": 5})
    shed = [(o, 3.0, 503, "http_503") if i % 2 else (o, 400.0, 201, "") for i, (o, *_) in enumerate(steady(10, 20))]
    good = only(judge_for(spec).judge(evidence(steady(0, 10) + shed + steady(20, 30))))
    assert good.held and good.observed == pytest.approx(3.0) and "250 requests rejected" in good.evidence[1]
    queued = only(judge_for(spec).judge(evidence(steady(0, 10) + steady(10, 20, dur=900) + steady(20, 30))))
    assert not queued.held and "0 of 500 requests were rejected" in queued.explanation


def test_shedding_checks_need_at_least_one_rejection():
    with pytest.raises(ValueError):
        check({"check": "backpressure", "window": "fault:f", "accepted_p99_ms": 600, "min_rejected": 0})


def test_rate_limit_counts_429s():
    spec = check({"check": "rate_limit", "window": "fault:f", "accepted_p99_ms": 600, "min_rejected": 5})
    limited = [(o, 2.0, 429, "http_429") if i % 3 == 0 else (o, 20.0, 200, "") for i, (o, *_) in enumerate(steady(10, 20))]
    assert only(judge_for(spec).judge(evidence(steady(0, 10) + limited + steady(20, 30)))).held
    assert not only(judge_for(spec).judge(evidence(steady(0, 30)))).held


def errors_until(rows, end):
    return [(o, d, 503, "http_503") if 10 <= o < end else (o, d, 200, "") for o, d, _, _ in rows]


def moved(share_taken=1.0):
    """api-2 (the victim) loses its traffic from second 12; api-1 takes ``share_taken`` of it."""
    victim = net("api-2", lambda s: 5000 if s < 12 or s >= 20 else 300)
    survivor = net("api-1", lambda s: 5000 + (4700 * share_taken if 12 <= s < 20 else 0))
    return victim + survivor


def test_failover_needs_symptoms_to_stop_and_traffic_to_move_to_the_other_replicas():
    rows = steady(0, 30)
    spec = check({"check": "failover", "window": "fault:f", "within_s": 5})
    quick = only(judge_for(spec).judge(evidence(errors_until(rows, 12.0), stats=moved())))
    assert quick.held and quick.observed == pytest.approx(1.98, abs=0.03) and "moved to them" in quick.explanation
    slow = only(judge_for(spec).judge(evidence(errors_until(rows, 18.0), stats=moved())))
    assert not slow.held and slow.observed == pytest.approx(7.98, abs=0.03)
    # No bad request at all, but the victim kept its share: nothing failed over.
    kept = only(judge_for(spec).judge(evidence(rows, stats=net("api-2", 5000) + net("api-1", 5000))))
    assert not kept.held and not kept.inconclusive and "did not move to them" in kept.explanation
    # A frozen victim receives less once its clients stall; if nobody took its share, that is no failover.
    stalled = only(judge_for(spec).judge(evidence(errors_until(rows, 12.0), stats=moved(share_taken=0.0))))
    assert not stalled.held and not stalled.inconclusive and "did not move to them" in stalled.explanation
    alone = only(judge_for(spec).judge(evidence(rows, stats=net("api-2", 5000))))
    assert not alone.held and alone.inconclusive and "no other replica" in alone.explanation
    blind = only(judge_for(spec).judge(evidence(rows)))
    assert not blind.held and blind.inconclusive


def up_down(values):
    return [(s, "lb-1", "lb", "haproxy_server_check_up_down_total", {"server": "api2"}, v) for s, v in values]


def test_health_check_needs_the_unhealthy_mark():
    rows = errors_until(steady(0, 30), 12.0)
    left = moved()
    spec = check({"check": "health_check", "window": "fault:f", "within_s": 5})
    marked = only(judge_for(spec).judge(evidence(rows, stats=left, samples=up_down([(9, 0), (12, 1), (19, 1)]))))
    assert marked.held and "grew by 1" in marked.explanation + " ".join(marked.evidence)
    unchecked = only(judge_for(spec).judge(evidence(rows, stats=left, samples=up_down([(9, 0), (19, 0)]))))
    assert not unchecked.held and not unchecked.inconclusive and "no health check marked" in unchecked.explanation
    unseen = only(judge_for(spec).judge(evidence(rows, stats=left)))
    assert not unseen.held and unseen.inconclusive and "scrape the load balancer" in unseen.explanation


def test_redundancy_bounds_the_error_rate_and_needs_the_load_carried():
    spec = check({"check": "redundancy", "window": "fault:f", "max_error_rate": 0.05})
    assert only(judge_for(spec).judge(evidence(steady(0, 30)))).held
    half = [(o, d, 503, "http_503") if i % 2 else (o, d, 200, "") for i, (o, d, _, _) in enumerate(steady(10, 20))]
    bad = only(judge_for(spec).judge(evidence(steady(0, 10) + half + steady(20, 30))))
    assert not bad.held and bad.observed == pytest.approx(0.5) and "250 of 500 requests failed" in bad.explanation
    trickle = only(judge_for(spec).judge(evidence(steady(0, 10) + steady(10, 20, step=0.05) + steady(20, 30))))
    assert not trickle.held and "did not carry the load" in trickle.explanation


def test_graceful_degradation_needs_fallbacks_not_errors():
    spec = check({"check": "graceful_degradation", "window": "fault:f", "max_error_rate": 0.02})
    fallbacks = [(s, "api-1", "api", "shop_fallbacks_total", {"dependency": "catalog"}, v)
                 for s, v in [(9, 0), (15, 40), (20, 90)]]
    assert only(judge_for(spec).judge(evidence(steady(0, 30), samples=fallbacks))).held
    none = [(s, "api-1", "api", "shop_fallbacks_total", {"dependency": "catalog"}, 0) for s in (9, 15, 20)]
    refused = only(judge_for(spec).judge(evidence(steady(0, 30), samples=none)))
    assert not refused.held and not refused.inconclusive
    unseen = only(judge_for(spec).judge(evidence(steady(0, 30))))
    assert not unseen.held and unseen.inconclusive


def test_memory_bounded_judges_the_slope_of_a_loaded_service():
    spec = check({"check": "memory_bounded", "window": "run", "service": "api", "max_slope_mib_s": 0.1})
    flat = net("api-1", 5000)
    assert only(judge_for(spec).judge(evidence(steady(0, 30), stats=flat))).held
    leak = [(s, c, svc, cpu, 50.0 + 0.5 * s, rx, tx) for s, c, svc, cpu, _m, rx, tx in flat]
    bad = only(judge_for(spec).judge(evidence(steady(0, 30), stats=leak)))
    assert not bad.held and bad.observed == pytest.approx(0.5, abs=0.01)
    idle = net("api-1", 0.5)  # flat memory of a service that served nothing
    lazy = only(judge_for(spec).judge(evidence(steady(0, 30), stats=idle)))
    assert not lazy.held and lazy.inconclusive and "sent 0 B per request" in lazy.explanation


def test_no_data_loss_reads_the_read_back_of_writes_made_during_a_fault():
    spec = check({"check": "no_data_loss"})
    ok = {"acked": 10, "found": 10, "missing": 0}
    held = only(judge_for(spec).judge(evidence(steady(0, 30), readback=ok, ack=["GET /p"])))
    assert held.held and "500 writes were sent while a fault was in effect, 500 of them acknowledged" in held.evidence[0]
    lost = only(judge_for(spec).judge(evidence(steady(0, 30), readback={"acked": 10, "found": 7, "missing": 3,
                                                             "missing_ids": ["a", "b", "c"]}, ack=["GET /p"])))
    assert not lost.held and lost.observed == 3 and "e.g. a, b, c" in lost.explanation
    refused = [(o, d, 503, "http_503") for o, d, *_ in steady(10, 20)]  # the right answer while the store is down
    safe = only(judge_for(spec).judge(evidence(steady(0, 10) + refused + steady(20, 30), readback=ok, ack=["GET /p"])))
    assert safe.held and "500 writes were sent while a fault was in effect, 0 of them acknowledged" in safe.evidence[0]
    untested = only(judge_for(spec).judge(evidence(steady(0, 30), readback=ok, ack=["GET /p"], effects=NOT_SEEN)))
    assert not untested.held and untested.inconclusive and "0 writes were sent" in untested.explanation
    nothing = only(judge_for(spec).judge(evidence(steady(0, 30))))
    assert not nothing.held and nothing.inconclusive


def test_a_check_on_a_fault_that_never_happened_is_inconclusive():
    spec = check({"check": "redundancy", "window": "fault:ghost", "max_error_rate": 0.05})
    result = only(judge_for(spec).judge(evidence(steady(0, 30))))
    assert not result.held and result.inconclusive and "never took effect" in result.explanation
