"""The figures of docs/scale-out.md's sizing section, measured on this machine.

``python -m bench.scale_out_sizing [--out FILE]`` (from the repository root, with the
project's venv) prints one JSON document and writes it to ``--out`` when given. Not part of
``make bench``: it has no goal to hold, it sizes.

What it measures, each through the harness's own code (``harness.load.LoadDriver``, the same
child, master, workers, record stream and reader a ``harness run`` uses):

1. **requests/s per worker core**, ``client: fast`` (FastHttpUser) and ``client: requests``
   (HttpUser): ``load.workers: 1`` (a Locust master and one worker, the path a scaled-out load
   takes), 64 users, no think time, 10 s, against a static target on the host's loopback:
   HAProxy with one thread answering ``200 ok`` from memory (the image ``harness/shop-lb:0.1``,
   the configuration of ``bench/scenarios/compose/static-haproxy.cfg`` on port 18481, host
   networking; started with ``docker run`` and removed at the end). A worker's capacity is
   ``records / worker cpu_s`` (its own CPU accounting, the ``stopped`` event's ``workers``), so
   the target's and the neighbours' share of the 2 cores does not enter it. The two clients
   run in turns, RUNS times each.
2. **bytes per record line**: the real lines those runs wrote to requests.tsv, plus the 2-byte
   ``R\\t`` prefix they carry on the wire; and lines built with
   :func:`harness.load.records.encode_fields` for longer names and an error class. The Locust
   message around a batch (``harness_records``, msgpack) is measured by serialising one with
   ``locust.rpc.protocol.Message``.
3. **the master's cost per record**: a firehose run (``tests/unit/load/firehose_locustfile.py``:
   Locust request events in a loop, no network) with ``load.workers: 1`` and ``2``: the Locust
   master's ``cpu_s`` (it relays the batches) and the orchestrator's reader thread
   (``LoadDriver.reader_cpu_s``: :class:`harness.load.stream.StreamReader` parsing and writing
   requests.tsv) per record; and :meth:`StreamReader.feed` alone on the real record lines of
   part 1, 64 KiB chunks (the driver's READ_CHUNK_BYTES) into a file on disk, CPU time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from harness.load import LoadDriver, LoadSpec
from harness.load.driver import READ_CHUNK_BYTES
from harness.load.records import RECORD_PREFIX, encode_fields
from harness.load.stream import LiveStats, StreamReader

ROOT = Path(__file__).resolve().parent.parent
PORT = 18481
IMAGE = "harness/shop-lb:0.1"
FIREHOSE = ROOT / "tests" / "unit" / "load" / "firehose_locustfile.py"
RUNS = 3
DURATION_S = 10.0
HAPROXY_CFG = f"""global
    nbthread 1
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend static
    bind 127.0.0.1:{PORT}
    http-request return status 200 content-type text/plain string "ok"
