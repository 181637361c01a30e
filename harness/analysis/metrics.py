"""Per-window metrics from request records, with exact nearest-rank percentiles.

Every latency percentile (p50 ... p99.9, and the max as p100) is
:func:`harness.analysis.percentile.percentiles_ms` over the recorded durations of the window:
the smallest recorded value ``v`` such that at least ``ceil(p/100 * n)`` durations are <= ``v``.
So a percentile is always a latency some request had, and p99 <= max. Locust rounds response
times into buckets (1 ms under 100 ms, 10 ms to 1 s, 100 ms above), and its p99 can exceed its
max; an HdrHistogram (what these metrics used before) rounds each value up to its bucket's
highest value. Neither is needed: the records are in memory, and one ``np.partition`` per window
(and per request name) costs less than filling a histogram. NaN durations are left out of the
percentiles (``requests`` still counts their rows); see :mod:`harness.analysis.percentile`.

Requests belong to the window their *start* falls in.
"""

from __future__ import annotations

import bisect
import math
from array import array
import copy
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from harness.analysis.percentile import percentiles_ms
from harness.analysis.windows import Window
from harness.load.records import RECORD_COLUMNS


@dataclass(frozen=True)
class WindowMetrics:
    """Metrics of one window (or one request name within it).

    ``rps`` is requests / window duration; ``error_rate`` and ``success_rate`` are fractions in
    0..1; latency fields are milliseconds, rounded to 3 decimals (None when the window has no
    requests): ``p50_ms`` ... ``p999_ms`` are exact nearest-rank percentiles and ``max_ms`` is
    p100 (:mod:`harness.analysis.percentile`, NaN durations left out), ``mean_ms`` is the mean;
    ``errors`` counts failed requests per error class.
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


RECORD_DTYPES = {"start_s": "float64", "duration_ms": "float64", "name": "string", "status": "int32",
                 "error": "string", "bytes": "int64"}
"""The columns of :func:`load_records`' frame and their dtypes (see :mod:`harness.load.records`)."""

_INT_RANGES = {"status": (-(2**31), 2**31 - 1), "bytes": (-(2**63), 2**63 - 1)}


class LineNumbers(list):
    """1-based line numbers, kept in ``DataFrame.attrs``: pandas deep-copies ``attrs`` on every
    operation that returns a new frame (every ``iloc`` of a window), so a copy of this list is
    the list itself. Read it, do not change it."""

    def __deepcopy__(self, memo: dict) -> "LineNumbers":
        return self


def load_records(path: Path) -> pd.DataFrame:
    """Read a ``requests.tsv`` into a DataFrame with the record columns (:data:`RECORD_DTYPES`;
    empty if missing or empty).

    A clean file is read by pandas' C parser (the fast path ``bench/analysis_5m.py`` measures).
    When that fails (a line with the wrong number of fields or a field of the wrong type, bytes
    that are not UTF-8), the file is read again line by line (:func:`_read_tolerant`): every
    line that is a record is kept, in order, and the others are counted. Blank lines are
    ignored. ``frame.attrs`` says what was left out:

    - ``bad_lines``: the 1-based numbers of the lines that are not records (``[]`` for a clean
      file), a torn tail included (last);
    - ``torn_tail``: True when the last line has no newline and is not a record (the writer
      was killed mid-line).

    Raises:
        OSError: the file exists but cannot be read (a directory, no permission).
    """
    if not path.exists() or path.stat().st_size == 0:
        return _marked(pd.DataFrame({c: pd.Series(dtype=t) for c, t in RECORD_DTYPES.items()}), [], False)
    try:
        frame = _read_fast(path)
    except (ValueError, OverflowError, TypeError):  # ParserError, UnicodeDecodeError, a bad field
        return _read_tolerant(path)
    if not isinstance(frame.index, pd.RangeIndex):  # every line had 7 fields: pandas made one the index
        return _read_tolerant(path)
    return _marked(frame, [], False)


