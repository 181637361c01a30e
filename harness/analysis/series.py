"""Per-second time series of a run, for plots: throughput, errors by class, latency percentiles,
and container CPU and memory per service. Seconds are counted from the load's start; a request
belongs to the second it started in."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class RequestSeries:
    """Aligned lists, one entry per second ``t_s`` (0, 1, 2, ...): ``requests``, ``errors`` per
    error class (each list aligned with ``t_s``), and ``p50_ms``/``p95_ms``/``p99_ms`` (None in a
    second without requests)."""

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


def _failed_mask(errors: pd.Series) -> np.ndarray | pd.Series:
    """``errors != ""`` (a row mask), compared in numpy when the values allow it: the same rows,
    much faster than pandas' string comparison on millions of records."""
    values = errors.to_numpy()
    if values.dtype == object:
        try:
            return np.asarray(values != "", dtype=bool)
        except TypeError:  # pd.NA among the values: pandas' mask (NA selects nothing)
            pass
    return errors != ""


def request_series(records: pd.DataFrame, end_s: float) -> RequestSeries:
    """Per-second request series from records carrying ``offset_s``."""
    seconds = int(np.ceil(end_s)) if end_s > 0 else 0
    if seconds == 0:
        return RequestSeries()
    sec = np.clip(np.floor(records["offset_s"].to_numpy()).astype(int), 0, seconds - 1)
    frame = records.assign(sec=sec)
    counts = np.bincount(sec, minlength=seconds).tolist() if len(frame) else [0] * seconds
    errors: dict[str, list[int]] = {}
    failed = frame[_failed_mask(frame["error"])]
    for cls, group in failed.groupby("error"):
        errors[str(cls)] = np.bincount(group["sec"].to_numpy(), minlength=seconds).tolist()
    quant = frame.groupby("sec")["duration_ms"].quantile([0.5, 0.95, 0.99]).unstack() if len(frame) else None

    def column(q: float) -> list[float | None]:
        if quant is None:
            return [None] * seconds
        col = quant[q].reindex(range(seconds))
        return [None if pd.isna(v) else round(float(v), 3) for v in col]

    return RequestSeries(list(range(seconds)), counts, errors, column(0.5), column(0.95), column(0.99))


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