"""


def log(text: str) -> None:
    print(f"[sizing] {text}", file=sys.stderr, flush=True)


def start_target(work: Path) -> str:
    cfg = work / "haproxy.cfg"
    cfg.write_text(HAPROXY_CFG)
    name = f"harness-sizing-static-{os.getpid()}"
    subprocess.run(["docker", "run", "-d", "--rm", "--name", name, "--network", "host", "--label", "harness.sizing=1",
                    "-v", f"{cfg}:/etc/haproxy/haproxy.cfg:ro",
                    IMAGE], check=True, capture_output=True)
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/", timeout=1) as r:
                if r.status == 200:
                    return name
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"static target on 127.0.0.1:{PORT} did not answer")


def run_load(run_dir: Path, **spec_fields) -> dict:
    run_dir.mkdir(parents=True)
    spec = LoadSpec(**{"users": 64, "spawn_rate": 1000, "duration_s": DURATION_S, "think_time_s": (0, 0),
                       "request_timeout_s": 5, "seed": 1, **spec_fields})
    driver = LoadDriver(spec, run_dir)
    try:
        driver.start()
        driver.wait(timeout_s=120)
    finally:
        driver.stop()
    stopped = driver.stopped or {}
    recorded = driver.stats.requests
    if recorded != stopped.get("locust_requests"):
        raise RuntimeError(f"records lost: {recorded} recorded, Locust counted {stopped.get('locust_requests')}")
    workers = stopped.get("workers") or []
    worker_cpu = sum(w["cpu_s"] for w in workers)
    return {"records": recorded, "errors": driver.stats.errors, "wall_rps": round(recorded / DURATION_S),
            "worker_cpu_s": [w["cpu_s"] for w in workers], "master_cpu_s": stopped.get("cpu_s"),
            "reader_cpu_s": round(driver.reader_cpu_s or 0.0, 3),
            "worker_us_per_request": round(1e6 * worker_cpu / recorded, 1),
            "rps_per_worker_core": round(recorded / worker_cpu),
            "master_us_per_record": round(1e6 * stopped["cpu_s"] / recorded, 3),
            "reader_us_per_record": round(1e6 * (driver.reader_cpu_s or 0.0) / recorded, 3)}


def per_core(work: Path) -> tuple[dict, Path]:
    runs: dict[str, list[dict]] = {"fast": [], "requests": []}
    for i in range(RUNS):
        for client in ("fast", "requests"):
            r = run_load(work / f"{client}-{i}", host=f"http://127.0.0.1:{PORT}", client=client, workers=1,
                         requests=[{"name": "GET /", "method": "GET", "path": "/", "weight": 1}])
            runs[client].append(r)
            log(f"{client} #{i}: {r['wall_rps']} req/s wall, {r['rps_per_worker_core']} req/s per worker CPU-s "
                f"({r['worker_us_per_request']} us/request), master {r['master_us_per_record']} us/record")
    summary = {c: {"runs": rs, "rps_per_worker_core_median": statistics.median(r["rps_per_worker_core"] for r in rs),
                   "rps_per_worker_core_range": [min(r["rps_per_worker_core"] for r in rs),
                                                 max(r["rps_per_worker_core"] for r in rs)]}
               for c, rs in runs.items()}
    return summary, work / "fast-0" / "requests.tsv"


def line_sizes(tsv: Path) -> dict:
    from locust.rpc.protocol import Message

    lines = tsv.read_text().splitlines(keepends=True)
    real = statistics.mean(len(RECORD_PREFIX) + len(line.encode()) for line in lines)
    start = time.time()
    built = {
        "GET / (200, 2 bytes)": encode_fields(start, 0.873, "GET /", 200, "", 2),
        "GET /products/{id} (200, 412 bytes)": encode_fields(start, 12.345, "GET /products/{id}", 200, "", 412),
        "POST /orders (timeout)": encode_fields(start, 10000.125, "POST /orders", 0, "timeout", 0),
        "GET /products/{id} (503)": encode_fields(start, 1502.5, "GET /products/{id}", 503, "http_503", 57),
    }
    built_sizes = {k: len(RECORD_PREFIX) + len(v.encode()) for k, v in built.items()}
    framing = {}
    for batch in (1, 50, 200, 1000):
        block = "".join(RECORD_PREFIX + lines[i % len(lines)] for i in range(batch))
        payload = Message("harness_records", {"n": batch, "lines": block}, "worker-host_0123456789abcdef").serialize()
        framing[batch] = {"lines_bytes": len(block.encode()), "message_bytes": len(payload),
                          "overhead_bytes": len(payload) - len(block.encode())}
    return {"real_lines": len(lines), "real_mean_bytes_on_wire": round(real, 1), "built_bytes_on_wire": built_sizes,
            "harness_records_message": framing}


def feed_rate(tsv: Path, work: Path, repeats: int = 5) -> dict:
    data = "".join(RECORD_PREFIX + line for line in tsv.read_text().splitlines(keepends=True)).encode()
    n = data.count(b"\n")
    rates = []
    for i in range(repeats):
        with (work / f"feed-{i}.tsv").open("w", encoding="utf-8") as sink:
            reader = StreamReader(sink, LiveStats(), lambda event: None)
            t0 = time.process_time()
            for j in range(0, len(data), READ_CHUNK_BYTES):
                reader.feed(data[j:j + READ_CHUNK_BYTES])
            reader.close()
            cpu = time.process_time() - t0
        assert reader.stats.requests == n
        rates.append(n / cpu)
        (work / f"feed-{i}.tsv").unlink()
    return {"records": n, "bytes": len(data), "records_per_cpu_s": [round(r) for r in rates],
            "median_records_per_cpu_s": round(statistics.median(rates)),
            "median_us_per_record": round(1e6 / statistics.median(rates), 3),
            "median_mb_per_cpu_s": round(statistics.median(rates) * len(data) / n / 1e6, 1)}


def firehose(work: Path) -> dict:
    out = {}
    for workers in (1, 2):
        r = run_load(work / f"firehose-{workers}", host="http://127.0.0.1:9", users=workers, spawn_rate=100,
                     locustfile=str(FIREHOSE), workers=workers)
        out[workers] = r
        log(f"firehose workers={workers}: {r['wall_rps']} records/s wall; master {r['master_us_per_record']} us/record, "
            f"reader {r['reader_us_per_record']} us/record, workers {r['worker_us_per_request']} us/record")
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result: dict = {"ran_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "nproc": os.cpu_count(),
                    "python": platform.python_version(), "loadavg_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="harness-sizing-") as tmp:
        work = Path(tmp)
        name = start_target(work)
        try:
            result["per_worker_core"], tsv = per_core(work)
        finally:
            subprocess.run(["docker", "stop", name], capture_output=True)
        result["record_line"] = line_sizes(tsv)
        result["stream_reader_feed"] = feed_rate(tsv, work)
        result["firehose"] = firehose(work)
    result["loadavg_after"] = os.getloadavg()
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