def _marked(frame: pd.DataFrame, bad_lines: list[int], torn_tail: bool) -> pd.DataFrame:
    frame.attrs["bad_lines"] = LineNumbers(bad_lines)
    frame.attrs["torn_tail"] = torn_tail
    return frame


def _read_fast(path: Path) -> pd.DataFrame:
    """The C parser over a well-formed file; raises ``ValueError`` (and kin) on any bad line."""
    # The text columns are parsed as plain objects and made ``string`` afterwards: the same frame
    # as asking read_csv for ``string`` directly, about 25 % faster on millions of records.
    parse = {c: (object if t == "string" else t) for c, t in RECORD_DTYPES.items()}
    frame = pd.read_csv(path, sep="\t", names=list(RECORD_COLUMNS), dtype=parse, keep_default_na=False,
                        quoting=3, on_bad_lines="error")
    for column, dtype in RECORD_DTYPES.items():
        if dtype == "string":
            frame[column] = frame[column].astype("string")
    return frame


def _read_tolerant(path: Path) -> pd.DataFrame:
    """The records of a damaged file, line by line (see :func:`load_records`): a line is a
    record when it is UTF-8 with exactly 6 tab-separated fields, ``start_s`` and
    ``duration_ms`` floats, ``status`` an int32 and ``bytes`` an int64 (integers written as
    ``200.0`` count, as the C parser reads them)."""
    starts, durations, statuses, sizes = array("d"), array("d"), array("i"), array("q")
    names: list[str] = []
    errors: list[str] = []
    shared: dict[str, str] = {}  # one string object per distinct name or error class
    bad: list[int] = []
    torn = False
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            line = raw.rstrip(b"\r\n") if raw.endswith(b"\n") else raw
            if not line:
                continue
            record = _record(line, first=number == 1)
            if record is None:
                bad.append(number)
                torn = not raw.endswith(b"\n")
                continue
            starts.append(record[0])
            durations.append(record[1])
            names.append(shared.setdefault(record[2], record[2]))
            statuses.append(record[3])
            errors.append(shared.setdefault(record[4], record[4]))
            sizes.append(record[5])
    frame = pd.DataFrame({
        "start_s": _numbers(starts, np.float64),
        "duration_ms": _numbers(durations, np.float64),
        "name": pd.Series(names, dtype=object).astype("string"),
        "status": _numbers(statuses, np.int32),
        "error": pd.Series(errors, dtype=object).astype("string"),
        "bytes": _numbers(sizes, np.int64),
    })
    return _marked(frame, bad, torn)


def _numbers(values: array, dtype: type) -> np.ndarray:
    """A numpy copy of an ``array.array`` of ``dtype``'s item size."""
    return np.frombuffer(values, dtype=dtype).copy() if len(values) else np.empty(0, dtype)


def _record(line: bytes, first: bool = False) -> tuple[float, float, str, int, str, int] | None:
    """One record line (without its newline) as its six values, or None when it is not one."""
    try:
        fields = line.decode("utf-8-sig" if first else "utf-8").split("\t")
    except UnicodeDecodeError:
        return None
    if len(fields) != len(RECORD_COLUMNS):
        return None
    start, duration, name, status, error, size = fields
    try:
        values = (float(start), float(duration), name, _integer(status, "status"), error, _integer(size, "bytes"))
    except (ValueError, OverflowError):
        return None
    return values


def _integer(text: str, column: str) -> int:
    """An integer field of ``column``, in its dtype's range; ``200.0`` is 200. Raises ValueError."""
    try:
        value = int(text)
    except ValueError:
        number = float(text)
        if not number.is_integer():
            raise
        value = int(number)
    low, high = _INT_RANGES[column]
    if not low <= value <= high:
        raise ValueError(f"{column} {value} out of range")
    return value


