"""Container and proxy telemetry from the journal, as DataFrames with ``offset_s`` (seconds from
the load's start): per-second CPU, memory and network samples and Docker events (recorded by
:mod:`harness.environment.monitor`), the traffic through the run's proxies (recorded by
:mod:`harness.environment.proxy_watch`), and per-window summaries."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.analysis.windows import Window
from harness.journal import Event

STATS_COLUMNS = ["offset_s", "container", "service", "cpu_pct", "mem_mib", "rx_bytes", "tx_bytes"]
EVENT_COLUMNS = ["offset_s", "container", "service", "action"]
METRIC_COLUMNS = ["offset_s", "container", "service", "metric", "labels", "value"]


def container_frames(events: list[Event], t0: float) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(stats, docker events, scraped service metrics)`` as DataFrames with ``offset_s``."""
    stats, docker_events, samples = [], [], []
    for e in events:
        if e.name == "container.stats":
            f = e.fields
            stats.append((e.t - t0, f["container"], f.get("service", ""), f.get("cpu_pct"), f.get("mem_mib"),
                          f.get("rx_bytes"), f.get("tx_bytes")))
        elif e.name == "container.event":
            f = e.fields
            docker_events.append((e.t - t0, f["container"], f.get("service", ""), f["action"]))
        elif e.name == "metrics.sample":
            f = e.fields
            for metric, labels, value in f.get("samples", []):
                samples.append((e.t - t0, f["container"], f.get("service", ""), metric, labels, value))
    return (
        pd.DataFrame(stats, columns=STATS_COLUMNS),
        pd.DataFrame(docker_events, columns=EVENT_COLUMNS),
        pd.DataFrame(samples, columns=METRIC_COLUMNS),
    )


PROXY_COLUMNS = ["offset_s", "since_s", "proxy", "source", "up_bytes", "down_bytes", "accepted", "open_connections"]
"""One row per proxy per reading: ``source`` ``sockets`` (bytes that crossed open connections
from ``since_s`` to ``offset_s``, and how many were open at ``offset_s``) or ``log``
(connections the proxy accepted from ``since_s`` to ``offset_s``)."""


@dataclass(frozen=True)
class ProxyCrossing:
    """What crossed one proxy in a window: ``accepted`` connections, ``bytes`` on open ones
    (both directions; both pro-rated: a reading that overlaps the window by a fraction counts
    by that fraction) and ``open_connections``, the most open at one reading inside it."""

    accepted: float
    bytes: float
    open_connections: int


@dataclass(frozen=True)
class TrafficSeen:
    """What was seen of the traffic through the run's proxies: ``frame`` (:data:`PROXY_COLUMNS`)
    and ``unavailable``: source (``sockets``, ``log``) -> why it could not be read. A source is
    *available* when it is not in ``unavailable`` and the run journalled readings at all
    (``watched``: False for a run without proxies or from before proxies were watched)."""

    frame: pd.DataFrame
    unavailable: dict[str, str]
    watched: bool

    def available(self, source: str) -> bool:
        """Whether ``source`` (``sockets`` or ``log``) was read during the run."""
        return self.watched and source not in self.unavailable


    def crossing(self, proxy: str, start_s: float, end_s: float, source: str | None = None) -> ProxyCrossing:
        """What crossed ``proxy`` in ``[start_s, end_s)`` (offsets), from every source or one."""
        frame = self.frame
        if frame.empty or end_s <= start_s:
            return ProxyCrossing(0.0, 0.0, 0)
        rows = frame[(frame["proxy"] == proxy) & (frame["offset_s"] >= start_s) & (frame["since_s"] < end_s)]
        if source is not None:
            rows = rows[rows["source"] == source]
        if rows.empty:
            return ProxyCrossing(0.0, 0.0, 0)
        since, until = rows["since_s"].to_numpy(), rows["offset_s"].to_numpy()
        overlap = np.clip(np.minimum(until, end_s) - np.maximum(since, start_s), 0, None)
        span = until - since
        share = np.where(span > 0, overlap / np.where(span > 0, span, 1), (until >= start_s) & (until < end_s))
        inside = until < end_s
        return ProxyCrossing(float((rows["accepted"].to_numpy() * share).sum()),
                             float(((rows["up_bytes"] + rows["down_bytes"]).to_numpy() * share).sum()),
                             int(rows["open_connections"].to_numpy()[inside].max()) if inside.any() else 0)


