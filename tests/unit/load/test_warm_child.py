"""A warm load child (harness.load.driver.WarmChild): spawned before its run is known, it is
adopted by the next driver and runs that run's spec, its Locust log in that run's directory; an
unadopted one ends without a request; a dead one is replaced by a new child."""

import time

from harness.load import LoadDriver, LoadSpec
from harness.load.driver import WarmChild
from tests.unit.load.test_driver import release_and_check


def real_spec() -> LoadSpec:
    """The real child against a closed port: every request is refused at once, so it records fast."""
    return LoadSpec(host="http://127.0.0.1:9", users=2, spawn_rate=100, duration_s=1.0, think_time_s=(0.01, 0.01),
                    request_timeout_s=1, seed=1, requests=[{"method": "GET", "path": "/", "name": "GET /", "weight": 1}])


def test_an_adopted_warm_child_runs_the_drivers_spec_and_logs_into_its_run(tmp_path):
    warm = WarmChild()
    warm_pid = warm.proc.pid
    time.sleep(2.0)  # it imports Locust meanwhile
    d = LoadDriver(real_spec(), tmp_path)
    d.spawn(warm)
    try:
        assert d.pid == warm_pid and warm.proc is None  # the same process, now the driver's
    except AssertionError:
        d.stop()
        raise
    release_and_check(d, tmp_path)
    assert "All users spawned" in (tmp_path / "locust.log").read_text()  # its stderr now goes to this run


def test_a_discarded_warm_child_exits_3_without_a_request(tmp_path):
    warm = WarmChild()
    proc = warm.proc
    warm.discard()
    assert proc.returncode == 3 and warm.proc is None
    warm.discard()  # idempotent


def test_a_dead_warm_child_is_replaced_by_a_new_child(tmp_path):
    warm = WarmChild()
    dead = warm.proc
    dead.kill()
    dead.wait()
    d = LoadDriver(real_spec(), tmp_path)
    d.spawn(warm)
    try:
        assert d.pid is not None and d.pid != dead.pid
        d.start()
        d.wait(timeout_s=30)
    finally:
        d.stop()
    assert d.stats.requests > 0
