"""Everything checks may look at, gathered once per run from the journal and the records.

Pure data: built from files, never from Docker. Offsets are seconds from the load's start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from harness.analysis.metrics import WindowMetrics, frame_of, window_metrics
from harness.analysis.windows import Window, select


@dataclass
class Evidence:
    """The run as checks see it.

    Fields:
        windows: baseline, fault and recovery windows; ``run``: the whole load.
        metrics: window name -> (overall metrics, per request name metrics).
        records: request records with an ``offset_s`` column (start time from load start).
        t0: load start, epoch seconds.
        faults: fault name -> its spec (parameters, e.g. the injected ``latency_ms``).
        fault_summaries: fault name -> :class:`harness.analysis.recovery.FaultSummary` list
            (one per occurrence).
        containers: per-second container samples: ``offset_s, container, service, cpu_pct,
            mem_mib`` (empty if the monitor recorded none).
        container_events: Docker events: ``offset_s, container, service, action``
            (``die``, ``oom``, ``start``, ``health_status: unhealthy``, ...).
        service_metrics: scraped Prometheus samples: ``offset_s, container, service, metric,
            labels, value`` (empty unless the scenario asks for scraping).
        readback: the no-data-loss read-back summary (``acked``, ``found``, ``missing``) or None.
    """

    windows: list[Window]
    run: Window
    metrics: dict[str, tuple[WindowMetrics, dict[str, WindowMetrics]]]
    records: pd.DataFrame
    t0: float
    faults: dict[str, Any] = field(default_factory=dict)
    fault_summaries: dict[str, list[Any]] = field(default_factory=dict)
    containers: pd.DataFrame = field(default_factory=pd.DataFrame)
    container_events: pd.DataFrame = field(default_factory=pd.DataFrame)
    service_metrics: pd.DataFrame = field(default_factory=pd.DataFrame)
    readback: dict[str, Any] | None = None

    def windows_for(self, selector: str) -> list[Window]:
        """Windows a selector names (see :func:`harness.analysis.windows.select`)."""
        return select(self.windows, self.run, selector)

    def metrics_of(self, window: Window, request: str | None = None) -> WindowMetrics:
        """A window's metrics, overall or for one request name (empty metrics if unknown)."""
        if window.name not in self.metrics:
            self.metrics[window.name] = window_metrics(self.records, self.t0, window)
        overall, by_name = self.metrics[window.name]
        return by_name.get(request, WindowMetrics()) if request else overall

    def frame(self, window: Window, request: str | None = None) -> pd.DataFrame:
        """The records that started in ``window`` (optionally one request name)."""
        frame = frame_of(self.records, self.t0, window)
        return frame[frame["name"] == request] if request else frame

    def in_window(self, frame: pd.DataFrame, window: Window) -> pd.DataFrame:
        """Rows of a time-indexed frame (with ``offset_s``) inside ``window``."""
        if frame.empty:
            return frame
        return frame[(frame["offset_s"] >= window.start_s) & (frame["offset_s"] < window.end_s)]

    def baseline(self) -> Window | None:
        """The baseline window, if any."""
        return next((w for w in self.windows if w.kind == "baseline"), None)
