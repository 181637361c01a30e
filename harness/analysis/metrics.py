"""Per-window metrics from request records, with percentiles from an HdrHistogram.

Locust rounds response times into buckets (1 ms under 100 ms, 10 ms to 1 s, 100 ms above) and its
p99 can exceed its max, so percentiles here come from our own HdrHistogram (3 significant digits,
values recorded in microseconds from 1 us to 1 hour). Requests belong to the window their
*start* falls in.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
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
    # The text columns are parsed as plain objects and made ``string`` afterwards: the same frame
    # as asking read_csv for ``string`` directly, about 25 % faster on millions of records.
    parse = {c: (object if t == "string" else t) for c, t in dtypes.items()}
    frame = pd.read_csv(path, sep="\t", names=list(RECORD_COLUMNS), dtype=parse, keep_default_na=False,
                        quoting=3, on_bad_lines="skip")
    for column, dtype in dtypes.items():
        if dtype == "string":
            frame[column] = frame[column].astype("string")
    return frame


def _counts_indexes(hist: HdrHistogram, values: np.ndarray) -> np.ndarray:
    """``hist._counts_index_for(v)`` for every non-negative int64 ``v`` (< 2**53), vectorised."""
    # bit_length(v | sub_bucket_mask) = max(bit_length(v), bit_length(sub_bucket_mask)): the mask
    # only sets bits below its own top bit. frexp's exponent is the bit length (exact below 2**53).
    pow2ceiling = np.maximum(np.frexp(values.astype(np.float64))[1], int(hist.sub_bucket_mask).bit_length())
    bucket = pow2ceiling - hist.unit_magnitude - (hist.sub_bucket_half_count_magnitude + 1)
    sub_bucket = values >> (bucket + hist.unit_magnitude)
    return ((bucket + 1) << hist.sub_bucket_half_count_magnitude) + sub_bucket - hist.sub_bucket_half_count


def _hdr_indexes(hist: HdrHistogram, micros: np.ndarray) -> np.ndarray:
    """The counts index of every value of ``micros`` (int64), or -1 where ``hist.record_value``
    would skip the value (negative, or out of the histogram's range)."""
    index = _counts_indexes(hist, np.maximum(micros, 0))
    index[(micros < 0) | (index >= hist.counts_len)] = -1
    return index


def _record_indexed(hist: HdrHistogram, micros: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Record ``micros`` (with their :func:`_hdr_indexes`) into ``hist``, leaving it exactly as
    ``hist.record_value(v)`` for each value would (counts, total, min and max; skipped values
    are skipped). Returns the counts array."""
    keep = index >= 0
    if not keep.all():
        micros, index = micros[keep], index[keep]
    counts = np.bincount(index, minlength=hist.counts_len) if len(index) else np.zeros(hist.counts_len, np.int64)
    for i in np.flatnonzero(counts).tolist():
        hist.counts[i] += int(counts[i])
    if len(micros):
        hist.total_count += len(micros)
        hist.min_value = min(hist.min_value, int(micros.min()))
        hist.max_value = max(hist.max_value, int(micros.max()))
    return counts


def _new_histogram() -> HdrHistogram:
    return HdrHistogram(HDR_LOWEST_US, HDR_HIGHEST_US, HDR_SIGNIFICANT_DIGITS)


def _micros(durations_ms: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(durations_ms * 1000), HDR_LOWEST_US, HDR_HIGHEST_US).astype(np.int64)


def histogram(durations_ms: np.ndarray) -> HdrHistogram:
    """An HdrHistogram of ``durations_ms`` (recorded in microseconds, clamped to its range).
    Recorded as a whole array (bucket indexes computed with numpy), so this is fast for millions
    of records."""
    hist = _new_histogram()
    micros = _micros(np.asarray(durations_ms, dtype=np.float64))
    _record_indexed(hist, micros, _hdr_indexes(hist, micros))
    return hist


def _values_at_percentiles(hist: HdrHistogram, counts: np.ndarray, percentiles: tuple[float, ...]) -> list[int]:
    """``hist.get_value_at_percentile(p)`` for each ``p`` (> 0), from the histogram's counts
    array: the first index whose cumulative count reaches the target, found by bisection."""
    cumulative = np.cumsum(counts)
    out = []
    for p in percentiles:
        target = hist.get_target_count_at_percentile(p)
        index = int(np.searchsorted(cumulative, target, side="left"))
        out.append(hist.get_highest_equivalent_value(hist.get_value_from_index(index)) if index < hist.counts_len
                   else 0)
    return out


PERCENTILES = (50, 90, 95, 99, 99.9)


def _metrics(frame: pd.DataFrame, duration_s: float) -> WindowMetrics:
    if len(frame) == 0:
        return WindowMetrics()
    durations = frame["duration_ms"].to_numpy(dtype=np.float64)
    micros = _micros(durations)
    return _metrics_of(micros, _hdr_indexes(_new_histogram(), micros), _failed(frame["error"]), frame["error"],
                       frame["duration_ms"], duration_s)


def _failed(errors: pd.Series) -> np.ndarray:
    """``errors != ""`` as a numpy bool array (missing values count as pandas counts them)."""
    values = errors.to_numpy()
    if values.dtype == object:
        try:
            return np.asarray(values != "", dtype=bool)
        except TypeError:  # pd.NA among the values: pandas' comparison gives NA, taken as not failed
            pass
    return (errors != "").to_numpy(dtype=bool, na_value=False)


def _metrics_of(micros: np.ndarray, index: np.ndarray, failed: np.ndarray, errors: pd.Series,
                durations: pd.Series, duration_s: float) -> WindowMetrics:
    """Metrics of aligned durations (``micros`` with their :func:`_hdr_indexes`) and ``failed``
    flags; ``errors`` and ``durations`` (ms) are the same rows as pandas Series (for the error
    classes and the mean)."""
    n = len(micros)
    if n == 0:
        return WindowMetrics()
    n_err = int(failed.sum())
    hist = _new_histogram()
    counts = _record_indexed(hist, micros, index)
    p50, p90, p95, p99, p999 = (round(v / 1000, 3) for v in _values_at_percentiles(hist, counts, PERCENTILES))
    classes = errors[failed].value_counts().sort_index() if n_err else {}
    return WindowMetrics(
        requests=n,
        rps=round(n / duration_s, 3) if duration_s > 0 else 0.0,
        error_rate=round(n_err / n, 6),
        success_rate=round(1 - n_err / n, 6),
        p50_ms=p50,
        p90_ms=p90,
        p95_ms=p95,
        p99_ms=p99,
        p999_ms=p999,
        max_ms=round(hist.get_max_value() / 1000, 3),
        mean_ms=round(float(durations.mean()), 3),
        errors={str(k): int(v) for k, v in classes.items()},
    )


def _offsets(records: pd.DataFrame, t0: float) -> np.ndarray:
    return records["start_s"].to_numpy() - t0


def _sorted(offsets: np.ndarray) -> bool:
    """True when ``offsets`` is ascending without NaN (then a window is one contiguous slice)."""
    return len(offsets) < 2 or bool(np.all(offsets[1:] >= offsets[:-1]))


def _window_rows(records: pd.DataFrame, t0: float, window: Window) -> slice | np.ndarray:
    """Positions of the records whose start falls in ``window``: a slice when the records are
    sorted by start (as the report builder sorts them), else an index array."""
    offsets = _offsets(records, t0)
    if _sorted(offsets):
        lo, hi = np.searchsorted(offsets, [window.start_s, window.end_s], side="left")
        return slice(int(lo), int(hi))
    return np.flatnonzero((offsets >= window.start_s) & (offsets < window.end_s))


def frame_of(records: pd.DataFrame, t0: float, window: Window) -> pd.DataFrame:
    """The records whose start falls in ``window`` (offsets from ``t0``, epoch s)."""
    return records.iloc[_window_rows(records, t0, window)]


def _name_groups(names: np.ndarray) -> list[tuple[str, np.ndarray]] | None:
    """``(name, positions)`` per distinct request name, sorted by name, when every name is a
    ``str`` and there are few of them (one vectorised comparison per name); None otherwise."""
    groups: list[tuple[str, np.ndarray]] = []
    rest = np.arange(len(names))
    remaining = names
    while len(rest):
        key = remaining[0]
        if not isinstance(key, str) or len(groups) >= 32:
            return None
        try:
            same = np.asarray(remaining == key, dtype=bool)
        except TypeError:  # pd.NA among the names
            return None
        groups.append((key, rest[same]))
        rest, remaining = rest[~same], remaining[~same]
    groups.sort(key=lambda g: g[0])
    return groups


def window_metrics(records: pd.DataFrame, t0: float, window: Window) -> tuple[WindowMetrics, dict[str, WindowMetrics]]:
    """Metrics of the requests that started in ``window`` (offsets from ``t0``, epoch s): the
    window as a whole and per request name."""
    frame = frame_of(records, t0, window)
    if len(frame) == 0:
        return WindowMetrics(), {}
    micros = _micros(frame["duration_ms"].to_numpy(dtype=np.float64))
    index = _hdr_indexes(_new_histogram(), micros)
    failed = _failed(frame["error"])
    overall = _metrics_of(micros, index, failed, frame["error"], frame["duration_ms"], window.duration_s)
    groups = _name_groups(frame["name"].to_numpy())
    if groups is None:  # unusual names (missing, not text, very many): pandas groups them
        by_name = {str(name): _metrics(group, window.duration_s) for name, group in frame.groupby("name", sort=True)}
        return overall, by_name
    by_name = {}
    for name, rows in groups:
        if len(groups) == 1:  # the same rows as the whole window
            by_name[name] = replace(overall, errors=dict(overall.errors))
            continue
        by_name[name] = _metrics_of(micros[rows], index[rows], failed[rows], frame["error"].iloc[rows],
                                    frame["duration_ms"].iloc[rows], window.duration_s)
    return overall, by_name
