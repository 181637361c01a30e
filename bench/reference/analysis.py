"""The analysis functions as they were before their optimisation for 5,000,000 records (commit
187a8c0), verbatim but for their percentiles: bench/check_analysis.py compares the current ones
with these, on random inputs and on whole reports. The imports differ (the result types are the
harness's own, so that reports built with these validate).

The percentile computation is the one exception (issue 13, "one percentile"): the harness now
has a single definition, exact nearest rank (:mod:`harness.analysis.percentile`), and here it
is computed by brute force, :func:`exact_percentile`: sort the values in Python and take the
``max(1, ceil(p/100 * n))``-th, with the rank in exact rational arithmetic, NaN left out. It
replaces, and only it: the HdrHistogram of the window metrics (their p50 ... p99.9, and the max
as p100), ``np.percentile`` in the steady state's ``_value``, and pandas' ``quantile`` in the
per-second series. Everything else is the verbatim pre-optimisation code. So the check still
proves the optimised analysis exact: same windows, steps, series, and the same percentiles as
the plainest implementation of their definition.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

from harness.analysis.metrics import WindowMetrics
from harness.analysis.recovery import FaultSummary
from harness.analysis.series import RequestSeries
from harness.analysis.steady_state import SPAN_S, STEP_S, Limit
from harness.analysis.windows import Window
from harness.scenario.checks.threshold import COMPARE
from harness.load.records import RECORD_COLUMNS


def load_records(path: Path) -> pd.DataFrame:
    """Read a ``requests.tsv`` into a DataFrame with the record columns (empty if missing)."""
    dtypes = {"start_s": "float64", "duration_ms": "float64", "name": "string", "status": "int32", "error": "string",
              "bytes": "int64"}
    if not path.exists() or path.stat().st_size == 0:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtypes.items()})
    frame = pd.read_csv(path, sep="\t", names=list(RECORD_COLUMNS), dtype=dtypes, keep_default_na=False,
                        quoting=3, on_bad_lines="skip")
    return frame


def exact_percentile(values, pct: float) -> float | None:
    """Brute-force nearest rank: the ``max(1, ceil(pct/100 * n))``-th smallest of the ``n``
    non-NaN ``values`` (``pct`` read as the decimal its ``repr`` shows), None without any."""
    ordered = sorted(float(v) for v in values if v == v)
    if not ordered:
        return None
    rank = max(1, math.ceil(Fraction(repr(float(pct))) / 100 * len(ordered)))
    return ordered[rank - 1]


def _metrics(frame: pd.DataFrame, duration_s: float) -> WindowMetrics:
    n = len(frame)
    if n == 0:
        return WindowMetrics()
    failed = frame["error"] != ""
    n_err = int(failed.sum())
    durations = frame["duration_ms"].to_numpy().tolist()

    def pct(p: float) -> float | None:
        value = exact_percentile(durations, p)
        return None if value is None else round(value, 3)

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
        max_ms=pct(100),
        mean_ms=round(float(frame["duration_ms"].mean()), 3),
        errors={str(k): int(v) for k, v in frame.loc[failed, "error"].value_counts().sort_index().items()},
    )


def frame_of(records: pd.DataFrame, t0: float, window: Window) -> pd.DataFrame:
    """The records whose start falls in ``window`` (offsets from ``t0``, epoch s)."""
    offset = records["start_s"] - t0
    return records[(offset >= window.start_s) & (offset < window.end_s)]


def by_offset(records: pd.DataFrame, t0: float) -> pd.DataFrame:
    """The records with their offsets from ``t0``, sorted by them (stable), as pandas sorts."""
    return records.assign(offset_s=records["start_s"] - t0).sort_values("offset_s", kind="stable")


def window_metrics(records: pd.DataFrame, t0: float, window: Window,
                   facts: object = None) -> tuple[WindowMetrics, dict[str, WindowMetrics]]:
    """Metrics of the requests that started in ``window`` (offsets from ``t0``, epoch s): the
    window as a whole and per request name. ``facts`` (what the optimised version computes once
    per frame) is ignored: the plain way."""
    frame = frame_of(records, t0, window)
    by_name = {str(name): _metrics(group, window.duration_s) for name, group in frame.groupby("name", sort=True)}
    return _metrics(frame, window.duration_s), by_name


def _value(metric: str, durations: np.ndarray, errors: np.ndarray, span_s: float) -> float | None:
    n = len(durations)
    if metric in ("rps", "requests"):
        return n / span_s if metric == "rps" else float(n)
    if n == 0:
        return None
    if metric == "error_rate":
        return float(errors.mean())
    if metric == "success_rate":
        return 1 - float(errors.mean())
    if metric == "max_ms":
        return float(durations.max())
    if metric == "mean_ms":
        return float(durations.mean())
    if metric.startswith("p") and metric.endswith("_ms"):
        digits = metric[1:-3]
        pct = float(digits) / (10 ** (len(digits) - 2)) if len(digits) > 2 else float(digits)
        return exact_percentile(durations, pct)
    return None


def degraded_steps(offsets: np.ndarray, durations: np.ndarray, errors: np.ndarray, start_s: float, end_s: float,
                   limits: list[Limit]) -> tuple[np.ndarray, np.ndarray]:
    """Judge every 100 ms step in ``[start_s, end_s)``.

    Args:
        offsets: request start offsets (s), sorted ascending; ``durations`` (ms) and
            ``errors`` (bool) aligned with them.
        limits: the steady state.

    Returns:
        ``(steps_s, degraded)``: step start offsets and whether the requests that started in
        ``[step, step + 1 s)`` broke any limit. A second with no requests at all is degraded
        (nothing got through). The last steps use a shorter span if the load ends sooner.
    """
    steps = np.arange(start_s, end_s, STEP_S)
    degraded = np.zeros(len(steps), dtype=bool)
    for i, t in enumerate(steps):
        span_end = min(t + SPAN_S, end_s)
        lo, hi = np.searchsorted(offsets, [t, span_end])
        span = max(span_end - t, STEP_S)
        if hi == lo:
            degraded[i] = True
            continue
        for limit in limits:
            value = _value(limit.metric, durations[lo:hi], errors[lo:hi], span)
            if value is not None and not COMPARE[limit.operator](value, limit.value):
                degraded[i] = True
                break
    return steps, degraded


def summarize_fault(window: Window, records: pd.DataFrame, load_end_s: float, limits: list[Limit],
                    recovered_after_s: float, failed: np.ndarray | None = None) -> FaultSummary:
    """Figures of one fault window; ``records`` carry ``offset_s`` and are sorted by it.
    ``failed`` (the optimised function's shortcut) is ignored: the reference compares itself."""
    offsets = records["offset_s"].to_numpy()
    durations = records["duration_ms"].to_numpy()
    errors = (records["error"] != "").to_numpy()
    lo, hi = np.searchsorted(offsets, [window.start_s, window.end_s])
    n = int(hi - lo)
    failed = int(errors[lo:hi].sum())
    steps, bad = degraded_steps(offsets, durations, errors, window.start_s, window.end_s, limits)
    detect = float(round(steps[bad.argmax()] - window.start_s, 3)) if bad.any() else None
    recover = _time_to_recover(offsets, durations, errors, window.end_s, load_end_s, limits, recovered_after_s)
    return FaultSummary(
        fault=window.fault or window.name,
        window=window.name,
        inject_s=window.start_s,
        revert_s=window.end_s,
        requests=n,
        failed_requests=failed,
        availability_pct=round(100 * (1 - failed / n), 3) if n else None,
        time_to_detect_s=detect,
        time_to_recover_s=recover,
        degraded_s=round(float(bad.sum()) * STEP_S, 3),
    )


def _time_to_recover(offsets, durations, errors, revert_s: float, load_end_s: float, limits: list[Limit],
                     recovered_after_s: float) -> float | None:
    steps, bad = degraded_steps(offsets, durations, errors, revert_s, load_end_s, limits)
    need = max(1, int(round(recovered_after_s / STEP_S)))
    run = 0
    for i, is_bad in enumerate(bad):
        run = 0 if is_bad else run + 1
        if run >= need:
            return float(round(steps[i - need + 1] - revert_s, 3))
    return None


def request_series(records: pd.DataFrame, end_s: float, failed: np.ndarray | None = None) -> RequestSeries:
    """Per-second request series from records carrying ``offset_s``. ``failed`` (the optimised
    function's shortcut) is ignored: the reference compares itself."""
    seconds = int(np.ceil(end_s)) if end_s > 0 else 0
    if seconds == 0:
        return RequestSeries()
    sec = np.clip(np.floor(records["offset_s"].to_numpy()).astype(int), 0, seconds - 1)
    frame = records.assign(sec=sec)
    counts = np.bincount(sec, minlength=seconds).tolist() if len(frame) else [0] * seconds
    errors: dict[str, list[int]] = {}
    failed = frame[frame["error"] != ""]
    for cls, group in failed.groupby("error"):
        errors[str(cls)] = np.bincount(group["sec"].to_numpy(), minlength=seconds).tolist()
    by_second: dict[int, list[float]] = {}
    for second, duration in zip(frame["sec"].tolist(), frame["duration_ms"].tolist()):
        by_second.setdefault(second, []).append(duration)

    def column(q: float) -> list[float | None]:
        values = [exact_percentile(by_second.get(s, []), q) for s in range(seconds)]
        return [None if v is None else round(v, 3) for v in values]

    return RequestSeries(list(range(seconds)), counts, errors, column(50), column(95), column(99))
