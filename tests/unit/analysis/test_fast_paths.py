"""The report's fast paths give what the plain pandas / matplotlib code gives, value for value.

Each fast path (container telemetry in numpy, windows found by bisection, error bars without
the empty ones) exists for speed only (bench/analysis_5m.py); these tests compare it with the
code it replaces on made-up inputs with the awkward cases in them (NaN samples, a missed second,
an empty error class, a class empty where the stack is highest).
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from harness.analysis import containers
from harness.analysis.containers import EVENT_COLUMNS, STATS_COLUMNS, telemetry
from harness.analysis.metrics import _window_rows
from harness.analysis.windows import Window
from harness.report.plots import BAR_WIDTH, _bars


def _stats(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(60):
        for container, service in (("api-1", "api"), ("api-2", "api"), ("db-1", "db")):
            if rng.random() < 0.1:  # a missed sample
                continue
            cpu = float("nan") if rng.random() < 0.05 else float(rng.uniform(0, 200))
            mem = 40.0 + s * (0.3 if container == "api-1" else 0.0) + float(rng.normal(0, 2))
            rows.append((s + float(rng.uniform(0, 0.4)), container, service, cpu, mem, None, None))
    return pd.DataFrame(rows, columns=STATS_COLUMNS)


@pytest.mark.parametrize("seed", range(5))
def test_container_telemetry_in_numpy_equals_pandas(seed, monkeypatch):
    stats = _stats(seed)
    events = pd.DataFrame([(12.5, "api-1", "api", "die"), (13.0, "api-1", "api", "start"),
                           (30.2, "db-1", "db", "health_status: unhealthy"), (41.0, "db-1", "db", "oom")],
                          columns=EVENT_COLUMNS)
    windows = [Window("run", "run", 0, 60), Window("a", "a", 10.5, 31.0), Window("b", "b", 40, 41)]
    fast = [telemetry(stats, events, w) for w in windows]
    assert all(containers._telemetry_numpy(stats, events, w) is not None for w in windows)  # the fast path ran
    monkeypatch.setattr(containers, "_telemetry_numpy", lambda *_args: None)
    assert fast == [telemetry(stats, events, w) for w in windows]


@pytest.mark.parametrize("seed", range(5))
def test_windows_found_by_bisection_are_the_searchsorted_rows(seed):
    rng = np.random.default_rng(seed)
    t0 = 1_765_000_000.123456
    starts = np.sort(t0 + rng.uniform(-1, 120, 20_000))
    records = pd.DataFrame({"start_s": starts})
    offsets = starts - t0
    for start_s, end_s in ((0, 30), (29.999999, 60.0000001), (-5, 0), (100, 200), (float(offsets[7]), float(offsets[9]))):
        rows = _window_rows(records, t0, Window("w", "w", start_s, end_s))
        assert isinstance(rows, slice)
        lo, hi = np.searchsorted(offsets, [start_s, end_s], side="left")
        assert (rows.start, rows.stop) == (lo, hi)


def _png(draw) -> tuple[bytes, tuple, tuple]:
    fig = Figure(figsize=(6, 2), dpi=60)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    draw(ax)
    ax.legend()
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue(), ax.get_xlim(), ax.get_ylim()


def test_error_bars_without_the_empty_ones_draw_the_same_png():
    x = [float(i) for i in range(40)]
    classes = {"timeout": [0.0] * 10 + [3.0] * 5 + [0.0] * 25,
               "refused": [0.0] * 40,  # a class with no error at all
               "status_5xx": [0.0] * 12 + [1.0, 0.0, 2.0] + [0.0] * 20 + [0.0] * 5}  # empty at the top

    def plain(ax):
        bottom = [0.0] * len(x)
        for name, heights in classes.items():
            ax.bar(x, heights, width=BAR_WIDTH, bottom=bottom, label=name, color="C1", alpha=0.85)
            bottom = [b + h for b, h in zip(bottom, heights)]

    def fast(ax):
        bottom = [0.0] * len(x)
        for name, heights in classes.items():
            _bars(ax, x, heights, bottom, label=name, colour="C1")
            bottom = [b + h for b, h in zip(bottom, heights)]

    expected, got = _png(plain), _png(fast)
    assert [*got[1], *got[2]] == pytest.approx([*expected[1], *expected[2]], rel=1e-12)  # the same axis limits (to the last bits)
    assert got[0] == expected[0]
    assert not math.isnan(got[2][1])


def test_empty_bars_on_a_raised_bottom_still_stop_the_autoscale_margin():
    """The empty bars' bottoms are sticky edges, as ``ax.bar`` makes them: with the empty ones
    lower than the drawn ones, the axis still ends at their bottom, not a margin below it."""
    x = [float(i) for i in range(8)]
    heights = [0.0, 2.0, 0.0, 3.0, 0.0, 0.0, 1.0, 0.0]
    bottom = [1.0, 5.0, 1.0, 5.0, 1.0, 1.0, 5.0, 1.0]
    expected = _png(lambda ax: ax.bar(x, heights, width=BAR_WIDTH, bottom=bottom, label="e", color="C1", alpha=0.85))
    got = _png(lambda ax: _bars(ax, x, heights, bottom, label="e", colour="C1"))
    assert [*got[1], *got[2]] == pytest.approx([*expected[1], *expected[2]], rel=1e-12)
    assert got[0] == expected[0]
