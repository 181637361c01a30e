"""Every benchmark row, its goal and unit, in the order the table prints them.

The goals are issue 20's (docs/benchmarks.md says where each comes from); a row holds when its
90 % bound meets the goal (bench/confidence.py). Read by bench/run.py (the table, a failed
benchmark's empty rows) and by the benchmarks that judge their own rows (bench/fault_onset.py).
"""

from __future__ import annotations

ROWS = {  # every row, in table order: (benchmark, op, goal, unit)
    "driver_cpu_per_request_ratio": ("driver_cpu", ">=", 0.97, "ratio"),
    "latency_accuracy_error": ("latency", "<=", 1.0, "%"),
    "fault_onset_p95_ms": ("onset", "<=", 20.0, "ms"),
    "fault_onset_docker_p95_ms": ("onset", "<=", 250.0, "ms"),
    "run_overhead_ratio": ("run", "<=", 1.15, "ratio"),
    "sweep_shared_ratio": ("sweep", "<=", 0.8, "ratio"),
    "analysis_5m_s": ("analysis", "<=", 5.0, "s"),
    "analysis_5m_peak_rss_mib": ("analysis", "<=", 1024.0, "MiB"),
    "workers_scaling_ratio": ("workers", ">=", 1.8, "ratio"),
    "remote_worker_throughput_ratio": ("remote", ">=", 0.9, "ratio"),
    "record_stream_rps": ("stream", ">=", 20_000, "records/s"),
    "hostile_validate_worst_s": ("hostile", "<=", 5.0, "s"),
    "hostile_validate_peak_rss_mib": ("hostile", "<=", 500.0, "MiB"),
}