def proxy_traffic(events: list[Event], t0: float) -> TrafficSeen:
    """The ``proxy.traffic``, ``proxy.accepted`` and ``proxy.watch_unavailable`` events of a
    journal as a :class:`TrafficSeen` (offsets from ``t0``, epoch s)."""
    rows, unavailable, watched = [], {}, False
    for e in events:
        if e.name == "proxy.traffic":
            watched = True
            if e.fields.get("first"):
                continue  # the starting point: nothing has crossed yet
            for proxy, (up, down, open_now) in (e.fields.get("proxies") or {}).items():
                rows.append((e.t - t0, e.fields.get("since", e.t) - t0, proxy, "sockets", up, down, 0, open_now))
        elif e.name == "proxy.accepted":
            watched = True
            for proxy, count in (e.fields.get("accepted") or {}).items():
                rows.append((e.t - t0, e.fields.get("since", e.t) - t0, proxy, "log", 0, 0, count, 0))
        elif e.name == "proxy.watch_unavailable":
            watched = True
            unavailable.setdefault(str(e.fields.get("source")), str(e.fields.get("reason")))
        elif e.name == "proxy.watch":
            watched = True
    return TrafficSeen(pd.DataFrame(rows, columns=PROXY_COLUMNS), unavailable, watched)


MIN_RATE_SPAN_S = 2.0
"""A rate needs an interval this long: shorter, and a second's sample more or less decides it."""


def counter_rate(samples: pd.DataFrame, containers: list[str], column: str, start_s: float,
                 end_s: float) -> float | None:
    """Per second, how much the cumulative counter ``column`` (``rx_bytes``, ``tx_bytes``) of
    the ``containers`` grew in ``[start_s, end_s)``, summed over them.

    A counter that falls restarted (a restarted container's interfaces count from zero): the
    step counts from zero, as for Prometheus counters. A container sampled somewhere in the run
    but fewer than twice in an interval of at least :data:`MIN_RATE_SPAN_S` was not running
    there (Docker samples every running container each second): 0. None when the interval is
    shorter than that, or none of the containers was ever sampled."""
    if samples.empty or column not in samples or end_s - start_s < MIN_RATE_SPAN_S:
        return None
    mine = samples[samples["container"].isin(containers)].dropna(subset=[column])
    if mine.empty:
        return None
    total = 0.0
    for _, series in mine.groupby("container"):
        inside = series[(series["offset_s"] >= start_s) & (series["offset_s"] < end_s)].sort_values("offset_s")
        if len(inside) < 2:
            continue
        values = inside[column].to_numpy(dtype=float)
        steps = np.diff(values)
        grown = float(np.where(steps >= 0, steps, values[1:]).sum())
        total += grown / float(inside["offset_s"].iloc[-1] - inside["offset_s"].iloc[0])
    return total


def _memory(samples: pd.DataFrame) -> tuple[float | None, float | None]:
    """``(peak MiB, slope MiB/s)`` of one service's memory from its containers' samples.

    The service's memory is the sum over its containers; a second in which one container was
    not sampled (its first second, a missed sample) must not look like a drop, so each
    container's per-second mean is carried forward (and back) to every second of the window
    before summing (the peak), and the slope is the sum of each container's own least-squares
    slope (a container needs 3 seconds of samples to have one)."""
    if samples.empty:
        return None, None
    per = samples.assign(sec=samples["offset_s"].round(0)).groupby(["sec", "container"])["mem_mib"].mean().unstack()
    peak = round(float(per.ffill().bfill().sum(axis=1).max()), 2)
    columns = [per[name].dropna() for name in per.columns]
    slopes = [float(np.polyfit(c.index.to_numpy(dtype=float), c.to_numpy(dtype=float), 1)[0])
              for c in columns if c.size >= 3]
    return peak, (round(sum(slopes), 3) if slopes else None)


