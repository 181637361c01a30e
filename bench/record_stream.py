"""``record_stream_rps``: records per second one Locust process can stream to the orchestrator.

``harness run bench/scenarios/stream.yaml``: one user that only fires Locust ``request`` events
(bench/scenarios/locustfiles/null_events.py), no network, for 10 s. Every event goes through
Locust's own statistics and the harness's record hook, is batched onto the pipe, parsed by the
orchestrator's reader and appended to requests.tsv, exactly like a real request's record. Run
twice: the load child alone (``load.workers: 0``), and one Locust worker whose records travel
through its master (``load.workers: 1``, ZeroMQ), each twice (0, 1, 0, 1). The row is the median
of the four rates; its 90 % lower bound (bench/confidence.py: with four samples, the slowest run)
is what must hold the goal. Every record must arrive (records == Locust's own count).
"""

from __future__ import annotations

import statistics
from pathlib import Path

from bench.common import SCENARIOS, Row, harness_run, log


def run(work: Path) -> list[Row]:
    runs = []
    for i, workers in enumerate((0, 1, 0, 1)):
        result = harness_run(SCENARIOS / "stream.yaml", work / f"stream-{i}", f"load.workers={workers}")
        if result.returncode != 0:
            raise RuntimeError(f"stream run exited {result.returncode}: {result.report.get('error')}")
        load = result.report["load"]
        stop = result.event("load.stop")
        if load["recorded"] != load["locust_requests"]:
            raise RuntimeError(f"records lost: {load['recorded']} recorded, Locust counted {load['locust_requests']}")
        worker_cpu = [w.get("cpu_s") for w in stop.get("workers") or []]
        runs.append({"workers": workers, "records": load["recorded"], "duration_s": load["duration_s"],
                     "records_per_s": round(load["recorded"] / load["duration_s"]),
                     "load_process_cpu_s": worker_cpu[0] if worker_cpu else stop.get("cpu_s"),
                     "master_cpu_s": stop.get("cpu_s") if worker_cpu else None, "run_id": result.report["run_id"]})
        (result.run_dir / "requests.tsv").unlink(missing_ok=True)  # ~1 M records: checked, not kept
        log(f"stream: workers={workers}: {runs[-1]['records_per_s']:,} records/s")
    rates = [r["records_per_s"] for r in runs]
    return [Row("record_stream_rps", statistics.median(rates), ">=", 20_000, "records/s", {"runs": runs},
                samples=rates)]
