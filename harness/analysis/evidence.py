"""Everything checks may look at, gathered once per run from the journal and the records.

Pure data: built from files, never from Docker. Offsets are seconds from the load's start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from harness.analysis.containers import TrafficSeen
from harness.analysis.fault_effect import FaultEffect, Occurrence
from harness.analysis.metrics import RowFacts, WindowMetrics, frame_of, row_facts, window_metrics
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
        effects: fault window name -> :class:`FaultEffect`: whether that fault occurrence
            acted (see :mod:`harness.analysis.fault_effect`); every verdict on a fault or
            recovery window rests on it.
        traffic: what was seen of the traffic through the run's proxies (None: not watched).
        ack_requests: names of the mix's requests whose answers acknowledge writes (``ack_id``).
        occurrences: fault window name -> :class:`Occurrence` (when the inject call started,
            what the fault touched, what it measured).
        facts: the records' :class:`harness.analysis.metrics.RowFacts`, computed at the first
            window's metrics (None until then; give it when ``records`` already has them).
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
    effects: dict[str, FaultEffect] = field(default_factory=dict)
    traffic: TrafficSeen | None = None
    ack_requests: list[str] = field(default_factory=list)
    occurrences: dict[str, Occurrence] = field(default_factory=dict)
    facts: RowFacts | None = field(default=None, repr=False)

    def windows_for(self, selector: str) -> list[Window]:
        """Windows a selector names (see :func:`harness.analysis.windows.select`)."""
        return select(self.windows, self.run, selector)

    def row_facts(self) -> RowFacts:
        """The records' :class:`~harness.analysis.metrics.RowFacts` (failed flags, name codes),
        computed on first use and kept in :attr:`facts`."""
        if self.facts is None:
            self.facts = row_facts(self.records)
        return self.facts

    def metrics_of(self, window: Window, request: str | None = None) -> WindowMetrics:
        """A window's metrics, overall or for one request name (empty metrics if unknown)."""
        if window.name not in self.metrics:
            self.metrics[window.name] = window_metrics(self.records, self.t0, window, self.row_facts())
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

    def effect_for(self, window: Window) -> FaultEffect | None:
        """The effect of the fault occurrence a fault or recovery window belongs to (None for
        baseline and run windows). A fault window without a judged effect (its fault is not in
        the scenario) gets an unknown one, never a pass."""
        if window.kind not in ("fault", "recovery") or window.fault is None:
            return None
        name = _fault_window_name(window)
        found = self.effects.get(name)
        if found is None:
            return FaultEffect(window.fault or window.name, name, None, f"no record of what {name} did")
        return found

    def occurrence_of(self, window: Window) -> Occurrence | None:
        """The fault occurrence a fault or recovery window belongs to (None otherwise)."""
        if window.kind not in ("fault", "recovery") or window.fault is None:
            return None
        return self.occurrences.get(_fault_window_name(window))

    def expected_requests(self, window: Window, request: str | None = None) -> float:
        """How many requests (of one name, or all) the baseline's rate would have started in
        ``window`` (0 without a baseline): a few, and an empty window says nothing about the
        clients."""
        base = self.baseline()
        if base is None or base.duration_s <= 0:
            return 0.0
        return self.metrics_of(base, request).requests / base.duration_s * window.duration_s


def _fault_window_name(window: Window) -> str:
    """``fault:x#2`` for the windows ``fault:x#2`` and ``recovery:x#2``."""
    return "fault:" + window.name.split(":", 1)[1]
