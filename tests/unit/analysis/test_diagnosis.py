"""A diagnosis names its evidence: a toxic on the path is a slow dependency, a saturated CPU is a
CPU bottleneck, and a slowdown with neither says its cause was not seen."""

from __future__ import annotations

from harness.analysis.containers import ServiceTelemetry
from harness.analysis.diagnosis import diagnose
from harness.analysis.metrics import WindowMetrics
from harness.faults.kill import KillSpec
from harness.faults.latency import LatencySpec

BASE = WindowMetrics(requests=500, rps=50, p50_ms=5, p95_ms=10, p99_ms=12, errors={})
SLOW = WindowMetrics(requests=500, rps=50, p50_ms=300, p95_ms=320, p99_ms=330, errors={})
TOXIC = LatencySpec(name="catalog-slow", proxy="catalog", latency_ms=300, at_s=1, duration_s=10)


def busy(cpu):
    return ServiceTelemetry(cpu_pct_mean=cpu, cpu_pct_max=cpu, mem_mib_max=50, mem_slope_mib_s=0, restarts=0,
                            oom_kills=0, unhealthy=0)


def test_a_toxic_that_acted_on_the_path_is_a_slow_dependency_not_a_resource_bottleneck():
    line = diagnose(SLOW, BASE, fault=TOXIC, acted="proxy catalog accepted 12 connections",
                    telemetry={"api": busy(20)})
    assert line.startswith("slow dependency: fault catalog-slow (latency) on proxy catalog acted")
    assert "resource" not in line and "p95 320 ms against 10 ms" in line


def test_a_saturated_service_is_a_cpu_bottleneck_with_its_numbers():
    line = diagnose(SLOW, BASE, telemetry={"catalog": busy(97), "api": busy(30)})
    assert line.startswith("slow: CPU bottleneck in catalog (97% of a core")


def test_a_slowdown_without_evidence_says_its_cause_was_not_seen():
    assert diagnose(SLOW, BASE, telemetry={"api": busy(30)}).startswith("slow, cause not seen")


def test_errors_during_a_fault_name_the_fault():
    refused = WindowMetrics(requests=100, rps=10, error_rate=0.5, p50_ms=2, p95_ms=3, errors={"connection_refused": 50})
    kill = KillSpec(name="api-killed", service="api", at_s=1, duration_s=5)
    assert diagnose(refused, BASE, fault=kill, acted="Docker reported die") == \
        "cannot connect: network or service down (during fault api-killed: kill)"
    assert diagnose(BASE, BASE) is None
