"""A user's locustfile: found relative to the scenario file wherever it lies (``../locust/x.py``)
and whatever the working directory, and its requests get the load's ``request_timeout_s`` like
the request mix's (HttpUser has no timeout at all by default, FastHttpUser 60 s), unless the
locustfile sets its own. A real child against a local target (slow_server.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.load import LoadDriver, LoadSpec, RequestRecord
from harness.scenario.models import Scenario

from .slow_server import SlowServer

REPO = Path(__file__).resolve().parents[3]


def write_project(root: Path, fast: bool) -> Path:
    """``root/scenarios/s.yaml``'s scenario whose locustfile is ``../locust/own.py``, which
    imports a module beside it; returns the scenario file's path."""
    (root / "scenarios").mkdir(parents=True)
    (root / "locust").mkdir()
    (root / "locust" / "own_paths.py").write_text('HANG = "/sleep/3"\n')
    base, module = ("FastHttpUser", "locust.contrib.fasthttp") if fast else ("HttpUser", "locust")
    (root / "locust" / "own.py").write_text(textwrap.dedent(f"""\
        from locust import constant, task
        from {module} import {base}
        from own_paths import HANG

        class Own({base}):
            wait_time = constant(0)

            @task
            def hang(self):
                self.client.get(HANG, name="hang")
        """))
    return root / "scenarios" / "s.yaml"


@pytest.mark.parametrize("fast", [False, True], ids=["HttpUser", "FastHttpUser"])
def test_a_sibling_locustfile_runs_from_another_directory_with_the_loads_timeout(tmp_path, monkeypatch, fast):
    scenario_file = write_project(tmp_path / "project", fast)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with SlowServer() as server:
        scenario = Scenario.model_validate({
            "name": "own", "proxies": [{"name": "p", "listen": "0.0.0.0:18080", "upstream": "x:1"}],
            "load": {"host": server.url, "users": 1, "spawn_rate": 10, "duration_s": 2, "think_time_s": [0, 0],
                     "request_timeout_s": 0.4, "locustfile": "../locust/own.py"},
            "expectations": ["error_rate < 1"], "source_path": scenario_file})
        load = scenario.load
        spec = LoadSpec(host=load.host, users=load.users, spawn_rate=load.spawn_rate, duration_s=load.duration_s,
                        think_time_s=load.think_time_s, request_timeout_s=load.request_timeout_s, seed=1,
                        # as harness.run passes it: resolved against the scenario's directory
                        locustfile=str((scenario.base_dir / load.locustfile).resolve()))
        run_dir = tmp_path / "run"
        run_dir.mkdir()
        driver = LoadDriver(spec, run_dir)
        try:
            driver.start()
            driver.wait(timeout_s=30)
        finally:
            driver.stop()
    records = [RequestRecord.decode(line) for line in (run_dir / "requests.tsv").read_text().splitlines(True)]
    # the target answers after 3 s; with the 0.4 s timeout each request gives up at about 0.4 s,
    # so the single user sends several in the 2 s and none waits for the answer
    assert len(records) >= 3, [(r.duration_ms, r.error) for r in records]
    assert all(r.error == "timeout" for r in records), [r.error for r in records]
    assert all(300 <= r.duration_ms <= 1500 for r in records), [r.duration_ms for r in records]
    assert driver.stopped["killed_in_flight"] == 0


PROBE = """
import json, sys
from locust import HttpUser, task
from locust.env import Environment
from locust.contrib.fasthttp import FastHttpUser
from harness.load.worker_users import apply_request_timeout

class Plain(HttpUser):
    host = "http://127.0.0.1:9"
    @task
    def t(self): pass

class Fast(FastHttpUser):
    host = "http://127.0.0.1:9"
    @task
    def t(self): pass

class OwnFast(FastHttpUser):
    host = "http://127.0.0.1:9"
    network_timeout = 7.0
    @task
    def t(self): pass

class Child(OwnFast):
    pass

users = [Plain, Fast, OwnFast, Child]
apply_request_timeout(users, 2.5)
apply_request_timeout(users, 9.0)  # twice: not wrapped twice, the first value stays
env = Environment(user_classes=users)
sent = []
def capture(self, method, url, **kwargs):
    sent.append(kwargs.get("timeout", "absent"))
from locust.clients import HttpSession
HttpSession.request = capture
plain2 = Plain(env)
plain2.client.get("/a")
plain2.client.request("GET", "/b", timeout=30)
plain2.client.get("/c", timeout=None)
json.dump({"sent": sent, "fast": [Fast.network_timeout, Fast.connection_timeout],
           "own": [OwnFast.network_timeout, OwnFast.connection_timeout],
           "child": [Child.network_timeout, Child.connection_timeout]}, sys.stdout)
"""


def test_apply_request_timeout_keeps_what_the_locustfile_sets():
    """In a child interpreter (importing Locust patches the process with gevent)."""
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["sent"] == [2.5, 30, None]  # a default where none is given; an explicit one kept
    assert got["fast"] == [2.5, 2.5]
    assert got["own"] == [7.0, 2.5] and got["child"] == [7.0, 2.5]