@dataclass(frozen=True)
class ServiceTelemetry:
    """One service in one window: mean and max CPU (percent of one core), max memory (MiB),
    memory slope (MiB/s, least squares over the window's samples), container restarts
    (``start`` events), OOM kills (``oom`` events) and times marked unhealthy."""

    cpu_pct_mean: float | None
    cpu_pct_max: float | None
    mem_mib_max: float | None
    mem_slope_mib_s: float | None
    restarts: int
    oom_kills: int
    unhealthy: int


def telemetry(stats: pd.DataFrame, docker_events: pd.DataFrame, window: Window) -> dict[str, ServiceTelemetry]:
    """Per-service telemetry of ``window`` (services with neither samples nor events are left out)."""
    fast = _telemetry_numpy(stats, docker_events, window)
    if fast is not None:
        return fast
    out: dict[str, ServiceTelemetry] = {}
    s = stats[(stats["offset_s"] >= window.start_s) & (stats["offset_s"] < window.end_s)] if len(stats) else stats
    ev = (docker_events[(docker_events["offset_s"] >= window.start_s) & (docker_events["offset_s"] < window.end_s)]
          if len(docker_events) else docker_events)
    services = sorted(set(s["service"]) | set(ev["service"])) if len(s) or len(ev) else []
    for service in services:
        mine = s[s["service"] == service]
        evs = ev[ev["service"] == service]["action"]
        memory = _memory(mine)
        out[service] = ServiceTelemetry(
            cpu_pct_mean=round(float(mine["cpu_pct"].mean()), 2) if len(mine) else None,
            cpu_pct_max=round(float(mine["cpu_pct"].max()), 2) if len(mine) else None,
            mem_mib_max=memory[0],
            mem_slope_mib_s=memory[1],
            restarts=int((evs == "start").sum()),
            oom_kills=int((evs == "oom").sum()),
            unhealthy=int(evs.str.contains("unhealthy").sum()),
        )
    return out


def _text(values: np.ndarray) -> bool:
    """Whether every value of an object array is a ``str``."""
    return all(isinstance(v, str) for v in values.tolist())


def _floats(frame: pd.DataFrame, column: str) -> np.ndarray | None:
    """``frame[column]`` as a float64 numpy array, or None when the column is not float64."""
    return frame[column].to_numpy() if frame[column].dtype == np.float64 else None


def _nanmean(values: np.ndarray) -> float:
    """pandas' ``Series.mean()`` of a float64 array, the same float: NaN filled with 0, summed
    by numpy, divided by the count of the others (NaN without any)."""
    mask = np.isnan(values)
    if mask.any():
        values = values.copy()
        np.putmask(values, mask, 0.0)
    count = float(len(values) - int(mask.sum()))
    return float(values.sum(dtype=np.float64) / count) if count > 0 else float("nan")


def _nanmax(values: np.ndarray) -> float:
    """pandas' ``Series.max()`` of a non-empty float64 array: the largest value but NaN (NaN
    when all are)."""
    valid = values[~np.isnan(values)]
    return float(valid.max()) if len(valid) else float("nan")


