"""Per-second time series of a run, for plots: throughput, errors by class, latency percentiles,
and container CPU and memory per service. Seconds are counted from the load's start; a request
belongs to the second it started in.

A second's p50/p95/p99 is :func:`harness.analysis.percentile.percentiles_ms` of the durations of
the requests that started in it: exact nearest rank, an observed latency, the same definition as
the windows' metrics and the steady state (NaN durations left out)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from harness.analysis.metrics import failed_flags
from harness.analysis.percentile import percentiles_ms

SERIES_PERCENTILES = (50, 95, 99)
"""The latency percentiles of :class:`RequestSeries`, per second."""


@dataclass(frozen=True)
class RequestSeries:
    """Aligned lists, one entry per second ``t_s`` (0, 1, 2, ...): ``requests``, ``errors`` per
    error class (each list aligned with ``t_s``), and ``p50_ms``/``p95_ms``/``p99_ms`` (ms, exact
    nearest-rank percentiles of the second's requests rounded to 3 decimals; None in a second
    without requests)."""

    t_s: list[int] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    errors: dict[str, list[int]] = field(default_factory=dict)
    p50_ms: list[float | None] = field(default_factory=list)
    p95_ms: list[float | None] = field(default_factory=list)
    p99_ms: list[float | None] = field(default_factory=list)


@dataclass(frozen=True)
class ServiceSeries:
    """One service's per-second samples (summed over its containers): ``t_s``, ``cpu_pct``
    (percent of one core), ``mem_mib``."""

    t_s: list[int]
    cpu_pct: list[float | None]
    mem_mib: list[float | None]


def request_series(records: pd.DataFrame, end_s: float, failed: np.ndarray | None = None) -> RequestSeries:
    """Per-second request series from records carrying ``offset_s``. ``failed``:
    :func:`~harness.analysis.metrics.failed_flags` of their ``error`` column when the caller
    has them (the report builder's :class:`~harness.analysis.metrics.RowFacts`)."""
    seconds = int(np.ceil(end_s)) if end_s > 0 else 0
    if seconds == 0:
        return RequestSeries()
    sec = np.clip(np.floor(records["offset_s"].to_numpy()).astype(int), 0, seconds - 1)
    frame = records.assign(sec=sec)
    counts = np.bincount(sec, minlength=seconds).tolist() if len(frame) else [0] * seconds
    errors: dict[str, list[int]] = {}
    flags = failed if failed is not None else failed_flags(frame["error"])
    for cls, group in frame[flags].groupby("error"):
        errors[str(cls)] = np.bincount(group["sec"].to_numpy(), minlength=seconds).tolist()
    p50, p95, p99 = _percentile_columns(sec, frame["duration_ms"].to_numpy(dtype=np.float64), seconds)
    return RequestSeries(list(range(seconds)), counts, errors, p50, p95, p99)


def _percentile_columns(sec: np.ndarray, durations: np.ndarray, seconds: int) -> list[list[float | None]]:
    """Per second ``0 .. seconds - 1``, the :data:`SERIES_PERCENTILES` of the ``durations`` (ms)
    whose ``sec`` (int, aligned) is that second, rounded to 3 decimals (None without values):
    one list per percentile, each ``seconds`` long."""
    if len(sec) > 1 and not bool(np.all(sec[1:] >= sec[:-1])):  # the report builder sorts records by start
        order = np.argsort(sec, kind="stable")
        sec, durations = sec[order], durations[order]
    bounds = np.searchsorted(sec, np.arange(seconds + 1), side="left").tolist()
    columns: list[list[float | None]] = [[] for _ in SERIES_PERCENTILES]
    for second in range(seconds):
        values = percentiles_ms(durations[bounds[second]:bounds[second + 1]], SERIES_PERCENTILES)
        for column, value in zip(columns, values):
            column.append(None if value is None else round(value, 3))
    return columns


def service_series(stats: pd.DataFrame) -> dict[str, ServiceSeries]:
    """Per-service per-second CPU and memory from the monitor's samples (``offset_s, service,
    cpu_pct, mem_mib``)."""
    out: dict[str, ServiceSeries] = {}
    if stats.empty:
        return out
    frame = stats.assign(sec=np.floor(stats["offset_s"]).astype(int))
    frame = frame[frame["sec"] >= 0]
    for service, group in frame.groupby("service"):
        # each container's mean in each second, then the sum over the service's containers, so
        # a second with two samples (or none) of one container does not jump
        per_container = group.groupby(["sec", "container"]).agg(cpu_pct=("cpu_pct", "mean"), mem_mib=("mem_mib", "mean"))
        per = per_container.groupby(level="sec").sum()
        out[str(service)] = ServiceSeries(
            t_s=[int(s) for s in per.index],
            cpu_pct=[round(float(v), 2) for v in per["cpu_pct"]],
            mem_mib=[round(float(v), 2) for v in per["mem_mib"]],
        )
    return out