PERCENTILES = (50, 90, 95, 99, 99.9)
"""The percentiles of :class:`WindowMetrics` (p50_ms ... p999_ms); ``max_ms`` is p100."""


def by_offset(records: pd.DataFrame, t0: float) -> pd.DataFrame:
    """``records`` with an ``offset_s`` column (``start_s - t0``, s), sorted by it, stable: the
    frame ``records.assign(offset_s=...).sort_values("offset_s", kind="stable")`` gives (values,
    dtypes, column order, index and ``attrs``).

    Pass the only reference to ``records`` (``by_offset(load_records(path), t0)``): float64
    offsets without NaN are sorted by numpy's stable ``argsort`` (the order pandas' ``nargsort``
    gives, without its copies of the values and positions), then each column is taken in turn
    and its unsorted copy let go, so the unsorted and sorted frames are not both whole in
    memory (~250 MiB for 5 M records). New memory is slow to touch for the first time on the
    benchmark machine (~0.15 s per 40 MiB column, ``bench/analysis_5m.py``). Anything else, and
    records already in order, is left to ``sort_values``."""
    offsets = records["start_s"].to_numpy() if records["start_s"].dtype == np.float64 else None
    if offsets is not None:
        offsets = offsets - t0
        order = np.argsort(offsets, kind="stable") if not np.isnan(offsets).any() else None
    if offsets is None or order is None or bool(np.all(order[1:] > order[:-1])):
        return records.assign(offset_s=records["start_s"] - t0).sort_values("offset_s", kind="stable")
    attrs, flags = records.attrs, records.flags.allows_duplicate_labels
    index = records.index.take(order)
    columns = {name: records[name].array for name in records.columns}
    del records  # the caller's was its only other reference: each column is freed once taken
    taken = {}
    for name in list(columns):
        values = columns.pop(name)
        plain = type(values) is pd.arrays.NumpyExtensionArray  # a numpy column (not a subclass: StringArray)
        taken[name] = np.take(values.to_numpy(), order) if plain else values.take(order)
    taken["offset_s"] = np.take(offsets, order)
    del offsets
    out = pd.DataFrame(taken, index=index, copy=False)
    out.attrs = copy.deepcopy(attrs)  # as DataFrame.__finalize__ copies them
    out.flags.allows_duplicate_labels = flags
    return out


def _metrics(frame: pd.DataFrame, duration_s: float) -> WindowMetrics:
    if len(frame) == 0:
        return WindowMetrics()
    failed = failed_flags(frame["error"])
    return _metrics_of(frame["duration_ms"].to_numpy(dtype=np.float64), failed, lambda: frame["error"][failed],
                       frame["duration_ms"], duration_s)


def failed_flags(errors: pd.Series) -> np.ndarray:
    """Whether each request failed: ``errors != ""`` for a records frame's ``error`` column (an
    empty error class means success, see :mod:`harness.load.records`), as a numpy bool array of
    the column's length.

    Compared in numpy when the values allow it: the same flags as pandas' string comparison,
    much faster on millions of records. A missing value counts as pandas counts it: ``None``,
    NaN or ``pd.NA`` in an ``object`` column is a failure (it is not the empty string);
    ``pd.NA`` in a ``string`` column is not (pandas' comparison gives NA there, which a row mask
    does not select). Raises nothing on these dtypes.
    """
    values = errors.to_numpy()
    if values.dtype == object:
        try:
            return np.asarray(values != "", dtype=bool)
        except TypeError:  # pd.NA among the values: pandas decides
            pass
    return (errors != "").to_numpy(dtype=bool, na_value=False)


def _ms(value: float | None) -> float | None:
    """A latency for the report: ms rounded to 3 decimals (None stays None)."""
    return None if value is None else round(value, 3)


