"""``master_bind``: a worker the driver did not start (as on another machine: the same command,
spec and locustfile) joins the master and its records reach the driver like a local worker's."""

import json
import socket
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from harness.load import LoadDriver, LoadSpec

FIREHOSE = Path(__file__).with_name("firehose_locustfile.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_remote_worker_joins_through_master_bind_and_streams_its_records(tmp_path):
    port = free_port()
    spec = LoadSpec(host="http://127.0.0.1:9", users=2, spawn_rate=100, duration_s=2, think_time_s=(0, 0),
                    request_timeout_s=1, seed=1, locustfile=str(FIREHOSE), workers=0,
                    master_bind=f"127.0.0.1:{port}")
    remote_dir = tmp_path / "remote"
    remote_dir.mkdir()
    (remote_dir / "load.json").write_text(json.dumps(asdict(spec)))
    with (remote_dir / "worker.log").open("wb") as log:
        # started first: a Locust worker keeps retrying until the master listens
        remote = subprocess.Popen([sys.executable, "-m", "harness.load.worker", "--worker", f"127.0.0.1:{port}",
                                   str(remote_dir / "load.json")], stdout=log, stderr=log)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    driver = LoadDriver(spec, run_dir)
    try:
        driver.start()
        driver.wait(timeout_s=60)
        assert remote.wait(timeout=30) == 0  # the master told it to quit
    finally:
        driver.stop()
        remote.kill()
    assert driver.master == {"event": "master", "host": "127.0.0.1", "port": port}
    stopped = driver.stopped
    assert [w["index"] for w in stopped["workers"]] == [0]
    assert driver.stats.requests == stopped["locust_requests"] == stopped["workers"][0]["records"] > 0


def test_a_workers_record_count_leaves_out_its_ack_events(tmp_path):
    """Acknowledged writes travel in the records' batches as ``ack`` events: the worker's record
    count (``stopped.records``, what the analysis compares with ``recorded``) counts records only."""
    from .slow_server import SlowServer

    with SlowServer() as server:
        spec = LoadSpec(host=server.url, users=2, spawn_rate=100, duration_s=1.5, think_time_s=(0.02, 0.02),
                        request_timeout_s=2, seed=1, workers=1,
                        requests=[{"method": "GET", "path": "/json", "name": "w", "weight": 1, "ack_id": "id"}])
        driver = LoadDriver(spec, tmp_path)
        try:
            driver.start()
            driver.wait(timeout_s=60)
        finally:
            driver.stop()
    acked = (tmp_path / "acked.tsv").read_text().splitlines()
    stopped = driver.stopped
    assert len(acked) == driver.stats.requests > 10
    assert stopped["records"] == stopped["workers"][0]["records"] == stopped["locust_requests"] == driver.stats.requests
