"""A live sample stack shared by the fault integration tests (one per test session).

The ``live`` fixture brings up the top-level docker-compose.yml (the sample shop) as a labelled
run project, creates the ``catalog`` and ``redis`` proxies, waits until healthy, and gives tests:

- ``live.fault(spec_dict, seed=1)``: a Fault built exactly as a scenario would build it;
- ``live.stack`` / ``live.toxiproxy``: the run's Stack and Toxiproxy client;
- ``live.ip(service)``: the first container's IP on the run network (the host can reach it);
- ``live.lb_url``: the load balancer's published loopback URL;
- ``live.wait_healthy()``: after a test that killed or paused something, wait until it is back.

Every test must leave the stack as it found it (revert, then ``wait_healthy``). At the end the
stack is brought down and the session fails if anything labelled with its run id remains.
"""

from __future__ import annotations

import random
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from harness.environment import Stack
from harness.faults import Fault, FaultContext, fault_for
from harness.journal import Journal
from harness.run import new_run_id
from harness.scenario.models import FaultEntry, Target
from harness.toxiproxy import ProxyConfig, ToxiproxyClient
from tests.conftest import REPO

PROXIES = [
    ProxyConfig("catalog", "0.0.0.0:18080", "catalog:8080"),
    ProxyConfig("redis", "0.0.0.0:16379", "redis:6379"),
]


@dataclass
class Live:
    """Handles on the running sample stack (see the module docstring)."""

    stack: Stack
    toxiproxy: ToxiproxyClient
    lb_url: str

    def fault(self, spec: dict, seed: int = 1) -> Fault:
        """Build the fault a scenario entry ``spec`` describes (``name`` defaults to ``t-<kind>``)."""
        spec = {"name": f"t-{spec['kind']}", "at_s": 0, "duration_s": 1, **spec}
        parsed = TypeAdapter(FaultEntry).validate_python(spec)
        ctx = FaultContext(toxiproxy=self.toxiproxy, containers=self.stack.containers, rng=random.Random(seed))
        return fault_for(parsed)(parsed, ctx)

    def container(self, service: str, index: int = 0) -> str:
        """Name of a running container of ``service``."""
        return sorted(self.stack.containers.running_containers(service))[index]

    def ip(self, service: str) -> str:
        """IP of ``service``'s first container on the run network."""
        return self.stack.containers.ips(self.container(service))[0]

    def wait_healthy(self, timeout_s: float = 90) -> None:
        """Wait until every container is running and healthy again."""
        self.stack.wait_healthy(timeout_s)


@pytest.fixture(scope="session")
def live(docker_engine, tmp_path_factory) -> Live:
    run_id = new_run_id()
    run_dir = tmp_path_factory.mktemp("live-stack")
    stack = Stack(Target(compose="docker-compose.yml", profile="resilient"), REPO, run_id, run_dir, Journal(run_dir))
    try:
        stack.up()
        port = stack.containers.published_port("toxiproxy", 8474)
        toxiproxy = ToxiproxyClient(f"http://127.0.0.1:{port}")
        toxiproxy.wait_ready(60)
        for proxy in PROXIES:
            toxiproxy.create_proxy(proxy)
        stack.wait_healthy(120)
        lb_url = f"http://127.0.0.1:{stack.containers.published_port('lb', 8080)}"
        yield Live(stack, toxiproxy, lb_url)
    finally:
        stack.down()
        left = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=harness.run-id={run_id}"],
                              capture_output=True, text=True, timeout=30).stdout.strip()
        assert left == "", f"containers left behind by the live stack: {left}"


def wait_until(predicate, timeout_s: float = 10, poll_s: float = 0.1):
    """Poll ``predicate()`` until it returns a truthy value; return it, or fail after timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll_s)
    pytest.fail(f"condition not met within {timeout_s} s")


__all__ = ["Live", "wait_until", "Path"]