def _metrics_of(durations: np.ndarray, failed: np.ndarray, failed_errors: Callable[[], pd.Series], series: pd.Series,
                duration_s: float) -> WindowMetrics:
    """Metrics of aligned ``durations`` (ms, float64) and ``failed`` flags (bool); ``series`` is
    the same durations as a pandas Series (for the mean), and ``failed_errors()`` gives the error
    classes of the failed rows, in their order (a Series; called only when some failed).
    Percentiles and the max: :func:`harness.analysis.percentile.percentiles_ms`."""
    n = len(durations)
    if n == 0:
        return WindowMetrics()
    n_err = int(failed.sum())
    p50, p90, p95, p99, p999, top = (_ms(v) for v in percentiles_ms(durations, (*PERCENTILES, 100)))
    classes = failed_errors().value_counts().sort_index() if n_err else {}
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
        max_ms=top,
        mean_ms=round(float(series.mean()), 3),
        errors={str(k): int(v) for k, v in classes.items()},
    )


def _offsets(records: pd.DataFrame, t0: float) -> np.ndarray:
    return records["start_s"].to_numpy() - t0


def _sorted(offsets: np.ndarray) -> bool:
    """True when ``offsets`` is ascending without NaN (then a window is one contiguous slice)."""
    return len(offsets) < 2 or bool(np.all(offsets[1:] >= offsets[:-1]))


def _first_at_or_after(starts: np.ndarray, t0: float, offset_s: float) -> int:
    """``np.searchsorted(starts - t0, offset_s, side="left")`` for ascending float64 ``starts``
    without NaN (epoch s), a finite ``t0`` and an ``offset_s`` that is not NaN, without computing
    ``starts - t0``: a bisection that subtracts ``t0`` from the ~23 starts it looks at (the same
    IEEE subtraction, so the same offsets)."""
    return bisect.bisect_left(starts, offset_s, key=lambda start: start - t0)


def _window_rows(records: pd.DataFrame, t0: float, window: Window) -> slice | np.ndarray:
    """Positions of the records whose start falls in ``window``: a slice when the records are
    sorted by start (as the report builder sorts them), else an index array.

    Sorted float64 starts are bisected without computing every offset (a report asks for ~14
    windows of millions of records): subtracting a finite ``t0`` keeps their order, so the
    offsets are sorted too, and the bisection finds the rows ``np.searchsorted`` finds on them."""
    starts = records["start_s"].to_numpy()
    if (starts.dtype == np.float64 and math.isfinite(t0) and not math.isnan(window.start_s)
            and not math.isnan(window.end_s) and _sorted(starts)):
        lo, hi = (_first_at_or_after(starts, t0, float(b)) for b in (window.start_s, window.end_s))
        return slice(lo, hi)
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


@dataclass(frozen=True)
class RowFacts:
    """What :func:`window_metrics` needs of every record of a whole records frame, computed once
    (:func:`row_facts`) so that each window slices it instead of comparing its own millions of
    Python strings again (a report asks for ~14 windows, ``bench/analysis_5m.py``).

    Fields:
        failed: :func:`failed_flags` of the frame's ``error`` column (bool per row).
        names: the distinct request names, sorted (as :func:`_name_groups` orders them); None
            when :func:`_name_groups` gives None for the whole frame (a name that is not a
            ``str``, or more than 32 names): then each window groups its own rows.
        codes: per row, the index of its name in ``names`` (int8; None with ``names``).
    """

    failed: np.ndarray
    names: tuple[str, ...] | None
    codes: np.ndarray | None

    def groups(self, rows: slice) -> list[tuple[str, np.ndarray]] | None:
        """:func:`_name_groups` of the names at ``rows`` (a slice of the frame): the same
        ``(name, positions in the slice)``, sorted by name, names absent from the slice left out;
        None when :attr:`names` is."""
        if self.names is None or self.codes is None:
            return None
        codes = self.codes[rows]
        groups = []
        for code, name in enumerate(self.names):
            positions = np.flatnonzero(codes == code)
            if len(positions):
                groups.append((name, positions))
        return groups