def _memory_numpy(secs: np.ndarray, containers: np.ndarray, mem: np.ndarray) -> tuple[float | None, float | None] | None:
    """:func:`_memory` of one service's samples in numpy, the same floats: ``secs`` (the
    samples' offsets rounded to whole seconds, float64), ``containers`` (str, object array) and
    ``mem`` (MiB, float64), aligned, not empty. None when pandas must decide: more than two
    containers (the sum's order of additions) or a container sampled twice in one second (the
    mean of a group)."""
    names = sorted(set(containers.tolist()))
    if len(names) > 2:
        return None
    rows, row_of = np.unique(secs, return_inverse=True)
    column_of = np.zeros(len(secs), dtype=np.intp) if len(names) == 1 else (containers == names[1]).astype(np.intp)
    cell = row_of * len(names) + column_of
    if len(np.unique(cell)) != len(cell):
        return None
    per = np.full((len(rows), len(names)), np.nan)
    per[row_of, column_of] = mem
    filled = per.copy()
    for j in range(len(names)):  # ffill, then bfill, along the seconds
        col = filled[:, j]
        valid = ~np.isnan(col)
        if not valid.any():
            continue
        forward = np.maximum.accumulate(np.where(valid, np.arange(len(col)), 0))
        col = np.where(valid[forward], col[forward], np.nan)
        valid = ~np.isnan(col)
        backward = np.minimum.accumulate(np.where(valid, np.arange(len(col)), len(col) - 1)[::-1])[::-1]
        filled[:, j] = col[backward]
    total = np.where(np.isnan(filled), 0.0, filled).sum(axis=1)
    peak = round(float(total.max()), 2)
    slopes = []
    for j in range(len(names)):
        valid = ~np.isnan(per[:, j])
        if int(valid.sum()) >= 3:
            slopes.append(float(np.polyfit(rows[valid], per[valid, j], 1)[0]))
    return peak, (round(sum(slopes), 3) if slopes else None)


def _telemetry_numpy(stats: pd.DataFrame, docker_events: pd.DataFrame,
                     window: Window) -> dict[str, ServiceTelemetry] | None:
    """:func:`telemetry` in numpy: the same figures, ~20 times faster (a report computes it for
    each window, and pandas' per-call costs add up to ~0.3 s for 13 windows of six services).
    None when the frames hold anything but float64 figures and text names and actions, or a
    service's memory needs pandas (:func:`_memory_numpy`); then pandas computes it all."""
    if not len(stats) or not set(STATS_COLUMNS[:5]) <= set(stats.columns) or not {"offset_s", "service", "action"} <= set(
            docker_events.columns):
        return None
    offsets, cpu, mem = _floats(stats, "offset_s"), _floats(stats, "cpu_pct"), _floats(stats, "mem_mib")
    ev_offsets = _floats(docker_events, "offset_s") if len(docker_events) else np.zeros(0)
    if offsets is None or cpu is None or mem is None or ev_offsets is None:
        return None
    inside = np.flatnonzero((offsets >= window.start_s) & (offsets < window.end_s))
    services = stats["service"].to_numpy(dtype=object)[inside]
    containers = stats["container"].to_numpy(dtype=object)[inside]
    ev_inside = np.flatnonzero((ev_offsets >= window.start_s) & (ev_offsets < window.end_s))
    ev_services = docker_events["service"].to_numpy(dtype=object)[ev_inside] if len(ev_inside) else np.zeros(0, object)
    actions = docker_events["action"].to_numpy(dtype=object)[ev_inside] if len(ev_inside) else np.zeros(0, object)
    if not (_text(services) and _text(containers) and _text(ev_services) and _text(actions)):
        return None
    secs = np.round(offsets[inside], 0)
    cpu, mem = cpu[inside], mem[inside]
    out: dict[str, ServiceTelemetry] = {}
    for service in sorted(set(services.tolist()) | set(ev_services.tolist())):
        mine = services == service
        memory: tuple[float | None, float | None] | None = (None, None)
        if mine.any():
            memory = _memory_numpy(secs[mine], containers[mine], mem[mine])
            if memory is None:
                return None
        evs = actions[ev_services == service].tolist()
        out[service] = ServiceTelemetry(
            cpu_pct_mean=round(_nanmean(cpu[mine]), 2) if mine.any() else None,
            cpu_pct_max=round(_nanmax(cpu[mine]), 2) if mine.any() else None,
            mem_mib_max=memory[0],
            mem_slope_mib_s=memory[1],
            restarts=sum(a == "start" for a in evs),
            oom_kills=sum(a == "oom" for a in evs),
            unhealthy=sum("unhealthy" in a for a in evs),
        )
    return out
