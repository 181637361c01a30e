"""Analysis: pure functions from the journal and the request records to windows, metrics, fault
effects and the evidence the checks judge (:mod:`harness.checks`). Never talks to Docker or
Toxiproxy."""

from harness.analysis.metrics import WindowMetrics, load_records, window_metrics
from harness.analysis.evidence import Evidence
from harness.analysis.windows import Window, slice_windows

__all__ = [
    "Evidence",
    "Window",
    "WindowMetrics",
    "load_records",
    "slice_windows",
    "window_metrics",
]
