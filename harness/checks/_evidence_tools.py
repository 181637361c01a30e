"""Small helpers several checks share: counters from scraped metrics, failures in a window.

numpy and pandas are imported inside the helpers: check modules are imported to validate a
scenario (their specs form the scenario schema), and a run loads pandas in the background
while Docker starts the stack (see :mod:`harness.run`) instead of before it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from harness.analysis.evidence import Evidence
    from harness.analysis.windows import Window


def counter_increase(evidence: Evidence, metric: str, window: Window, service: str | None = None,
                     labels: dict[str, str] | None = None) -> float | None:
    """How much a scraped Prometheus counter grew during ``window``, summed over containers
    (and over label sets matching ``labels``); counter resets count from zero. None when
    nothing was scraped at all (or nothing of ``service``, when named); 0 when the services were
    scraped but do not export the metric (a service without retries has no retry counter)."""
    import numpy as np

    samples = evidence.service_metrics
    if samples.empty or (service and not bool((samples["service"] == service).any())):
        return None
    rows = samples[samples["metric"] == metric]
    if service:
        rows = rows[rows["service"] == service]
    if labels:
        rows = rows[rows["labels"].map(lambda l: all(l.get(k) == v for k, v in labels.items()))]
    if rows.empty:
        return 0.0
    total = 0.0
    for _, series in rows.groupby([rows["container"], rows["labels"].map(lambda l: tuple(sorted(l.items())))]):
        series = series.sort_values("offset_s")
        before = series[series["offset_s"] < window.start_s]
        inside = series[(series["offset_s"] >= window.start_s) & (series["offset_s"] < window.end_s + 1)]
        values = np.concatenate([before["value"].to_numpy()[-1:], inside["value"].to_numpy()])
        if len(values) >= 2:
            steps = np.diff(values)
            total += float(np.where(steps >= 0, steps, values[1:]).sum())
    return total


def gauge_series(evidence: Evidence, metric: str, service: str | None = None,
                 labels: dict[str, str] | None = None) -> pd.DataFrame:
    """Scraped samples of a gauge (``offset_s, container, value``), oldest first."""
    import pandas as pd

    samples = evidence.service_metrics
    if samples.empty:
        return pd.DataFrame(columns=["offset_s", "container", "value"])
    rows = samples[samples["metric"] == metric]
    if service:
        rows = rows[rows["service"] == service]
    if labels:
        rows = rows[rows["labels"].map(lambda l: all(l.get(k) == v for k, v in labels.items()))]
    return rows[["offset_s", "container", "value"]].sort_values("offset_s")


def failures(frame: pd.DataFrame) -> pd.DataFrame:
    """The failed requests of a records frame."""
    return frame[frame["error"] != ""]


def percentile_ms(frame: pd.DataFrame, pct: float) -> float | None:
    """The ``pct`` percentile of ``duration_ms`` (None for no rows): the harness's one percentile,
    :func:`harness.analysis.percentile.percentile_ms` (exact nearest rank, NaN left out)."""
    from harness.analysis.percentile import percentile_ms as exact_percentile_ms

    return exact_percentile_ms(frame["duration_ms"], pct) if len(frame) else None
