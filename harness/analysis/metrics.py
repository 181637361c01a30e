"""Per-window metrics from request records, with percentiles from an HdrHistogram.

Locust rounds response times into buckets (1 ms under 100 ms, 10 ms to 1 s, 100 ms above) and its
p99 can exceed its max, so percentiles here come from our own HdrHistogram (3 significant digits,
values recorded in microseconds from 1 us to 1 hour). Requests belong to the window their
*start* falls in.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from hdrh.histogram import HdrHistogram

from harness.analysis.windows import Window
from harness.load.records import RECORD_COLUMNS

HDR_LOWEST_US = 1
HDR_HIGHEST_US = 3_600_000_000
HDR_SIGNIFICANT_DIGITS = 3


@dataclass(frozen=True)
class WindowMetrics:
    """Metrics of one window (or one request name within it).

    ``rps`` is requests / window duration; ``error_rate`` and ``success_rate`` are fractions in
    0..1; latency fields are milliseconds (None when the window has no requests); ``errors``
    counts failed requests per error class.
    """

    requests: int = 0
    rps: float = 0.0
    error_rate: float = 0.0
    success_rate: float = 0.0
    p50_ms: float | None = None
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    p999_ms: float | None = None
    max_ms: float | None = None
    mean_ms: float | None = None
    errors: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """Plain dict, for reports."""
        return asdict(self)


def load_records(path: Path) -> pd.DataFrame:
    """Read a ``requests.tsv`` into a DataFrame with the record columns (empty if missing)."""
    dtypes = {"start_s": "float64", "duration_ms": "float64", "name": "string", "status": "int32", "error": "string",
              "bytes": "int64"}
    if not path.exists() or path.stat().st_size == 0:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtypes.items()})
    frame = pd.read_csv(path, sep="\t", names=list(RECORD_COLUMNS), dtype=dtypes, keep_default_na=False,
                        quoting=3, on_bad_lines="skip")
    return frame


def histogram(durations_ms: np.ndarray) -> HdrHistogram:
    """An HdrHistogram of ``durations_ms`` (recorded in microseconds, clamped to its range).
    Equal values are recorded once with their count, so this is fast for millions of records."""
    hist = HdrHistogram(HDR_LOWEST_US, HDR_HIGHEST_US, HDR_SIGNIFICANT_DIGITS)
    micros = np.clip(np.rint(durations_ms * 1000), HDR_LOWEST_US, HDR_HIGHEST_US).astype(np.int64)
    values, counts = np.unique(micros, return_counts=True)
    for value, count in zip(values.tolist(), counts.tolist()):
        hist.record_value(value, count)
    return hist


def _metrics(frame: pd.DataFrame, duration_s: float) -> WindowMetrics:
    n = len(frame)
    if n == 0:
        return WindowMetrics()
    failed = frame["error"] != ""
    n_err = int(failed.sum())
    hist = histogram(frame["duration_ms"].to_numpy())

    def pct(p: float) -> float:
        return round(hist.get_value_at_percentile(p) / 1000, 3)

    return WindowMetrics(
        requests=n,
        rps=round(n / duration_s, 3) if duration_s > 0 else 0.0,
        error_rate=round(n_err / n, 6),
        success_rate=round(1 - n_err / n, 6),
        p50_ms=pct(50),
        p90_ms=pct(90),
        p95_ms=pct(95),
        p99_ms=pct(99),
        p999_ms=pct(99.9),
        max_ms=round(hist.get_max_value() / 1000, 3),
        mean_ms=round(float(frame["duration_ms"].mean()), 3),
        errors={str(k): int(v) for k, v in frame.loc[failed, "error"].value_counts().sort_index().items()},
    )


def frame_of(records: pd.DataFrame, t0: float, window: Window) -> pd.DataFrame:
    """The records whose start falls in ``window`` (offsets from ``t0``, epoch s)."""
    offset = records["start_s"] - t0
    return records[(offset >= window.start_s) & (offset < window.end_s)]


def window_metrics(records: pd.DataFrame, t0: float, window: Window) -> tuple[WindowMetrics, dict[str, WindowMetrics]]:
    """Metrics of the requests that started in ``window`` (offsets from ``t0``, epoch s): the
    window as a whole and per request name."""
    frame = frame_of(records, t0, window)
    by_name = {str(name): _metrics(group, window.duration_s) for name, group in frame.groupby("name", sort=True)}
    return _metrics(frame, window.duration_s), by_name
