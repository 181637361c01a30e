"""The report builder's shortcuts give what the plain code gives, value for value:

- :func:`harness.analysis.metrics.window_metrics` with the records' :class:`RowFacts` (failed
  flags and name codes computed once for the whole frame) equals it without them;
- :func:`harness.analysis.metrics.by_offset` (numpy's stable argsort, columns taken one by one)
  equals ``assign(offset_s=...).sort_values("offset_s", kind="stable")``: values, dtypes,
  index, column order and ``attrs``.

Both exist for speed only (``bench/analysis_5m.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.analysis.metrics import LineNumbers, RECORD_DTYPES, _name_codes, _name_groups, row_facts, window_metrics
from harness.analysis.windows import Window
from harness.analysis.metrics import by_offset

T0 = 1_765_000_000.123456


def _records(seed: int, names: list, n: int = 4000, sort: bool = True) -> pd.DataFrame:
    """Records with ``names`` drawn at random, some failed (several classes), starts from
    T0 - 1 s to T0 + 60 s (sorted by start when ``sort``, else in a shuffled order with ties)."""
    rng = np.random.default_rng(seed)
    starts = np.round(T0 + rng.uniform(-1, 60, n), 3)
    if sort:
        starts = np.sort(starts)
    errors = np.array(["", "", "", "", "timeout", "http_503", "connection_reset"], dtype=object)[rng.integers(0, 7, n)]
    frame = pd.DataFrame({
        "start_s": starts,
        "duration_ms": np.round(rng.lognormal(1.5, 1.0, n), 3),
        "name": pd.Series(np.array(names, dtype=object)[rng.integers(0, len(names), n)], dtype=object).astype("string"),
        "status": np.where(errors == "", 200, 0).astype(np.int32),
        "error": pd.Series(errors, dtype=object).astype("string"),
        "bytes": rng.integers(0, 500, n).astype(np.int64),
    })
    frame.attrs["bad_lines"] = LineNumbers([3, 9])
    frame.attrs["torn_tail"] = False
    return frame


WINDOWS = [Window("run", "run", 0, 60), Window("a", "baseline", 0, 10), Window("b", "fault", 10.0005, 31.2),
           Window("c", "recovery", 31.2, 31.2), Window("d", "recovery", 59.5, 70), Window("e", "fault", -5, 0)]


@pytest.mark.parametrize("names", [
    ["GET /a", "POST /b"], ["only"], ["z", "a", "m", "b"],
    [f"n{i:02d}" for i in range(32)], [f"n{i:02d}" for i in range(40)],  # more than 32: no codes
])
@pytest.mark.parametrize("seed", range(3))
def test_window_metrics_with_row_facts_equal_those_without(seed, names):
    records = _records(seed, names)
    facts = row_facts(records)
    assert (facts.names is None) == (len(set(names)) > 32)
    for window in WINDOWS:
        assert window_metrics(records, T0, window, facts) == window_metrics(records, T0, window)


def test_row_facts_leave_missing_names_to_each_window():
    records = _records(1, ["GET /a", "POST /b"])
    records.loc[5, "name"] = pd.NA  # pandas decides the groups of a window holding it
    facts = row_facts(records)
    assert facts.names is None
    for window in WINDOWS:
        assert window_metrics(records, T0, window, facts) == window_metrics(records, T0, window)


def test_row_facts_of_another_frame_are_not_used():
    records = _records(2, ["GET /a", "POST /b"])
    other = row_facts(records.iloc[:10])
    assert window_metrics(records, T0, WINDOWS[0], other) == window_metrics(records, T0, WINDOWS[0])


def _plain(records: pd.DataFrame, t0: float) -> pd.DataFrame:
    return records.assign(offset_s=records["start_s"] - t0).sort_values("offset_s", kind="stable")


def _assert_same(new: pd.DataFrame, old: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(new, old, check_exact=True, check_index_type=True, check_column_type=True,
                                  check_flags=True)
    assert new.index.equals(old.index) and new.index.dtype == old.index.dtype
    assert list(new.columns) == list(old.columns) and new.columns.dtype == old.columns.dtype
    assert [repr(d) for d in new.dtypes] == [repr(d) for d in old.dtypes]
    assert new.attrs == old.attrs and type(new.attrs.get("bad_lines")) is type(old.attrs.get("bad_lines"))


@pytest.mark.parametrize("seed", range(4))
def test_sorting_by_offset_equals_sort_values(seed):
    records = _records(seed, ["GET /a", "POST /b"], sort=False)
    _assert_same(by_offset(records.copy(), T0), _plain(records, T0))


@pytest.mark.parametrize("case", ["sorted", "nan", "empty", "one", "index"])
def test_sorting_by_offset_leaves_the_unusual_frames_to_pandas(case):
    records = _records(7, ["GET /a"], n=50, sort=case == "sorted")
    if case == "nan":
        records.loc[[3, 20], "start_s"] = np.nan
    elif case == "empty":
        records = pd.DataFrame({c: pd.Series(dtype=t) for c, t in RECORD_DTYPES.items()})
    elif case == "one":
        records = records.iloc[:1].copy()
    elif case == "index":  # not a RangeIndex: its labels follow the rows
        records.index = records.index * 3 + 11
    _assert_same(by_offset(records.copy(), T0), _plain(records, T0))


def _codes_from_groups(names: np.ndarray):
    """:func:`_name_groups`' positions as (sorted names, int8 code per row), or None."""
    groups = _name_groups(names)
    if groups is None:
        return None
    codes = np.full(len(names), -1, dtype=np.int8)
    for code, (_name, positions) in enumerate(groups):
        codes[positions] = code
    return tuple(name for name, _ in groups), codes


@pytest.mark.parametrize("values", [
    ["b", "a", "b", "c", "a"], ["only"] * 5, [], ["z"] + ["a"] * 4 + ["z"],
    [f"n{i % 32:02d}" for i in range(200)][::-1],  # 32 names: codes
    [f"n{i % 33:02d}" for i in range(200)],  # 33: none
    ["a", "b", pd.NA, "a"], ["a", 5, "a"], [5, "a"], ["a", None], ["a", "a", "b", float("nan")],
])
def test_name_codes_are_the_name_groups_as_codes(values):
    names = np.array(values, dtype=object)
    got, expected = _name_codes(names), _codes_from_groups(names)
    if expected is None:
        assert got is None
    else:
        assert got is not None and got[0] == expected[0]
        np.testing.assert_array_equal(got[1], expected[1])
        assert got[1].dtype == np.int8 and (got[1] >= 0).all()


@pytest.mark.parametrize("seed", range(4))
def test_name_codes_of_shuffled_names_match_their_groups(seed):
    rng = np.random.default_rng(seed)
    pool = np.array([f"GET /{c}" for c in "qwertyuiopasdf"], dtype=object)
    names = pd.Series(pool[rng.integers(0, len(pool), 5000)], dtype=object).astype("string").to_numpy()
    got, expected = _name_codes(names), _codes_from_groups(names)
    assert got[0] == expected[0]
    np.testing.assert_array_equal(got[1], expected[1])
