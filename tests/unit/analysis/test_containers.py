"""Service telemetry from container samples: a missed sample is not a memory drop."""

from __future__ import annotations

import pandas as pd
import pytest

from harness.analysis.containers import EVENT_COLUMNS, STATS_COLUMNS, telemetry
from harness.analysis.windows import Window


def test_a_missed_sample_of_one_replica_neither_bends_the_slope_nor_lowers_the_peak():
    rows = []
    for s in range(30):
        for name in ("api-1", "api-2"):
            if name == "api-2" and s in (0, 17):  # its first second, and one missed sample
                continue
            rows.append((s + 0.3, name, "api", 5.0, 50.0, None, None))
    stats = pd.DataFrame(rows, columns=STATS_COLUMNS)
    seen = telemetry(stats, pd.DataFrame([], columns=EVENT_COLUMNS), Window("run", "run", 0, 30))["api"]
    assert seen.mem_slope_mib_s == pytest.approx(0.0, abs=1e-6)  # summing per second gave 0.27 MiB/s here
    assert seen.mem_mib_max == 100.0


def test_a_leak_in_one_replica_is_the_service_slope():
    rows = [(s + 0.3, name, "api", 5.0, 50.0 + (0.5 * s if name == "api-1" else 0), None, None)
            for s in range(30) for name in ("api-1", "api-2")]
    stats = pd.DataFrame(rows, columns=STATS_COLUMNS)
    seen = telemetry(stats, pd.DataFrame([], columns=EVENT_COLUMNS), Window("run", "run", 0, 30))["api"]
    assert seen.mem_slope_mib_s == pytest.approx(0.5, abs=1e-3)
