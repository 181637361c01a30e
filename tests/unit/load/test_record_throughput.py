"""The record stream end to end with a real Locust child and no network: a locustfile fires
Locust's request event in a tight loop (firehose_locustfile.py). Every record arrives (count ==
Locust's own total), from one process and merged from two Locust workers, and the stream costs
little enough CPU to carry >= 20,000 records/s per worker.

Rates are judged per CPU second of the process doing the work (``cpu_s`` of the child or of
each worker, the reader thread's CPU time), not per wall second: the CI box is shared, so the
wall rate says more about the neighbours than about the stream. Both are printed.
"""

from pathlib import Path

import pytest

from harness.load import LoadDriver, LoadSpec

FIREHOSE = Path(__file__).with_name("firehose_locustfile.py")
MIN_RECORDS_PER_CPU_S = 20_000


def run_firehose(run_dir: Path, workers: int, users: int, duration_s: float = 3) -> LoadDriver:
    spec = LoadSpec(host="http://127.0.0.1:9", users=users, spawn_rate=100, duration_s=duration_s,
                    think_time_s=(0, 0), request_timeout_s=1, seed=1, locustfile=str(FIREHOSE), workers=workers)
    driver = LoadDriver(spec, run_dir)
    try:
        driver.start()
        driver.wait(timeout_s=60)
    finally:
        driver.stop()
    return driver


def test_one_process_streams_every_record_at_more_than_20k_per_cpu_second(tmp_path):
    d = run_firehose(tmp_path, workers=0, users=1)
    stopped = d.stopped
    recorded = d.stats.requests
    assert recorded == stopped["locust_requests"] == stopped["records"] > 0
    assert d.stats.errors == stopped["locust_failures"]  # every 20th failed, in both counts
    assert len((tmp_path / "requests.tsv").read_text().splitlines()) == recorded
    per_cpu = recorded / stopped["cpu_s"]
    print(f"local: {recorded} records, {recorded / 3:,.0f}/s wall, {per_cpu:,.0f}/CPU-s in the child "
          f"(Locust's stats included), {recorded / d.reader_cpu_s:,.0f}/CPU-s in the parent's reader")
    assert per_cpu >= MIN_RECORDS_PER_CPU_S
    assert recorded / d.reader_cpu_s >= MIN_RECORDS_PER_CPU_S


def test_two_workers_records_are_merged_completely_and_each_worker_streams_20k_per_cpu_second(tmp_path):
    d = run_firehose(tmp_path, workers=2, users=2)
    stopped = d.stopped
    recorded = d.stats.requests
    workers = stopped["workers"]
    assert recorded == stopped["locust_requests"] == stopped["records"] > 0
    assert len(workers) == 2 and stopped["missing_workers"] == []
    for w in workers:
        assert w["records"] == w["locust_requests"] > 0
        print(f"worker {w['index']}: {w['records']} records, {w['records'] / w['cpu_s']:,.0f}/CPU-s")
        assert w["records"] / w["cpu_s"] >= MIN_RECORDS_PER_CPU_S
    assert sum(w["records"] for w in workers) == recorded
    print(f"master merged {recorded} records at {recorded / stopped['cpu_s']:,.0f}/CPU-s; "
          f"wall {recorded / 3:,.0f}/s")
    assert recorded / stopped["cpu_s"] >= 2 * MIN_RECORDS_PER_CPU_S  # the master carries both


@pytest.mark.parametrize("workers", [0, 2])
def test_a_print_in_the_locustfile_does_not_corrupt_the_stream(tmp_path, workers):
    noisy = tmp_path / "noisy_locustfile.py"
    noisy.write_text(
        "from locust import User, constant, task\n"
        "import time\n"
        "print('hello from import', end='')\n"
        "class Noisy(User):\n"
        "    wait_time = constant(0.01)\n"
        "    @task\n"
        "    def t(self):\n"
        "        print('R\\tnot a record', end='')\n"
        "        self.environment.events.request.fire(request_type='GET', name='n', response_time=1.0,\n"
        "            response_length=1, response=None, context={}, exception=None, start_time=time.time())\n"
    )
    spec = LoadSpec(host="http://127.0.0.1:9", users=2, spawn_rate=100, duration_s=2, think_time_s=(0, 0),
                    request_timeout_s=1, seed=1, locustfile=str(noisy), workers=workers)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    d = LoadDriver(spec, run_dir)
    try:
        d.start()
        d.wait(timeout_s=60)
    finally:
        d.stop()
    assert d.garbage_lines == 0
    assert d.stats.requests == d.stopped["locust_requests"] > 0
    assert "not a record" in (run_dir / "locust.log").read_text()
