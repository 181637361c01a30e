"""Container telemetry from the journal: per-second CPU and memory samples and Docker events
(recorded by :mod:`harness.environment.monitor`), summarised per window."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.analysis.windows import Window
from harness.journal import Event

STATS_COLUMNS = ["offset_s", "container", "service", "cpu_pct", "mem_mib"]
EVENT_COLUMNS = ["offset_s", "container", "service", "action"]
METRIC_COLUMNS = ["offset_s", "container", "service", "metric", "labels", "value"]


def container_frames(events: list[Event], t0: float) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(stats, docker events, scraped service metrics)`` as DataFrames with ``offset_s``."""
    stats, docker_events, samples = [], [], []
    for e in events:
        if e.name == "container.stats":
            f = e.fields
            stats.append((e.t - t0, f["container"], f.get("service", ""), f.get("cpu_pct"), f.get("mem_mib")))
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
    out: dict[str, ServiceTelemetry] = {}
    s = stats[(stats["offset_s"] >= window.start_s) & (stats["offset_s"] < window.end_s)] if len(stats) else stats
    ev = (docker_events[(docker_events["offset_s"] >= window.start_s) & (docker_events["offset_s"] < window.end_s)]
          if len(docker_events) else docker_events)
    services = sorted(set(s["service"]) | set(ev["service"])) if len(s) or len(ev) else []
    for service in services:
        mine = s[s["service"] == service]
        evs = ev[ev["service"] == service]["action"]
        # memory of a service = sum over its containers at each second
        per_second = (mine.assign(sec=mine["offset_s"].round(0)).groupby(["sec", "container"])["mem_mib"].mean()
                      .groupby(level="sec").sum()) if len(mine) else None
        slope = None
        if per_second is not None and len(per_second) >= 3:
            slope = round(float(np.polyfit(per_second.index.to_numpy(), per_second.to_numpy(), 1)[0]), 3)
        out[service] = ServiceTelemetry(
            cpu_pct_mean=round(float(mine["cpu_pct"].mean()), 2) if len(mine) else None,
            cpu_pct_max=round(float(mine["cpu_pct"].max()), 2) if len(mine) else None,
            mem_mib_max=round(float(per_second.max()), 2) if per_second is not None and len(per_second) else None,
            mem_slope_mib_s=slope,
            restarts=int((evs == "start").sum()),
            oom_kills=int((evs == "oom").sum()),
            unhealthy=int(evs.str.contains("unhealthy").sum()),
        )
    return out
