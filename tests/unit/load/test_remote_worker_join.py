"""``harness worker --master HOST:PORT``: a remote worker with no spec file and no locustfile of
its own fetches both from the run's master, joins, and its records reach the driver; the run
waits for the remote workers it asks for and says so when they do not come."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import EnvironmentFailure
from harness.load import LoadDriver, LoadSpec

from .in_child import json_from

FIREHOSE = Path(__file__).with_name("firehose_locustfile.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spec(port: int, **extra) -> LoadSpec:
    return LoadSpec(host="http://127.0.0.1:9", users=2, spawn_rate=100, duration_s=2, think_time_s=(0, 0),
                    request_timeout_s=1, seed=1, locustfile=str(FIREHOSE), master_bind=f"127.0.0.1:{port}", **extra)


def test_a_remote_worker_fetches_the_spec_and_locustfile_from_the_master_and_its_records_arrive(tmp_path):
    port = free_port()
    load = spec(port, workers=1, remote_workers=1, join_timeout_s=60)
    with (tmp_path / "worker.log").open("wb") as log:
        # started first, from another directory, with nothing but the master's address
        remote = subprocess.Popen([sys.executable, "-m", "harness", "worker", "--master", f"127.0.0.1:{port}",
                                   "--host", "http://127.0.0.1:9/", "--timeout-s", "60"],
                                  stdout=log, stderr=log, cwd=tmp_path)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    driver = LoadDriver(load, run_dir)
    try:
        driver.start()
        driver.wait(timeout_s=60)
        assert remote.wait(timeout=30) == 0, (tmp_path / "worker.log").read_text()[-2000:]
    finally:
        driver.stop()
        remote.kill()
    stopped = driver.stopped
    workers = {w["remote"]: w for w in stopped["workers"]}
    assert set(workers) == {True, False}  # one local, one remote
    assert workers[True]["records"] > 0 and workers[False]["records"] > 0
    assert workers[True]["hostname"] == socket.gethostname()
    assert driver.stats.requests == stopped["locust_requests"] == stopped["records"]
    assert stopped["lost_workers"] == []
    assert "joined 127.0.0.1:" in (tmp_path / "worker.log").read_text()


def test_the_run_says_how_many_remote_workers_came_when_they_do_not(tmp_path):
    load = spec(free_port(), workers=1, remote_workers=2, join_timeout_s=2)
    driver = LoadDriver(load, tmp_path)
    try:
        with pytest.raises(EnvironmentFailure, match=r"0 of 2 remote workers joined within 2 s"):
            driver.start()
    finally:
        driver.stop()


def test_a_worker_with_no_master_gives_up_with_exit_2_and_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "harness", "worker", "--master", f"127.0.0.1:{free_port()}",
                           "--timeout-s", "2"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("error: no harness master answered at 127.0.0.1:")
    assert "Traceback" not in proc.stderr


def test_the_spec_a_remote_worker_adopts_carries_the_locustfile_and_its_own_target(tmp_path):
    got = json_from("", f"""
        import json
        from pathlib import Path
        from harness.load.remote import NoSpec, adopt_spec, spec_for_remote
        answer = spec_for_remote({{"host": "http://127.0.0.1:8080", "users": 3, "locustfile": {str(FIREHOSE)!r}}})
        workdir = Path({str(tmp_path)!r})
        adopted = adopt_spec(answer, workdir, "http://10.0.0.7:8080/")
        kept = adopt_spec(spec_for_remote({{"host": "http://a:1", "users": 1}}), workdir, None)
        try:
            adopt_spec({{"users": 1}}, workdir, None)
            refused = None
        except NoSpec as exc:
            refused = str(exc)
        print(json.dumps({{"adopted": adopted, "kept": kept, "refused": refused,
                          "copied": Path(adopted["locustfile"]).read_text() == Path({str(FIREHOSE)!r}).read_text()}}))
    """)
    assert got["adopted"]["host"] == "http://10.0.0.7:8080"
    assert got["adopted"]["locustfile"] == str(tmp_path / FIREHOSE.name) and got["copied"]
    assert "locustfile_source" not in got["adopted"] and "master_clock_s" not in got["adopted"]
    assert got["kept"] == {"host": "http://a:1", "users": 1}
    assert got["refused"].startswith("the master's answer has no target URL")


def test_a_remote_worker_loads_the_target_its_host_reaches_not_the_masters_url(tmp_path):
    """The master's ``load.host`` may be loopback on its machine; ``--host`` is the target as the
    worker's host reaches it, and Locust's spawn message must not put the master's back."""
    from .slow_server import SlowServer

    port = free_port()
    load = LoadSpec(host="http://127.0.0.1:9", users=2, spawn_rate=100, duration_s=1.5, think_time_s=(0.02, 0.02),
                    request_timeout_s=2, seed=1, master_bind=f"127.0.0.1:{port}", remote_workers=1, join_timeout_s=60,
                    requests=[{"method": "GET", "path": "/json", "name": "r", "weight": 1}])
    with SlowServer() as server, (tmp_path / "worker.log").open("wb") as log:
        remote = subprocess.Popen([sys.executable, "-m", "harness", "worker", "--master", f"127.0.0.1:{port}",
                                   "--host", server.url, "--timeout-s", "60"], stdout=log, stderr=log)
        run_dir = tmp_path / "run"
        run_dir.mkdir()
        driver = LoadDriver(load, run_dir)
        try:
            driver.start()
            driver.wait(timeout_s=60)
            assert remote.wait(timeout=30) == 0
        finally:
            driver.stop()
            remote.kill()
    statuses = [line.split("\t")[3] for line in (run_dir / "requests.tsv").read_text().splitlines()]
    assert len(statuses) > 10 and set(statuses) == {"200"}, set(statuses)  # none refused at 127.0.0.1:9