def _name_codes(names: np.ndarray) -> tuple[tuple[str, ...], np.ndarray] | None:
    """What :func:`_name_groups` gives, as codes: the distinct names, sorted, and per row the
    index of its name among them (int8); None where :func:`_name_groups` gives None (a name
    that is not a ``str``, ``pd.NA`` among them, or more than 32 names).

    One vectorised comparison per name from its first row on, and no array of positions: on
    millions of records the int64 positions cost more than the comparisons (new memory is
    slow to touch on the benchmark machine, see :func:`by_offset`)."""
    codes = np.full(len(names), -1, dtype=np.int8)
    keys: list[str] = []
    first = 0
    while first < len(names):
        key = names[first]
        if not isinstance(key, str) or len(keys) >= 32:
            return None
        try:
            same = np.asarray(names[first:] == key, dtype=bool)
        except TypeError:  # pd.NA among the names
            return None
        codes[first:][same] = len(keys)  # rows before ``first`` all have a code, and another name
        keys.append(key)
        nxt = first + int(np.argmax(codes[first:] < 0))
        if codes[nxt] >= 0:
            break
        first = nxt
    order = sorted(range(len(keys)), key=lambda code: keys[code])
    renumber = np.empty(len(keys), dtype=np.int8)
    renumber[order] = np.arange(len(keys), dtype=np.int8)
    return tuple(keys[code] for code in order), renumber[codes]


def row_facts(records: pd.DataFrame) -> RowFacts:
    """The :class:`RowFacts` of a records frame (the report builder's, sorted by start): one pass
    over its ``error`` column, and one over its ``name`` column per distinct name."""
    failed = failed_flags(records["error"])
    named = _name_codes(records["name"].to_numpy())
    if named is None:
        return RowFacts(failed, None, None)
    return RowFacts(failed, *named)


def window_metrics(records: pd.DataFrame, t0: float, window: Window,
                   facts: RowFacts | None = None) -> tuple[WindowMetrics, dict[str, WindowMetrics]]:
    """Metrics of the requests that started in ``window`` (offsets from ``t0``, epoch s): the
    window as a whole and per request name. ``facts``: :func:`row_facts` of ``records`` (the
    same result, faster when many windows are asked of the same frame); used only when the
    window is a contiguous slice of the records (they are sorted by start)."""
    rows = _window_rows(records, t0, window)
    frame = records.iloc[rows]
    if len(frame) == 0:
        return WindowMetrics(), {}
    sliced = facts is not None and isinstance(rows, slice) and len(facts.failed) == len(records)
    durations = frame["duration_ms"].to_numpy(dtype=np.float64)
    failed = facts.failed[rows] if sliced else failed_flags(frame["error"])
    errors = frame["error"]
    overall = _metrics_of(durations, failed, lambda: errors[failed], frame["duration_ms"], window.duration_s)
    groups = facts.groups(rows) if sliced else None
    if groups is None:
        groups = _name_groups(frame["name"].to_numpy())
    if groups is None:  # unusual names (missing, not text, very many): pandas groups them
        by_name = {str(name): _metrics(group, window.duration_s) for name, group in frame.groupby("name", sort=True)}
        return overall, by_name
    by_name = {}
    for name, rows in groups:
        if len(groups) == 1:  # the same rows as the whole window
            by_name[name] = replace(overall, errors=dict(overall.errors))
            continue
        mine, taken = failed[rows], durations[rows]
        # Only the failed rows' error classes are taken (the same classes, in the same order), and
        # float64 durations make the mean's Series from the array already taken (the same values).
        series = (pd.Series(taken, copy=False) if frame["duration_ms"].dtype == np.float64
                  else frame["duration_ms"].iloc[rows])
        by_name[name] = _metrics_of(taken, mine, lambda rows=rows, mine=mine: errors.iloc[rows[mine]], series,
                                    window.duration_s)
    return overall, by_name
