"""The windows' metrics in Prometheus' text exposition format (version 0.0.4), written with
``prometheus_client`` (which writes the HELP and TYPE lines and escapes label values: ``\\``,
``"`` and line feeds).

Every sample is a gauge labelled with ``run_id`` and ``scenario``; per window also ``window``,
``kind`` (baseline, fault, recovery) and ``fault`` (empty for the baseline). Latencies are in
seconds, Prometheus' base unit (the report's ``p99_ms`` 1500 is ``harness_window_p99_seconds``
1.5), so ``promtool check metrics`` finds nothing to lint. A window without requests has no
latency samples. No sample carries a timestamp: the window's own times are the values of
``harness_window_start_timestamp_seconds`` and ``..._end_...``.
"""

from __future__ import annotations

from typing import Callable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from harness.export.common import outcome
from harness.export.source import NS_PER_S, RunSource
from harness.report.model import WindowReport

WINDOW_LABELS = ["run_id", "scenario", "window", "kind", "fault"]
EXPECTATION_LABELS = ["run_id", "scenario", "expectation", "window", "metric", "outcome"]

_PERCENTILE_HELP = "The {}th percentile of the window's request latencies (exact, nearest rank)."
_LATENCY = [("p50", "p50_ms", _PERCENTILE_HELP.format(50)), ("p95", "p95_ms", _PERCENTILE_HELP.format(95)),
            ("p99", "p99_ms", _PERCENTILE_HELP.format(99)), ("max", "max_ms", "The window's slowest request.")]
_WINDOW_GAUGES: list[tuple[str, str, Callable[[WindowReport], float]]] = [
    ("harness_window_requests", "Requests measured in the window.", lambda w: w.metrics.requests),
    ("harness_window_rps", "Requests per second in the window (requests / window duration).", lambda w: w.metrics.rps),
    ("harness_window_error_rate", "Fraction of the window's requests that failed (0..1).",
     lambda w: w.metrics.error_rate),
    ("harness_window_duration_seconds", "The window's length.", lambda w: w.end_s - w.start_s),
]


class _RunCollector:
    """A ``prometheus_client`` collector of one run's gauges."""

    def __init__(self, run: RunSource):
        self.run = run

    def collect(self) -> Iterator[Metric]:
        """The run's metric families, each with HELP and TYPE."""
        yield from self._run_families()
        yield from self._window_families()
        yield from self._expectation_families()

    def _run_families(self) -> Iterator[Metric]:
        report = self.run.report
        info = GaugeMetricFamily("harness_run_status", "1 for the run's status (passed, failed, inconclusive...).",
                                 labels=["run_id", "scenario", "status"])
        info.add_metric([report.run_id, report.scenario.name, report.status], 1)
        yield info
        for name, help_text, t_ns in (
                ("harness_run_start_timestamp_seconds", "The run's start, epoch.", self.run.started_ns),
                ("harness_run_end_timestamp_seconds", "The run's end, epoch.", self.run.ended_ns)):
            family = GaugeMetricFamily(name, help_text, labels=["run_id", "scenario"])
            family.add_metric([report.run_id, report.scenario.name], t_ns / NS_PER_S)
            yield family

    def _window_labels(self, window: WindowReport) -> list[str]:
        report = self.run.report
        return [report.run_id, report.scenario.name, window.name, window.kind, window.fault or ""]

    def _window_families(self) -> Iterator[Metric]:
        windows = self.run.report.windows
        for short, field, help_text in _LATENCY:
            family = GaugeMetricFamily(f"harness_window_{short}_seconds", help_text, labels=WINDOW_LABELS)
            for window in windows:
                value_ms = getattr(window.metrics, field)
                if value_ms is not None:
                    family.add_metric(self._window_labels(window), value_ms / 1000)
            yield family
        for name, help_text, value in _WINDOW_GAUGES:
            family = GaugeMetricFamily(name, help_text, labels=WINDOW_LABELS)
            for window in windows:
                family.add_metric(self._window_labels(window), value(window))
            yield family
        for edge in ("start", "end"):
            family = GaugeMetricFamily(f"harness_window_{edge}_timestamp_seconds", f"The window's {edge}, epoch.",
                                       labels=WINDOW_LABELS)
            for window in windows:
                offset_s = window.start_s if edge == "start" else window.end_s
                family.add_metric(self._window_labels(window), self.run.at_ns(offset_s) / NS_PER_S)
            yield family

    def _expectation_families(self) -> Iterator[Metric]:
        report = self.run.report
        held = GaugeMetricFamily("harness_expectation_held",
                                 "1 when the expectation held on evidence, 0 when it failed or was inconclusive.",
                                 labels=EXPECTATION_LABELS)
        inconclusive = GaugeMetricFamily("harness_expectation_inconclusive",
                                         "1 when the expectation lacked its evidence (never counts as held).",
                                         labels=EXPECTATION_LABELS)
        observed = GaugeMetricFamily("harness_expectation_observed",
                                     "The value the expectation observed, in the unit of its metric.",
                                     labels=EXPECTATION_LABELS)
        for verdict in report.expectations:
            labels = [report.run_id, report.scenario.name, verdict.name, verdict.window, verdict.metric,
                      outcome(verdict)]
            held.add_metric(labels, 1 if outcome(verdict) == "held" else 0)
            inconclusive.add_metric(labels, 1 if verdict.inconclusive else 0)
            if verdict.observed is not None:
                observed.add_metric(labels, verdict.observed)
        yield from (held, inconclusive, observed)


def prometheus_text(run: RunSource) -> str:
    """The run's metrics in the text exposition format (see the module docstring)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_RunCollector(run))
    return generate_latest(registry).decode("utf-8")
